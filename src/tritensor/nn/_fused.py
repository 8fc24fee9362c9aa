"""Fused kernels the nn layer can use, looked up by device type.

``CROSS_ENTROPY[device_type]`` is an object with ``forward(x, target, weight, ignore_index,
eps, reduction) -> (loss, total, lse)`` and ``backward(x, target, weight, ignore_index, eps,
lse, g, total_weight, total) -> grad_x`` over a 2-d ``x`` (rows = samples) of one of its ``dtypes``
(the caller widens others to float32). ``GRAD_NORM[device_type]`` offers ``accepts(tensors)``,
``total_norm(tensors, p, max_norm=None)`` (the norm, and with ``max_norm`` the clip coefficient
too) and ``scale_(tensors, coef)`` (``coef`` a 0-d tensor).
``loss`` is already reduced (per-row losses for ``'none'``, else a 0-d tensor), ``total``
the 0-d sum of the rows' target weights for ``'mean'`` (else None); ``g`` is the gradient
of the returned loss, per row or one 0-d value for all rows, which ``backward`` divides by
``total`` for ``'mean'`` (one op less per step). Reducing inside the kernel's
call saves the two reduction ops (and their dispatch) of every training step.
``LSTM_CELL[device_type]`` runs one LSTM step as one node (see its definition at the end).
A device without an entry uses the composed tensor-op path, so a GPU backend can register
its own kernel here without touching ``nn``.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes as _dt
from ..backends import cpu
from ..kernels.numba import cross_entropy as ce_kernels, gru as gru_kernels, lstm as lstm_kernels
from ..kernels.numba import pool as pool_kernels, resample as resample_kernels

CROSS_ENTROPY = {}


def _parallel_rows(x):
    """Rows of ``x`` worth a second thread: an exp per element, so a quarter of the
    elementwise threshold (a batch of 128 x 10 logits stays on one thread)."""
    return max(1, cpu.PARALLEL_MIN_ELEMENTS // 4 // max(1, x.shape[1]))


def _zero_dim(value, dtype):
    t = cpu.empty((), dtype)
    t._flat[0] = value
    return t


def _quotient(a, b):
    """``a / b`` of numpy scalars, inf or nan for b == 0 as the tensor op gives, without a warning."""
    if b:
        return a / b
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / b


class _CpuCrossEntropy:
    """Numba kernels of ``kernels/numba/cross_entropy.py`` run over row chunks on the CPU pool.
    A training step calls it twice, so the host side keeps to a few kernel calls."""

    dtypes = (_dt.float32, _dt.float64)  # logits the kernel reads; others are widened to float32

    @staticmethod
    def _arrays(x, target, weight):
        # without weights the kernel gets a dummy it never reads (empty for an empty batch)
        xa = cpu.ndarray(x)
        w = cpu.ndarray(weight) if weight is not None else xa[:1, :1].reshape(-1)
        return xa, cpu.ndarray(target), w

    def forward(self, x, target, weight, ignore_index, eps, reduction):
        xa, ta, wa = self._arrays(x, target, weight)
        bad = ce_kernels.check_targets(ta, xa.shape[1], ignore_index)
        if bad >= 0:
            raise IndexError(f"Target {int(ta[bad])} is out of bounds.")
        n = xa.shape[0]
        loss, lse = cpu.empty((n,), x.dtype), cpu.empty((n,), x.dtype)
        la, lsa, rwa = loss._flat, lse._flat, np.empty(n, xa.dtype)
        use_weight = weight is not None
        chunks = cpu.parallel_chunks(n, minimum=_parallel_rows(xa))
        if len(chunks) == 1:
            ce_kernels.forward_rows(xa, ta, wa, use_weight, ignore_index, eps, 0, n, la, rwa, lsa)
        else:
            cpu.run_chunks(lambda lo, hi: ce_kernels.forward_rows(xa, ta, wa, use_weight, ignore_index, eps,
                                                                  lo, hi, la, rwa, lsa), chunks)
        if reduction == "none":
            return loss, None, lse
        value, total = ce_kernels.reduced_sums(la, rwa)  # float64 accumulation, as the sum op does
        if reduction == "sum":
            return _zero_dim(value, x.dtype), None, lse
        mean = value / total if total else math.nan  # all rows ignored: 0/0 = nan, like torch
        return _zero_dim(mean, x.dtype), _zero_dim(total, x.dtype), lse

    def backward(self, x, target, weight, ignore_index, eps, lse, g, total_weight, total):
        xa, ta, wa = self._arrays(x, target, weight)
        out = cpu.empty(x._shape, x.dtype)
        oa, la = cpu.ndarray(out), cpu.ndarray(lse)
        ga = cpu.flat_of(g)
        if ga is False:
            ga = cpu.ndarray(g.contiguous()).reshape(-1)
        if g.dim() == 0:  # one gradient for every row (a reduced loss), over the mean's total
            ga = np.full(xa.shape[0], ga[0] if total is None else _quotient(ga[0], total._flat[0]))
        use_weight = weight is not None
        chunks = cpu.parallel_chunks(xa.shape[0], minimum=_parallel_rows(xa))
        if len(chunks) == 1:
            ce_kernels.backward_rows(xa, ta, wa, use_weight, ignore_index, eps, la, ga, total_weight,
                                     0, xa.shape[0], oa)
        else:
            cpu.run_chunks(lambda lo, hi: ce_kernels.backward_rows(
                xa, ta, wa, use_weight, ignore_index, eps, la, ga, total_weight, lo, hi, oa), chunks)
        return out


CROSS_ENTROPY["cpu"] = _CpuCrossEntropy()
FUSED_DTYPES = (_dt.float32, _dt.float64)


class _CpuGradNorm:
    """``kernels/numba/grad_norm.py`` over all gradients at once: one pass to get the norm,
    one to scale. Takes same-dtype (float32/float64) contiguous CPU tensors only."""

    BLOCK = 1 << 16

    def accepts(self, tensors):
        dtype = tensors[0].dtype
        return dtype in FUSED_DTYPES and all(
            t.dtype is dtype and t.device.type == "cpu" and t.is_contiguous() for t in tensors)

    def _table(self, tensors):
        addrs = np.array([t.data_ptr() for t in tensors], np.int64)
        sizes = np.array([t.numel() for t in tensors], np.int64)
        work = np.array([(i, lo, min(lo + self.BLOCK, n)) for i, n in enumerate(sizes.tolist())
                         for lo in range(0, n, self.BLOCK)], np.int64).reshape(-1, 3)
        like = np.empty(0, tensors[0].dtype.storage_np)
        return addrs, sizes, work, like

    def _run(self, fn, work):
        cpu.run_chunks(fn, cpu.parallel_chunks(work.shape[0], minimum=2))

    def total_norm(self, tensors, norm_type, max_norm=None):
        """The joint ``norm_type``-norm as a 0-d tensor of the gradients' dtype; with ``max_norm``
        also the clip coefficient ``min(max_norm / (norm + 1e-6), 1)``, rounded as torch's ops
        round it in that dtype (NaN stays NaN)."""
        from .. import ops
        from ..kernels.numba import grad_norm as k
        addrs, sizes, work, like = self._table(tensors)
        kind = (k.MAX_ABS if math.isinf(norm_type) else k.SUM_SQUARES if norm_type == 2 else
                k.SUM_ABS if norm_type == 1 else k.SUM_POW)
        partials = np.zeros(work.shape[0], np.float64)
        self._run(lambda a, b: k.partial_norms(addrs, sizes, work[a:b], kind, float(norm_type), like,
                                               partials[a:b]), work)
        if kind == k.MAX_ABS:
            total = partials.max() if not np.isnan(partials).any() else np.nan
        else:
            total = partials.sum() ** (1.0 / norm_type) if norm_type != 0 else partials.sum()
        dtype = tensors[0].dtype
        result = ops.tensor(total, dtype=dtype)
        if max_norm is None:
            return result
        real = dtype.storage_np.type  # torch: (norm + 1e-6).reciprocal() * max_norm, clamp_max(1)
        coef = (real(1.0) / (real(total) + real(1e-6))) * real(max_norm)
        return result, ops.tensor(real(1.0) if coef > 1 else coef, dtype=dtype)

    def scale_(self, tensors, coef):
        """Multiply every gradient by ``coef`` (a 0-d tensor; its value rounded to their dtype)."""
        from ..kernels.numba import grad_norm as k
        addrs, sizes, work, like = self._table(tensors)
        coef = like.dtype.type(float(coef))
        self._run(lambda a, b: k.scale(addrs, sizes, work[a:b], coef, like), work)


GRAD_NORM = {"cpu": _CpuGradNorm()}


class _CpuRecurrentCell:
    """What the CPU's recurrent-cell kernels share: their dtypes and how their rows (one per
    sequence in the batch) are dealt out to threads."""

    dtypes = FUSED_DTYPES
    #: (batch x hidden) elements worth a second thread: the forward evaluates exp-based
    #: functions per element (~4 ns in float32), the backward only multiplies (~0.7 ns). Two
    #: threads measured faster from 2^15 (forward) and 2^17 (backward) float32 elements
    FORWARD_MIN_ELEMENTS = cpu.PARALLEL_MIN_ELEMENTS // 16
    BACKWARD_MIN_ELEMENTS = cpu.PARALLEL_MIN_ELEMENTS // 4

    @staticmethod
    def _run_rows(kernel, rows, hidden, min_elements):
        """Call ``kernel(lo, hi)`` over all rows, split across the CPU pool for big batches."""
        cpu.run_chunks(kernel, cpu.parallel_chunks(rows, minimum=max(1, min_elements // hidden)))


class _CpuLstmCell(_CpuRecurrentCell):
    """``kernels/numba/lstm.py``: one LSTM step's gates and state update in one pass over the
    rows, and its gradients from the saved activations in another (``LSTM_CELL`` below).
    Takes contiguous-row ``gates`` (B, 4H) and ``c_prev`` (B, H) of one of ``dtypes``."""

    def forward(self, gates, c_prev):
        """``(h, c, activations)``; ``activations`` (B, 5H) is what ``backward`` reads."""
        rows, hidden = c_prev._shape
        h, c = cpu.empty(c_prev._shape, c_prev.dtype), cpu.empty(c_prev._shape, c_prev.dtype)
        saved = cpu.empty((rows, lstm_kernels.SAVED_BLOCKS * hidden), c_prev.dtype)
        za, cpa = cpu.ndarray(gates.contiguous()), cpu.ndarray(c_prev.contiguous())
        ha, ca, sa = cpu.ndarray(h), cpu.ndarray(c), cpu.ndarray(saved)
        self._run_rows(lambda lo, hi: lstm_kernels.forward_rows(za, cpa, lo, hi, ha, ca, sa), rows, hidden,
                       self.FORWARD_MIN_ELEMENTS)
        return h, c, saved

    def backward(self, activations, c_prev, grad_h, grad_c):
        """``(grad_gates, grad_c_prev)`` from the gradients of ``h`` and ``c``, either of
        which may be None (zero); not both."""
        rows, hidden = c_prev._shape
        gh = cpu.ndarray((grad_h if grad_h is not None else grad_c).contiguous())
        gc = cpu.ndarray((grad_c if grad_c is not None else grad_h).contiguous())
        grad_gates = cpu.empty((rows, 4 * hidden), c_prev.dtype)
        grad_c_prev = cpu.empty(c_prev._shape, c_prev.dtype)
        sa, cpa = cpu.ndarray(activations), cpu.ndarray(c_prev.contiguous())
        dza, dca = cpu.ndarray(grad_gates), cpu.ndarray(grad_c_prev)
        use_h, use_c = grad_h is not None, grad_c is not None
        self._run_rows(
            lambda lo, hi: lstm_kernels.backward_rows(sa, cpa, gh, gc, use_h, use_c, lo, hi, dza, dca),
            rows, hidden, self.BACKWARD_MIN_ELEMENTS)
        return grad_gates, grad_c_prev


#: ``LSTM_CELL[device_type]``: ``dtypes``, ``forward(gates, c_prev) -> (h, c, activations)`` and
#: ``backward(activations, c_prev, grad_h, grad_c) -> (grad_gates, grad_c_prev)`` for one LSTM
#: step (torch's gate order i, f, g, o in column blocks); devices without an entry compose it
LSTM_CELL = {"cpu": _CpuLstmCell()}


class _CpuGruCell(_CpuRecurrentCell):
    """``kernels/numba/gru.py``: one GRU step from the input and hidden projections ``x``, ``y``
    (B, 3H, contiguous rows) and the state ``h`` (B, H), and its gradients (``GRU_CELL``)."""

    def forward(self, x, y, h):
        """``(h_new, activations)``; ``activations`` (B, 3H) is what ``backward`` reads."""
        rows, hidden = h._shape
        out = cpu.empty(h._shape, h.dtype)
        saved = cpu.empty((rows, gru_kernels.SAVED_BLOCKS * hidden), h.dtype)
        xa, ya, ha = (cpu.ndarray(t.contiguous()) for t in (x, y, h))
        oa, sa = cpu.ndarray(out), cpu.ndarray(saved)
        self._run_rows(lambda lo, hi: gru_kernels.forward_rows(xa, ya, ha, lo, hi, oa, sa), rows, hidden,
                       self.FORWARD_MIN_ELEMENTS)
        return out, saved

    def backward(self, activations, y, h, grad):
        """``(grad_x, grad_y, grad_h)`` from the gradient of the new state."""
        rows, hidden = h._shape
        grad_x, grad_y = cpu.empty(y._shape, h.dtype), cpu.empty(y._shape, h.dtype)
        grad_h = cpu.empty(h._shape, h.dtype)
        sa, ya, ha, da = (cpu.ndarray(t.contiguous()) for t in (activations, y, h, grad))
        gxa, gya, gha = cpu.ndarray(grad_x), cpu.ndarray(grad_y), cpu.ndarray(grad_h)
        self._run_rows(lambda lo, hi: gru_kernels.backward_rows(sa, ya, ha, da, lo, hi, gxa, gya, gha),
                       rows, hidden, self.BACKWARD_MIN_ELEMENTS)
        return grad_x, grad_y, grad_h


#: ``GRU_CELL[device_type]``: ``dtypes``, ``forward(x, y, h) -> (h_new, activations)`` and
#: ``backward(activations, y, h, grad) -> (grad_x, grad_y, grad_h)`` for one GRU step (torch's
#: gate order r, z, n); devices without an entry compose it
GRU_CELL = {"cpu": _CpuGruCell()}


class _CpuCol2Im:
    """``kernels/numba/col2im.py``: col2im of float32/float64 columns (N, C, *kernel, *out) of
    any strides into a new contiguous (N, C, *size) tensor, in one pass instead of one strided
    ``add_`` per kernel offset (same order of adds, so the same rounding)."""

    dtypes = FUSED_DTYPES

    def __call__(self, cols, geo):
        from ..kernels.numba import col2im as kernels
        n_spatial = len(geo.kernel)
        batch, channels = cols._shape[:2]
        lift = (1,) * (3 - n_spatial)  # 1-d and 2-d windows as 3-d ones with unit dims
        out = cpu.empty((batch, channels) + tuple(geo.size), cols.dtype)
        out._flat[:] = 0
        oa = cpu.ndarray(out).reshape((batch, channels) + lift + tuple(geo.size))
        ca = cpu.ndarray(cols).reshape((batch, channels) + lift + tuple(geo.kernel) + lift + tuple(geo.out))
        dilation, stride = lift + tuple(geo.dilation), lift + tuple(geo.stride)
        pad = (0,) * (3 - n_spatial) + tuple(lo for lo, _ in geo.pads)
        per_plane = max(1, cols.numel() // max(1, batch * channels))
        chunks = cpu.parallel_chunks(batch * channels, minimum=max(1, cpu.PARALLEL_MIN_ELEMENTS // per_plane))
        cpu.run_chunks(lambda lo, hi: kernels.col2im_planes(ca, oa, dilation, stride, pad, lo, hi), chunks)
        return out


#: ``COL2IM[device_type]``: ``dtypes`` and ``(cols, geo) -> tensor``, nn/_conv.py's col2im in one
#: kernel; devices without an entry (and other dtypes) compose it of strided adds
COL2IM = {"cpu": _CpuCol2Im()}


class _CpuLayerNorm:
    """``kernels/numba/layer_norm.py``: layer norm over the trailing dims of a contiguous
    float32/float64 ``x`` with statistics computed from it, rows split across threads."""

    dtypes = FUSED_DTYPES

    def accepts(self, x, weight, bias):
        return (x.dtype in self.dtypes and x.is_contiguous() and x.numel() > 0
                and all(p is None or (p.dtype is x.dtype and p.is_contiguous()) for p in (weight, bias)))

    def forward(self, x, weight, bias, eps, stat_dims):
        """``(y, xhat, rstd)``; ``y`` is ``xhat`` without weight and bias; ``rstd`` keeps the
        statistics dims as 1s."""
        from ..kernels.numba import layer_norm as kernels
        n = math.prod(x._shape[len(x._shape) - stat_dims:])
        rows = x.numel() // n
        keep = tuple(x._shape[:len(x._shape) - stat_dims]) + (1,) * stat_dims
        xhat = cpu.empty(x._shape, x.dtype)
        affine = weight is not None or bias is not None
        y = cpu.empty(x._shape, x.dtype) if affine else xhat
        rstd = cpu.empty(keep, x.dtype)
        none = np.empty(0, x.dtype.storage_np)
        xa, ha, ya = (cpu.ndarray(t).reshape(rows, n) for t in (x, xhat, y))
        wa, ba = (none if p is None else cpu.ndarray(p).reshape(-1) for p in (weight, bias))
        ra = cpu.ndarray(rstd).reshape(-1)
        cpu.run_chunks(lambda lo, hi: kernels.forward_rows(xa, wa, ba, eps, ya, ha, ra, lo, hi),
                       cpu.parallel_chunks(rows, minimum=max(1, cpu.PARALLEL_MIN_ELEMENTS // n)))
        return y, xhat, rstd

    def backward(self, grad, xhat, rstd, weight):
        """``(grad_x, grad_weight, grad_bias)`` of the forward above, with ``grad`` shaped like
        ``xhat``; the parameters' gradients flat, in ``xhat``'s dtype. One pass over the rows
        (the composed backward made ten); each thread sums its rows' parameter gradients in
        float64, merged at the end."""
        from ..kernels.numba import layer_norm as kernels
        n = xhat.numel() // rstd.numel()
        rows = xhat.numel() // n
        grad = grad.contiguous()
        grad_x = cpu.empty(xhat._shape, xhat.dtype)
        ga, ha, gxa = (cpu.ndarray(t).reshape(rows, n) for t in (grad, xhat, grad_x))
        wa = np.empty(0, xhat.dtype.storage_np) if weight is None else cpu.ndarray(weight).reshape(-1)
        ra = cpu.ndarray(rstd).reshape(-1)
        chunks = cpu.parallel_chunks(rows, minimum=max(1, cpu.PARALLEL_MIN_ELEMENTS // (2 * n)))
        sums = np.zeros((len(chunks), 2, n))
        slot = {lo: i for i, (lo, _) in enumerate(chunks)}
        cpu.run_chunks(lambda lo, hi: kernels.backward_rows(ga, ha, ra, wa, gxa, sums[slot[lo], 0],
                                                            sums[slot[lo], 1], lo, hi), chunks)
        weight_grad, bias_grad = (cpu.adopt(part.astype(xhat.dtype.storage_np), xhat.dtype)
                                  for part in sums.sum(0))
        return grad_x, weight_grad, bias_grad


class _CpuBatchNorm:
    """``kernels/numba/layer_norm.py``'s batch kernels: batch norm in training (statistics
    over every dim but 1) of a contiguous float32/float64 ``x``, threads splitting the
    channels; an (N, C) input by row sweeps over its columns."""

    dtypes = FUSED_DTYPES
    accepts = _CpuLayerNorm.accepts

    @staticmethod
    def _channels(x):
        """(N, C, L) numpy view of contiguous ``x`` ((N, C) for a 2-D one: its channels are
        columns), and thread chunks over C."""
        channels = x._shape[1]
        view = cpu.ndarray(x).reshape(x._shape[0], channels, -1) if x.dim() > 2 else cpu.ndarray(x)
        per_channel = x.numel() // max(1, channels)
        minimum = max(1, cpu.PARALLEL_MIN_ELEMENTS // max(1, per_channel))
        return view, cpu.parallel_chunks(channels, minimum=minimum)

    def forward(self, x, weight, bias, eps):
        """``(y, xhat, rstd, mean, var)``: ``y`` is ``xhat`` without weight and bias; ``rstd``
        shaped (1, C, 1, ...); ``mean`` and the biased ``var`` flat, one a channel."""
        from ..kernels.numba import layer_norm as kernels
        channels = x._shape[1]
        xhat = cpu.empty(x._shape, x.dtype)
        affine = weight is not None or bias is not None
        y = cpu.empty(x._shape, x.dtype) if affine else xhat
        rstd = cpu.empty((1, channels) + (1,) * (x.dim() - 2), x.dtype)
        mean, var = cpu.empty((channels,), x.dtype), cpu.empty((channels,), x.dtype)
        none = np.empty(0, x.dtype.storage_np)
        xa, chunks = self._channels(x)
        ha, ya = (cpu.ndarray(t).reshape(xa.shape) for t in (xhat, y))
        wa, ba = (none if p is None else cpu.ndarray(p).reshape(-1) for p in (weight, bias))
        ma, va, ra = (cpu.ndarray(t).reshape(-1) for t in (mean, var, rstd))
        kernel = kernels.batch_forward if x.dim() > 2 else kernels.batch_forward_columns
        cpu.run_chunks(lambda lo, hi: kernel(xa, wa, ba, eps, ya, ha, ma, va, ra, lo, hi), chunks)
        return y, xhat, rstd, mean, var

    def backward(self, grad, xhat, rstd, weight):
        """``(grad_x, grad_weight, grad_bias)``, the parameters' gradients flat."""
        from ..kernels.numba import layer_norm as kernels
        channels = xhat._shape[1]
        grad = grad.contiguous()
        grad_x = cpu.empty(xhat._shape, xhat.dtype)
        weight_grad, bias_grad = cpu.empty((channels,), xhat.dtype), cpu.empty((channels,), xhat.dtype)
        ha, chunks = self._channels(xhat)
        ga, gxa = (cpu.ndarray(t).reshape(ha.shape) for t in (grad, grad_x))
        wa = np.empty(0, xhat.dtype.storage_np) if weight is None else cpu.ndarray(weight).reshape(-1)
        ra, wga, bga = (cpu.ndarray(t).reshape(-1) for t in (rstd, weight_grad, bias_grad))
        kernel = kernels.batch_backward if xhat.dim() > 2 else kernels.batch_backward_columns
        cpu.run_chunks(lambda lo, hi: kernel(ga, ha, ra, wa, gxa, wga, bga, lo, hi), chunks)
        return grad_x, weight_grad, bias_grad


#: ``BATCH_NORM[device_type]``: as ``LAYER_NORM`` for statistics over every dim but 1, with
#: ``forward(x, weight, bias, eps) -> (y, xhat, rstd, mean, var)``
BATCH_NORM = {"cpu": _CpuBatchNorm()}


#: ``LAYER_NORM[device_type]``: ``accepts(x, weight, bias)``, ``forward(x, weight, bias, eps,
#: stat_dims) -> (y, xhat, rstd)``, layer norm over the trailing ``stat_dims`` dims in one
#: kernel, and ``backward(grad, xhat, rstd, weight) -> (grad_x, grad_weight, grad_bias)``;
#: devices without an entry (and other inputs) compose them of tensor ops
LAYER_NORM = {"cpu": _CpuLayerNorm()}


class _CpuMaxPool:
    """``kernels/numba/pool.py``: a max pool's values and flat indices in one pass over
    float32/float64 planes (N x C of any spatial rank up to 3), and its backward's scatter,
    instead of a window copy, a max, a gather and a scatter_add."""

    dtypes = FUSED_DTYPES

    def forward(self, x, geo):
        """``(values, indices)`` of ``x`` (N, C, *size) or (C, *size)."""
        _, dilation, _, _, size, out, bounds = pool_kernels.window_plan(geo)
        lead = tuple(x._shape[:-len(geo.kernel)])
        planes = math.prod(lead)
        values = cpu.empty(lead + tuple(geo.out), x.dtype)
        indices = cpu.empty(lead + tuple(geo.out), _dt.int64)
        xa = cpu.ndarray(x.contiguous()).reshape((planes,) + size)
        va, ia = cpu.ndarray(values).reshape((planes,) + out), cpu.ndarray(indices).reshape((planes,) + out)
        per_plane = max(1, math.prod(out) * math.prod(geo.kernel))
        chunks = cpu.parallel_chunks(planes, minimum=max(1, cpu.PARALLEL_MIN_ELEMENTS // per_plane))
        lowest = xa.dtype.type(-np.inf)
        kernel = pool_kernels.max_pool_planes
        cpu.run_chunks(lambda lo, hi: kernel(xa, *bounds, dilation, lowest, lo, hi, va, ia), chunks)
        return values, indices

    def backward(self, grad, indices, shape, geo):
        """The input gradient (``shape``) from the output's and the picks of ``forward``."""
        n = len(geo.kernel)
        planes, size = math.prod(shape[:-n]), math.prod(shape[-n:])
        out = cpu.empty(tuple(shape), grad.dtype)
        out._flat[:] = 0
        if not out.numel() or not grad.numel():
            return out
        ga = cpu.ndarray(grad.contiguous()).reshape(planes, -1)
        ia = cpu.ndarray(indices).reshape(planes, -1)
        oa = cpu.ndarray(out).reshape(planes, size)
        chunks = cpu.parallel_chunks(planes, minimum=max(1, cpu.PARALLEL_MIN_ELEMENTS // max(1, size)))
        cpu.run_chunks(lambda lo, hi: pool_kernels.max_pool_backward_planes(ga, ia, lo, hi, oa), chunks)
        return out


#: ``MAX_POOL[device_type]``: ``dtypes``, ``forward(x, geo) -> (values, indices)`` and
#: ``backward(grad, indices, shape, geo) -> grad_x`` of nn/_pool.py's max pools; devices
#: without an entry (and other dtypes) compose them of window copies, max, gather and
#: scatter_add
MAX_POOL = {"cpu": _CpuMaxPool()}


class _CpuResample:
    """``kernels/numba/resample.py``: one weighted pass of ``F.interpolate`` along one dim in
    one kernel, instead of an ``index_select`` of every tap, a multiply and a sum (a 2x bilinear
    upsample wrote and re-read four times its output), and its adjoint instead of a multiply and
    an ``index_add``. Float32/float64, and int64 for the uint8 modes' fixed-point passes."""

    dtypes = (_dt.float32, _dt.float64, _dt.int64)

    @staticmethod
    def _run(kernel, src, dim, size, index, weight, zeroed):
        """``kernel`` from ``src`` into a new (``zeroed``) tensor of ``size`` along ``dim``,
        outer slices split across threads."""
        shape = tuple(src._shape[:dim]) + (size,) + tuple(src._shape[dim + 1:])
        out = cpu.empty(shape, src.dtype)
        if not out.numel():
            return out
        if zeroed:
            out._flat[:] = 0
        sa, oa = cpu.around_dim(src.contiguous(), dim), cpu.around_dim(out, dim)
        ia, wa = cpu.ndarray(index), cpu.ndarray(weight)
        per_slice = max(1, index.numel() * sa.shape[2])
        chunks = cpu.parallel_chunks(sa.shape[0], minimum=max(1, cpu.PARALLEL_MIN_ELEMENTS // per_slice))
        cpu.run_chunks(lambda lo, hi: kernel(oa, sa, ia, wa, lo, hi), chunks)
        return out

    def gather(self, x, dim, index, weight):
        """x resampled along ``dim``: every output position's taps, summed with their weights."""
        return self._run(resample_kernels.resample_taps, x, dim, index.shape[1], index, weight, False)

    def scatter(self, g, dim, index, weight, in_size):
        """The adjoint of ``gather``: each output's gradient, times each tap's weight, added to
        the input position that tap read."""
        return self._run(resample_kernels.resample_taps_adjoint, g, dim, in_size, index, weight, True)


#: ``RESAMPLE[device_type]``: ``dtypes``, ``gather(x, dim, index, weight)`` and ``scatter(g,
#: dim, index, weight, in_size)`` (or None: the composed index_add) of nn/_interpolate.py's
#: weighted passes (x, index and weight on the device, weight of x's dtype); devices without
#: an entry compose them of tensor ops
RESAMPLE = {"cpu": _CpuResample()}
