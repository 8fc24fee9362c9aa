"""Layer norm and batch norm on 'cuda' (Triton): the GPU twins of ``kernels/numba/layer_norm.py``,
registered as ``nn._fused.LAYER_NORM['cuda']`` and ``BATCH_NORM['cuda']`` (interfaces in
``nn/_fused.py``). Both normalise groups of elements by their own statistics::

    xhat = (x - mean) * rstd,   rstd = 1 / sqrt(var + eps),   y = xhat * w + b
    dx   = rstd * (g - mean(g) - xhat * mean(g * xhat)),      g = dy * w
    dw   = sum of dy * xhat,                                   db = sum of dy

Layer norm's groups are rows (``w`` varies along a row; ``dw``/``db`` sum over rows); batch
norm's are channels, the (N, L) plane of channel c in an (N, C, L) view (``w`` one value a
channel; ``dw``/``db`` sum over the plane). Composed of tensor ops a forward is seven launches
(mean, difference, square, mean, rsqrt, normalise, affine) and a backward ten; here each is
one launch (layer norm's backward adds one reduction when several programs' parameter sums
are added up).

Memory pattern: a program owns ``BLOCK_G`` groups and sweeps their elements in tiles of
``BLOCK_E`` three times, as the Triton tutorial's layer norm: sums, squared deviations from
the mean, then the normalised values (the later sweeps re-read what the first brought into
cache). A row's elements are contiguous; a channel's are runs of L along n (the offset of
element j is (j // L) C L + c L + j % L), and an (N, C) input's channels are columns, which
a tile of many channels reads row by row. Batch norm runs one program per ``BLOCK_G``
channels, so few channels over many elements leave most of a GPU idle (a split of the planes
would need a second pass to merge). Layer norm's backward has ``P`` programs each take every
``P``-th block of rows and add the rows' parameter gradients into their own slice of a
(P, 2, n) buffer: no atomics, so deterministic; the host sums the P slices once. float32 and
float64, each computed in its own width (16-bit inputs reach nn's normalisation widened).
"""
from __future__ import annotations

import triton
import triton.language as tl

from ... import dtypes as dt
from ...backends.cuda_memory import interpreting
from ...backends.cuda_replay import replayable
from .launch import cdiv, cuda_backend as _backend, launch
from .scalars import float64_bits, from_float64_bits


@triton.jit
def _tile(g0, e0, G, L, count, ROWS: tl.constexpr, BLOCK_G: tl.constexpr, BLOCK_E: tl.constexpr):
    """Offsets and mask of groups g0 .. g0 + BLOCK_G - 1 and their elements e0 .. e0 +
    BLOCK_E - 1, with the groups' and elements' indices: ROWS, rows of ``count`` (= L)
    contiguous elements; else channel planes of an (N, G, L) tensor (``count`` = N L)."""
    gs = g0 + tl.arange(0, BLOCK_G).to(tl.int64)
    es = e0 + tl.arange(0, BLOCK_E).to(tl.int64)
    if ROWS:
        at = gs[:, None] * L + es[None, :]
    else:
        at = gs[:, None] * L + (es // L * G * L + es % L)[None, :]
    return at, (gs < G)[:, None] & (es < count)[None, :], gs, es


@triton.jit
def normalize_forward_kernel(x, weight, bias, y, xhat, mean_out, var_out, rstd, G, L, count, eps_bits,
                             HAS_WEIGHT: tl.constexpr, HAS_BIAS: tl.constexpr, ROWS: tl.constexpr,
                             BLOCK_G: tl.constexpr, BLOCK_E: tl.constexpr):
    """``xhat`` and ``rstd`` (one a group) of this program's groups, ``y`` when there is a
    weight or a bias (without either the caller's output is ``xhat`` itself), and for
    channels (not ROWS) the mean and biased variance too."""
    g0 = tl.program_id(0).to(tl.int64) * BLOCK_G
    total = tl.zeros([BLOCK_G, BLOCK_E], x.dtype.element_ty)
    for e0 in range(0, count, BLOCK_E):
        at, m, gs, es = _tile(g0, e0, G, L, count, ROWS, BLOCK_G, BLOCK_E)
        total += tl.load(x + at, mask=m, other=0)
    mean = tl.sum(total, 1) / count
    deviation = tl.zeros([BLOCK_G, BLOCK_E], x.dtype.element_ty)
    for e0 in range(0, count, BLOCK_E):
        at, m, gs, es = _tile(g0, e0, G, L, count, ROWS, BLOCK_G, BLOCK_E)
        d = tl.where(m, tl.load(x + at, mask=m, other=0) - mean[:, None], 0.0)
        deviation += d * d
    var = tl.sum(deviation, 1) / count
    r_std = 1.0 / tl.sqrt(var + from_float64_bits(eps_bits).to(x.dtype.element_ty))
    gs = g0 + tl.arange(0, BLOCK_G)
    tl.store(rstd + gs, r_std, mask=gs < G)
    if not ROWS:
        tl.store(mean_out + gs, mean, mask=gs < G)
        tl.store(var_out + gs, var, mask=gs < G)
    for e0 in range(0, count, BLOCK_E):
        at, m, gs, es = _tile(g0, e0, G, L, count, ROWS, BLOCK_G, BLOCK_E)
        h = (tl.load(x + at, mask=m, other=0) - mean[:, None]) * r_std[:, None]
        tl.store(xhat + at, h, mask=m)
        if ROWS:
            if HAS_WEIGHT:
                h = h * _row_parameter(weight, es, count)
            if HAS_BIAS:
                h = h + _row_parameter(bias, es, count)
        else:
            if HAS_WEIGHT:
                h = h * _channel_parameter(weight, gs, G)
            if HAS_BIAS:
                h = h + _channel_parameter(bias, gs, G)
        if HAS_WEIGHT or HAS_BIAS:
            tl.store(y + at, h, mask=m)


@triton.jit
def _row_parameter(p, es, count):
    """A layer norm weight or bias over the tile: one value an element of a row."""
    return tl.load(p + es, mask=es < count, other=0)[None, :]


@triton.jit
def _channel_parameter(p, gs, G):
    """A batch norm weight or bias over the tile: one value a channel."""
    return tl.load(p + gs, mask=gs < G, other=0)[:, None]


@triton.jit
def _input_grad(g, h, r_std, mean_g, mean_projected):
    """``dx`` of a tile from its ``g`` and ``xhat`` and its groups' statistics."""
    return r_std[:, None] * ((g - mean_g[:, None]) - h * mean_projected[:, None])


@triton.jit
def layer_norm_backward_kernel(grad, xhat, rstd, weight, grad_x, partials, rows, n, HAS_WEIGHT: tl.constexpr,
                               BLOCK_G: tl.constexpr, BLOCK_E: tl.constexpr):
    """Row blocks pid, pid + P, ... of the input gradient, and their sums of ``dy * xhat``
    and ``dy`` per column into this program's (2, n) slice of ``partials`` (zeroed here first)."""
    pid = tl.program_id(0)
    programs = tl.num_programs(0)
    weight_sums = partials + pid.to(tl.int64) * 2 * n
    bias_sums = weight_sums + n
    for e0 in range(0, n, BLOCK_E):
        cols = e0 + tl.arange(0, BLOCK_E)
        zero = tl.zeros([BLOCK_E], partials.dtype.element_ty)
        tl.store(weight_sums + cols, zero, mask=cols < n)
        tl.store(bias_sums + cols, zero, mask=cols < n)
    for g0 in range(pid * BLOCK_G, rows, programs * BLOCK_G):
        rs = g0 + tl.arange(0, BLOCK_G)
        g_total = tl.zeros([BLOCK_G, BLOCK_E], xhat.dtype.element_ty)
        g_projected = tl.zeros([BLOCK_G, BLOCK_E], xhat.dtype.element_ty)
        for e0 in range(0, n, BLOCK_E):
            at, m, _, cols = _tile(g0, e0, rows, n, n, True, BLOCK_G, BLOCK_E)
            g = tl.load(grad + at, mask=m, other=0)
            if HAS_WEIGHT:
                g = g * _row_parameter(weight, cols, n)
            g_total += g
            g_projected += g * tl.load(xhat + at, mask=m, other=0)
        mean_g = tl.sum(g_total, 1) / n
        mean_projected = tl.sum(g_projected, 1) / n
        r_std = tl.load(rstd + rs, mask=rs < rows, other=0)
        for e0 in range(0, n, BLOCK_E):
            at, m, _, cols = _tile(g0, e0, rows, n, n, True, BLOCK_G, BLOCK_E)
            dy = tl.load(grad + at, mask=m, other=0)
            g = dy
            if HAS_WEIGHT:
                g = g * _row_parameter(weight, cols, n)
            h = tl.load(xhat + at, mask=m, other=0)
            tl.store(grad_x + at, _input_grad(g, h, r_std, mean_g, mean_projected), mask=m)
            in_row = cols < n
            tl.store(weight_sums + cols, tl.load(weight_sums + cols, mask=in_row) + tl.sum(dy * h, 0),
                     mask=in_row)
            tl.store(bias_sums + cols, tl.load(bias_sums + cols, mask=in_row) + tl.sum(dy, 0), mask=in_row)


@triton.jit
def batch_norm_backward_kernel(grad, xhat, rstd, weight, grad_x, weight_grad, bias_grad, C, L, count,
                               HAS_WEIGHT: tl.constexpr, BLOCK_G: tl.constexpr, BLOCK_E: tl.constexpr):
    """This program's channels' ``sum(dy * xhat)`` and ``sum(dy)`` (their parameters'
    gradients, stored directly: no other program has these channels) and input gradient."""
    c0 = tl.program_id(0).to(tl.int64) * BLOCK_G
    total = tl.zeros([BLOCK_G, BLOCK_E], xhat.dtype.element_ty)
    projected = tl.zeros([BLOCK_G, BLOCK_E], xhat.dtype.element_ty)
    for e0 in range(0, count, BLOCK_E):
        at, m, cs, es = _tile(c0, e0, C, L, count, False, BLOCK_G, BLOCK_E)
        dy = tl.load(grad + at, mask=m, other=0)
        total += dy
        projected += dy * tl.load(xhat + at, mask=m, other=0)
    sum_dy = tl.sum(total, 1)
    sum_projected = tl.sum(projected, 1)
    cs = c0 + tl.arange(0, BLOCK_G)
    tl.store(weight_grad + cs, sum_projected, mask=cs < C)
    tl.store(bias_grad + cs, sum_dy, mask=cs < C)
    w = tl.full([BLOCK_G], 1, xhat.dtype.element_ty)
    if HAS_WEIGHT:
        w = tl.load(weight + cs, mask=cs < C, other=0)
    mean_g = sum_dy * w / count
    mean_projected = sum_projected * w / count
    r_std = tl.load(rstd + cs, mask=cs < C, other=0)
    for e0 in range(0, count, BLOCK_E):
        at, m, cs, es = _tile(c0, e0, C, L, count, False, BLOCK_G, BLOCK_E)
        g = tl.load(grad + at, mask=m, other=0) * w[:, None]
        h = tl.load(xhat + at, mask=m, other=0)
        tl.store(grad_x + at, _input_grad(g, h, r_std, mean_g, mean_projected), mask=m)


# ---------------------------------------------------------------- host side
def _tiles(groups, elements):
    """(BLOCK_G, BLOCK_E): a group's elements in as few tiles as fit, groups filling the
    rest of a tile of 4096 elements (the interpreter's is larger: a program is a Python
    iteration there)."""
    budget = 1 << 14 if interpreting() else 4096
    block_e = min(budget, triton.next_power_of_2(max(elements, 1)))
    return max(1, min(triton.next_power_of_2(groups), budget // block_e)), block_e


def _layer_norm_programs(row_blocks):
    """How many programs share layer norm's backward: enough to fill the GPU twice over
    (each adds a (2, n) slice for the host to sum); a few under the interpreter, so the
    slices' sum is exercised there too."""
    cap = 4 if interpreting() else 2 * _backend()._sm_count()
    return max(1, min(row_blocks, cap))


def _channels(x):
    """(C, L, N L) of batch norm's (N, C, L) view of ``x``."""
    channels = x._shape[1]
    plane = x.numel() // channels
    return channels, plane // x._shape[0], plane


@replayable
def _forward_into(x, weight, bias, y, xhat, mean, var, rstd, eps, groups, length, count, rows):
    pointer = _backend().pointer
    block_g, block_e = _tiles(groups, count)
    out = (pointer(y), pointer(xhat), pointer(mean if mean is not None else rstd),
           pointer(var if var is not None else rstd), pointer(rstd))
    launch(normalize_forward_kernel, (cdiv(groups, block_g),), pointer(x),
           pointer(weight if weight is not None else x), pointer(bias if bias is not None else x), *out,
           groups, length, count, float64_bits(eps), weight is not None, bias is not None, rows,
           block_g, block_e)


@replayable
def _layer_norm_backward_into(grad, xhat, rstd, weight, grad_x, partials):
    pointer = _backend().pointer
    rows = rstd.numel()
    n = xhat.numel() // rows
    block_g, block_e = _tiles(rows, n)
    launch(layer_norm_backward_kernel, (partials._shape[0],), pointer(grad), pointer(xhat), pointer(rstd),
           pointer(weight if weight is not None else xhat), pointer(grad_x), pointer(partials), rows, n,
           weight is not None, block_g, block_e)


@replayable
def _batch_norm_backward_into(grad, xhat, rstd, weight, grad_x, weight_grad, bias_grad):
    pointer = _backend().pointer
    channels, length, count = _channels(xhat)
    block_g, block_e = _tiles(channels, count)
    launch(batch_norm_backward_kernel, (cdiv(channels, block_g),), pointer(grad), pointer(xhat),
           pointer(rstd), pointer(weight if weight is not None else xhat), pointer(grad_x),
           pointer(weight_grad), pointer(bias_grad), channels, length, count, weight is not None,
           block_g, block_e)


class _Normalization:
    dtypes = (dt.float32, dt.float64)

    def accepts(self, x, weight, bias):
        return (x.dtype in self.dtypes and x.is_contiguous() and x.numel() > 0
                and all(p is None or (p.dtype is x.dtype and p.is_contiguous()) for p in (weight, bias)))

    @staticmethod
    def _outputs(x, weight, bias, stats_shape):
        """(y, xhat, rstd) to fill: ``y`` is ``xhat`` without weight and bias."""
        be, device = _backend(), x._storage.device
        xhat = be.empty(x._shape, x.dtype, device)
        y = be.empty(x._shape, x.dtype, device) if weight is not None or bias is not None else xhat
        return y, xhat, be.empty(stats_shape, x.dtype, device)


class LayerNorm(_Normalization):
    """``nn._fused.LAYER_NORM['cuda']``: layer norm over the trailing dims of a contiguous
    float32/float64 input, its statistics computed from it."""

    def forward(self, x, weight, bias, eps, stat_dims):
        """``(y, xhat, rstd)``, ``rstd`` keeping the statistics dims as 1s."""
        kept = tuple(x._shape[:x.dim() - stat_dims])
        y, xhat, rstd = self._outputs(x, weight, bias, kept + (1,) * stat_dims)
        rows = rstd.numel()
        n = x.numel() // rows
        _forward_into(x, weight, bias, y, xhat, None, None, rstd, eps, rows, n, n, True)
        return y, xhat, rstd

    def backward(self, grad, xhat, rstd, weight):
        """``(grad_x, grad_weight, grad_bias)``, the parameters' gradients flat."""
        be, device = _backend(), xhat._storage.device
        rows = rstd.numel()
        n = xhat.numel() // rows
        grad_x = be.empty(xhat._shape, xhat.dtype, device)
        programs = _layer_norm_programs(cdiv(rows, _tiles(rows, n)[0]))
        partials = be.empty((programs, 2, n), xhat.dtype, device)
        _layer_norm_backward_into(grad.contiguous(), xhat, rstd, weight, grad_x, partials)
        sums = partials[0] if programs == 1 else partials.sum(0)
        return grad_x, sums[0], sums[1]


class BatchNorm(_Normalization):
    """``nn._fused.BATCH_NORM['cuda']``: batch norm in training (statistics over every dim
    but 1) of a contiguous float32/float64 input."""

    def forward(self, x, weight, bias, eps):
        """``(y, xhat, rstd, mean, var)``: ``rstd`` shaped (1, C, 1, ...); ``mean`` and the
        biased ``var`` flat, one a channel."""
        be, device = _backend(), x._storage.device
        channels, length, count = _channels(x)
        y, xhat, rstd = self._outputs(x, weight, bias, (1, channels) + (1,) * (x.dim() - 2))
        mean, var = be.empty((channels,), x.dtype, device), be.empty((channels,), x.dtype, device)
        _forward_into(x, weight, bias, y, xhat, mean, var, rstd, eps, channels, length, count, False)
        return y, xhat, rstd, mean, var

    def backward(self, grad, xhat, rstd, weight):
        """``(grad_x, grad_weight, grad_bias)``, the parameters' gradients flat."""
        be, device = _backend(), xhat._storage.device
        channels = xhat._shape[1]
        grad_x = be.empty(xhat._shape, xhat.dtype, device)
        weight_grad, bias_grad = (be.empty((channels,), xhat.dtype, device) for _ in range(2))
        _batch_norm_backward_into(grad.contiguous(), xhat, rstd, weight, grad_x, weight_grad, bias_grad)
        return grad_x, weight_grad, bias_grad
