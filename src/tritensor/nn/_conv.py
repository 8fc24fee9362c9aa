"""Convolution as im2col + one matmul, composed of views and existing ops (both devices).

A window geometry (``Geometry``: kernel, dilation, stride, padding, sizes) gives a strided
view of the zero-padded input with one dim per kernel offset and one per output position
(``_windows``: no copy; overlapping windows alias the same elements). im2col copies that view
once into a column matrix; col2im, its adjoint, adds columns into the same view of a zero
buffer, one strided ``add_`` per kernel offset (each offset's positions are distinct, so
overlapping windows sum without scatter atomics), then crops the padding. ``unfold``/``fold``
are these two; a convolution is im2col, a (grouped) matmul with the weight, and in backward
the transposed matmul followed by col2im. The pools in ``_pool.py`` reuse the windows.
A device with a col2im kernel (``_fused.COL2IM``: the CPU's Numba one) runs it in one pass.
"""
from __future__ import annotations

import itertools
import math
import operator
from typing import NamedTuple

from . import _fused
from .. import dtypes as dt, ops
from ..autograd import grad_mode
from ..autograd.function import Function
from ..ops._autocast import autocast_call, state as _amp
from ..ops._common import is_int
from ..ops.views import _select_raw, make_view, slice_raw


class Geometry(NamedTuple):
    """Sliding windows over the last ``len(kernel)`` dims; ``pads`` are (low, high) per dim."""

    size: tuple
    kernel: tuple
    dilation: tuple
    stride: tuple
    pads: tuple
    out: tuple


def ntuple(value, n, name="kernel_size"):
    """``value`` as an n-tuple of ints (an int repeats; a 1-sequence repeats too, as torch)."""
    if isinstance(value, (tuple, list)):
        if len(value) == 1 and n > 1:
            value = tuple(value) * n
        if len(value) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to "
                               f"match the convolution dimensions, but got {name}={list(value)}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


def out_size(size, kernel, dilation, stride, lo, hi):
    return (size + lo + hi - dilation * (kernel - 1) - 1) // stride + 1


def geometry(size, kernel, dilation, stride, pads):
    out = tuple(out_size(*a, *p) for a, p in zip(zip(size, kernel, dilation, stride), pads))
    return Geometry(tuple(size), tuple(kernel), tuple(dilation), tuple(stride), tuple(pads), out)


def _padded(x, geo, value=0):
    """``x`` with its last dims padded by ``geo.pads`` (the input itself when nothing to pad)."""
    if not any(lo or hi for lo, hi in geo.pads):
        return x
    from .functional import pad
    return pad(x, tuple(p for lo_hi in reversed(geo.pads) for p in lo_hi), value=value)


def windows(xp, geo):
    """View of the padded ``xp`` (lead dims, then spatial dims) as (*lead, *kernel, *out)."""
    n = len(geo.kernel)
    lead, spatial = xp._stride[:-n], xp._stride[-n:]
    stride = (lead + tuple(s * d for s, d in zip(spatial, geo.dilation))
              + tuple(s * t for s, t in zip(spatial, geo.stride)))
    return make_view(xp, xp._shape[:-n] + geo.kernel + geo.out, stride, xp._offset)


def im2col(x, geo, order=None, value=0):
    """The windows of ``x`` (N, C, *size) as a new contiguous (N, C, *kernel, *out) tensor,
    or permuted by ``order`` first."""
    view = windows(_padded(x, geo, value), geo)
    return (view if order is None else view.permute(order)).contiguous()


def col2im(cols, geo):
    """Adjoint of im2col: ``cols`` (N, C, *kernel, *out), any strides, summed into (N, C, *size)
    (in the columns' dtype, rounding after each kernel offset, as torch's CPU col2im)."""
    fused = _fused.COL2IM.get(cols.device.type)
    if fused is not None and cols.dtype in fused.dtypes:
        return fused(cols, geo)
    n = len(geo.kernel)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(geo.size, geo.pads))
    buf = ops.zeros(tuple(cols.shape[:2]) + padded, dtype=cols.dtype, device=cols.device)
    if buf.numel() and cols.numel():
        view = windows(buf, geo)
        for offset in itertools.product(*(range(k) for k in geo.kernel)):
            region, part = view, cols
            for i in offset:  # always dim 2: each select drops the kernel dim before it
                region, part = _select_raw(region, 2, i), _select_raw(part, 2, i)
            region.add_(part)
    for d, (s, (lo, hi)) in enumerate(zip(geo.size, geo.pads)):
        if lo or hi:
            buf = slice_raw(buf, buf.dim() - n + d, lo, lo + s, 1)
    return buf.contiguous()


def _logical(t, geo):
    """``t`` as (N, C, *kernel, *out), from that shape or from unfold's (N, C * prod(kernel), L)."""
    if t.dim() == 2 + 2 * len(geo.kernel):
        return t
    return t.reshape((t.shape[0], t.shape[1] // math.prod(geo.kernel)) + geo.kernel + geo.out)


class _Im2Col(Function):
    """im2col of a batched or unbatched input, viewed as ``shape``; backward is col2im."""

    node_name = "Im2ColBackward0"

    @staticmethod
    def forward(ctx, x, geo, shape):
        ctx.geo = geo
        return im2col(x if x.dim() == 2 + len(geo.kernel) else x.unsqueeze(0), geo).view(shape)

    @staticmethod
    def backward(ctx, grad):
        return _Col2Im.apply(grad, ctx.geo), None, None


class _Col2Im(Function):
    """col2im of (N, C, *kernel, *out) or (N, C * prod(kernel), L) columns; backward is im2col."""

    node_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, cols, geo):
        ctx.geo, ctx.shape = geo, tuple(cols.shape)
        if cols.dim() == 2:  # unbatched (C * prod(kernel), L)
            return col2im(_logical(cols.unsqueeze(0), geo), geo).squeeze(0)
        return col2im(_logical(cols, geo), geo)

    @staticmethod
    def backward(ctx, grad):
        return _Im2Col.apply(grad, ctx.geo, ctx.shape), None


def _check_floating(name, input):
    if not input.dtype.is_floating_point:  # torch's CPU im2col/col2im have no integer kernels
        raise NotImplementedError(f"\"{name}\" not implemented for '{input.type()}'")


def _check_window_args(n, kernel_size, dilation, padding, stride):
    k, d, p, s = (ntuple(v, n, name) for v, name in ((kernel_size, "kernel_size"), (dilation, "dilation"),
                                                    (padding, "padding"), (stride, "stride")))
    for name, vals, least in (("kernel", k, 1), ("dilation", d, 1), ("stride", s, 1), ("padding", p, 0)):
        if min(vals) < least:
            want = "greater than zero" if least else "non-negative"
            raise RuntimeError(f"im2col: {name} should be {want}, but got {name}={vals}")
    return k, d, p, s


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of a (N, C, H, W) or (C, H, W) input as (N, C * kh * kw, L) columns."""
    if input.dim() < 3:  # torch reads size(-3)
        raise IndexError(f"Dimension out of range (expected to be in range of [-{max(input.dim(), 1)}, "
                         f"{max(input.dim(), 1) - 1}], but got {input.dim()})")
    if input.dim() > 4:
        raise NotImplementedError("Input Error: Only 3D or 4D input Tensors are supported "
                                  f"(got {input.dim()}D)")
    k, d, p, s = _check_window_args(2, kernel_size, dilation, padding, stride)
    _check_floating("im2col_out_cpu", input)
    batched = input.dim() == 4
    x = input if batched else input.unsqueeze(0)
    geo = geometry(tuple(x.shape[2:]), k, d, s, tuple((q, q) for q in p))
    if min(geo.out) < 1:
        raise RuntimeError(f"Given input with spatial size {tuple(x.shape[2:])}, kernel_size={k}, "
                           f"dilation={d}, padding={p}, calculated shape of the array of sliding blocks as "
                           f"{geo.out}, but its components must be at least one.")
    if x.shape[1] == 0:
        raise RuntimeError(f"Expected non-zero size for input channels, but got input of size "
                           f"{list(x.shape)}")
    shape = (x.shape[1] * math.prod(k), math.prod(geo.out))
    return _Im2Col.apply(input, geo, (x.shape[0],) + shape if batched else shape)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum (N, C * kh * kw, L) columns back into a (N, C, H, W) tensor: the adjoint of unfold."""
    if input.dim() not in (2, 3) or (input.dim() == 3 and 0 in input.shape[1:]) or \
            (input.dim() == 2 and 0 in input.shape):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and "
                           f"non-zero dimensions for input, but got: {list(input.shape)}")
    size = ntuple(output_size, 2, "output_size")
    k, d, p, s = _check_window_args(2, kernel_size, dilation, padding, stride)
    _check_floating("col2im_out_cpu", input)
    batched = input.dim() == 3
    cols = input if batched else input.unsqueeze(0)
    if cols.shape[1] % math.prod(k):
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size, but got input.size(1)={cols.shape[1]} and kernel_size={k}.")
    geo = geometry(size, k, d, s, tuple((q, q) for q in p))
    if min(geo.out) < 1 or math.prod(geo.out) != cols.shape[2]:
        raise RuntimeError(f"Given output_size={size}, kernel_size={k}, dilation={d}, padding={p}, "
                           f"stride={s}, expected size of input's dimension 2 to match the calculated number "
                           f"of sliding blocks {' * '.join(map(str, geo.out))} = {math.prod(geo.out)}, but "
                           f"got input.size(2)={cols.shape[2]}.")
    return _Col2Im.apply(input, geo)


# ---------------------------------------------------------------------------- convolution
def _conv_layout(n):
    """Permutation of the windows (N, C, *kernel, *out) into im2col's (C, *kernel, N, *out)
    order, whose reshape is the (C * prod(kernel), N * L) column matrix, and its inverse."""
    order = (1,) + tuple(range(2, 2 + n)) + (0,) + tuple(range(2 + n, 2 + 2 * n))
    return order, tuple(order.index(i) for i in range(len(order)))


def _columns(x, geo, groups, differentiable=False):
    """The (G, C/G * prod(kernel), N * L) column matrix of ``x`` (N, C, *size), one block per
    group; ``differentiable``: through ``_Im2Col``, so that a create_graph backward sees ``x``."""
    n, (batch, channels) = len(geo.kernel), x.shape[:2]
    order, _ = _conv_layout(n)
    shape = (groups, channels // groups * math.prod(geo.kernel), batch * math.prod(geo.out))
    if differentiable:
        return _Im2Col.apply(x, geo, (batch, channels) + geo.kernel + geo.out).permute(order).reshape(shape)
    return im2col(x, geo, order).view(shape)


def _apply_weight(weight, cols, geo, groups, batch):
    """``weight`` (O, C/G, *kernel) times the columns, per group: the correlation, as a
    (N, O, *out) view of the (O, N, *out) product."""
    out_channels = weight.shape[0]
    w = weight.reshape(groups, out_channels // groups, cols.shape[1])
    out = ops.mm(w[0], cols[0]) if groups == 1 else ops.bmm(w, cols)
    return out.view((out_channels, batch) + geo.out).transpose(0, 1)


def _grouped(g, groups):
    """(N, O, *out) as the (G, O/G, N * prod(out)) matrices the products read (one copy: the
    batch dim moves inside), shared by the input and the weight gradients."""
    return g.transpose(0, 1).reshape(groups, g.shape[1] // groups, g.numel() // g.shape[1])


def _apply_weight_transposed(gm, weight, geo, groups, batch):
    """The adjoint of ``_apply_weight`` then im2col: ``weight``^T times ``gm`` (``_grouped``
    (N, O, *out)), then col2im into (N, C, *size). A convolution's input gradient, and a
    transposed convolution. 16-bit operands: the columns and their sums stay in float32 and
    round once at the end, as cuDNN and oneDNN accumulate (a 16-bit col2im rounds after each
    kernel offset)."""
    n = len(geo.kernel)
    out_channels, channels = weight.shape[0], weight.shape[1] * groups
    _, inverse = _conv_layout(n)
    w = weight.reshape(groups, out_channels // groups, weight.shape[1] * math.prod(geo.kernel))
    wide = weight.dtype in (dt.float16, dt.bfloat16)
    if wide:
        w, gm = w.float(), gm.float()
    cols = ops.bmm(w.transpose(1, 2), gm).view((channels,) + geo.kernel + (batch,) + geo.out)
    out = _Col2Im.apply(cols.permute(inverse), geo)
    return out.to(weight.dtype) if wide else out


def _weight_grad(gm, cols, weight_shape):
    """Gradient of ``_apply_weight``'s weight: ``gm`` (``_grouped`` (N, O, *out)) times the
    columns^T, per group."""
    return ops.bmm(gm, cols.transpose(1, 2)).view(weight_shape)


def _bias_grad(grad, n):
    return grad.sum((0,) + tuple(range(2, 2 + n)))


class _Convolution(Function):
    """``weight`` (O, C/G, *kernel) times the column matrix of ``x``, per group; ``+ bias``."""

    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, geo, groups):
        cols = _columns(x, geo, groups)
        out = _apply_weight(weight, cols, geo, groups, x.shape[0])
        if bias is not None:  # the add writes the contiguous (N, O, *out) result: the transposing copy too
            result = ops.empty(out.shape, dtype=out.dtype, device=out.device)
            out = ops.add(out, bias.view((1, weight.shape[0]) + (1,) * len(geo.kernel)), out=result)
        ctx.save_for_backward(x, weight)
        ctx.cols, ctx.geo, ctx.groups, ctx.has_bias = cols, geo, groups, bias is not None
        return out.contiguous()

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        geo, groups = ctx.geo, ctx.groups
        gx = gw = gb = None
        gm = _grouped(grad, groups) if ctx.needs_input_grad[0] or ctx.needs_input_grad[1] else None
        if ctx.needs_input_grad[0]:
            gx = _apply_weight_transposed(gm, weight, geo, groups, x.shape[0])
        if ctx.needs_input_grad[1]:
            # create_graph: the columns must be differentiable in x
            cols = _columns(x, geo, groups, True) if grad_mode.is_grad_enabled() else ctx.cols
            gw = _weight_grad(gm, cols, weight.shape)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = _bias_grad(grad, len(geo.kernel))
        return gx, gw, gb, None, None


class _ConvTranspose(Function):
    """Transposed convolution: the adjoint of ``_Convolution`` in its input, whose geometry
    ``geo`` maps this op's output (``geo.size``) to its input (``geo.out``); ``weight`` is
    (C_in, C_out/G, *kernel), ``_Convolution``'s (O, C/G, *kernel) read the other way round.
    Forward is the convolution's input gradient; backward is a convolution of the gradient."""

    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, geo, groups):
        out = _apply_weight_transposed(_grouped(x, groups), weight, geo, groups, x.shape[0])
        if bias is not None:
            out = out.add_(bias.view((1, -1) + (1,) * len(geo.kernel)))
        ctx.save_for_backward(x, weight)
        ctx.geo, ctx.groups, ctx.has_bias = geo, groups, bias is not None
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        geo, groups = ctx.geo, ctx.groups
        gx = gw = gb = None
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            # create_graph: composed of differentiable ops, so second derivatives just work
            cols = _columns(grad, geo, groups, grad_mode.is_grad_enabled())
            if ctx.needs_input_grad[0]:
                gx = _apply_weight(weight, cols, geo, groups, grad.shape[0]).contiguous()
            if ctx.needs_input_grad[1]:
                gw = _weight_grad(_grouped(x, groups), cols, weight.shape)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            gb = _bias_grad(grad, len(geo.kernel))
        return gx, gw, gb, None, None


def _conv_padding(padding, n, stride, dilation, kernel):
    """(low, high) pads per dim for an int/tuple/'valid'/'same' padding (torch's 'same' puts
    the odd one on the high side)."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        total = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return tuple((t // 2, t - t // 2) for t in total)
    p = ntuple(padding, n, "padding")
    if min(p) < 0:
        raise RuntimeError("negative padding is not supported")
    return tuple((q, q) for q in p)


def _check_ranks_and_groups(name, n, input, weight, groups):
    """Checks shared by convolutions and transposed convolutions: ranks, and dim 0 of the
    weight (out channels of a convolution, in channels of a transposed one) split in groups."""
    if weight.dim() != n + 2:
        raise RuntimeError(f"{name}: expected weight to be {n + 2}-D, but got weight of size "
                           f"{list(weight.shape)}")
    if input.dim() not in (n + 1, n + 2):
        raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {name}, but got "
                           f"input of size: {list(input.shape)}")
    if groups < 1:
        raise RuntimeError("non-positive groups is not supported")
    if weight.shape[0] < 1:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, "
                           f"but got weight of size {list(weight.shape)} instead")
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at "
                           f"dimension 0, but got weight of size [{list(weight.shape)}] instead")


def _check_stride_dilation(n, stride, dilation):
    stride, dilation = ntuple(stride, n, "stride"), ntuple(dilation, n, "dilation")
    if min(stride) < 1:
        raise RuntimeError(f"non-positive stride is not supported, but got stride={stride}")
    if min(dilation) < 1:
        raise RuntimeError(f"dilation should be greater than zero, but got dilation={dilation}")
    return stride, dilation


def _check_operands(given, x, weight, bias, channels, out_channels, any_bias_dtype=False):
    """The input's channels, the bias's size, dtypes and devices against the weight (the bias's
    dtype too unless ``any_bias_dtype``)."""
    if x.shape[1] != channels:
        raise RuntimeError(f"Given {given}, weight of size {list(weight.shape)}, expected "
                           f"input{list(x.shape)} to have {channels} channels, but got {x.shape[1]} channels "
                           "instead")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(f"Given {given}, weight of size {list(weight.shape)}, expected bias to be "
                           f"1-dimensional with {out_channels} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    for what, t in (("weight", weight), ("bias", None if any_bias_dtype else bias)):
        if t is not None and t.dtype is not x.dtype:
            raise RuntimeError(f"Input type ({x.type()}) and {what} type ({t.type()}) should be the same")
    if x.device != weight.device:
        raise RuntimeError(f"Input type ({x.device}) and weight type ({weight.device}) should be the same")


def _convolution(name, n, input, weight, bias, stride, padding, dilation, groups):
    _check_ranks_and_groups(name, n, input, weight, groups)
    stride, dilation = _check_stride_dilation(n, stride, dilation)
    kernel = tuple(weight.shape[2:])
    pads = _conv_padding(padding, n, stride, dilation, kernel)
    batched = input.dim() == n + 2
    x = input if batched else input.unsqueeze(0)
    _check_operands(f"groups={groups}", x, weight, bias, weight.shape[1] * groups, weight.shape[0])
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
    if any(d * (k - 1) + 1 > s for s, k, d in zip(padded, kernel, dilation)):
        dilated = " x ".join(str(d * (k - 1) + 1) for k, d in zip(kernel, dilation))
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
                           f"Kernel size: ({dilated}). Kernel size can't be greater than actual input size")
    if x.dtype.is_complex or x.dtype.name == "bool":
        raise NotImplementedError(f"\"{name}\" not implemented for '{x.dtype.name}'")
    geo = geometry(tuple(x.shape[2:]), kernel, dilation, stride, pads)
    out = _Convolution.apply(x, weight, bias, geo, groups)
    return out if batched else out.squeeze(0)


def _int_tuple(name, arg, value, n):
    """An int or a sequence of ints as an n-tuple; anything else (a string, a float, a bool) is
    torch's argument-parser TypeError."""
    if not all(map(is_int, value if isinstance(value, (tuple, list)) else (value,))):
        raise TypeError(f"{name}(): argument '{arg}' must be tuple of ints, not {type(value).__name__}")
    return ntuple(value, n, arg)


def _transposed_output_size(x, kernel, stride, padding, output_padding, dilation):
    """Per dim (in - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1;
    an empty batch may have an output of size 0, as torch."""
    sizes = x.shape[2:]
    out = tuple((i - 1) * s - 2 * p + d * (k - 1) + op + 1
                for i, k, s, p, op, d in zip(sizes, kernel, stride, padding, output_padding, dilation))
    if min(out) < (1 if x.shape[0] else 0):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, sizes))}). Calculated "
                           f"output size per channel: ({' x '.join(map(str, out))}). Output size is too "
                           "small")
    return out


def _conv_transpose(name, n, input, weight, bias, stride, padding, output_padding, groups, dilation):
    """Checks and geometry of a transposed convolution; weight is (C_in, C_out / groups, *kernel)."""
    stride, padding, output_padding, dilation = (_int_tuple(name, arg, v, n) for arg, v in (
        ("stride", stride), ("padding", padding), ("output_padding", output_padding), ("dilation", dilation)))
    if not is_int(groups):
        raise TypeError(f"{name}(): argument 'groups' must be int, not {type(groups).__name__}")
    groups = operator.index(groups)
    _check_ranks_and_groups(name, n, input, weight, groups)
    stride, dilation = _check_stride_dilation(n, stride, dilation)
    if min(padding) < 0:
        raise RuntimeError(f"negative padding is not supported, but got padding={padding}")
    if min(output_padding) < 0:
        raise RuntimeError(f"negative output_padding is not supported, but got "
                           f"output_padding={output_padding}")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got "
                           f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
    batched = input.dim() == n + 2
    x = input if batched else input.unsqueeze(0)
    kernel, out_channels = tuple(weight.shape[2:]), weight.shape[1] * groups
    # torch's CPU kernels for 1-d and 2-d (but not bfloat16) add a bias of another dtype in
    # place, so with the in-place add's casting rule; the others refuse it
    any_bias_dtype = n < 3 and x.dtype is not dt.bfloat16
    _check_operands("transposed=1", x, weight, bias, weight.shape[0], out_channels, any_bias_dtype)
    if out_channels == 0 or min(kernel) < 1:
        raise RuntimeError(f"{name}: expected a non-empty weight (C_in, C_out / groups, *kernel), but got "
                           f"weight of size {list(weight.shape)}")
    if x.shape[0] and 0 in x.shape[2:]:
        raise RuntimeError(f"Only zero batch or zero channel inputs are supported, but got input shape: "
                           f"{list(x.shape)}")
    size = _transposed_output_size(x, kernel, stride, padding, output_padding, dilation)
    if not (x.dtype.is_floating_point or x.dtype is dt.int64):  # torch's CPU kernels: floats and int64
        raise NotImplementedError(f"\"{name}\" not implemented for '{x.dtype.name}'")
    # the convolution this is the adjoint of: from the output (low pad ``padding``; the high pad
    # never below 0, as output_padding may exceed padding) to exactly the input's positions
    pads = tuple((p, max(p - op, 0)) for p, op in zip(padding, output_padding))
    geo = geometry(size, kernel, dilation, stride, pads)._replace(out=tuple(x.shape[2:]))
    out = _ConvTranspose.apply(x, weight, bias, geo, groups)
    return out if batched else out.squeeze(0)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over (N, C, L) or (C, L) input (cross-correlation, as torch)."""
    if _amp.on:
        return autocast_call("conv1d", conv1d, input, weight, bias, stride, padding, dilation, groups)
    return _convolution("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over (N, C, H, W) or (C, H, W) input (cross-correlation, as torch)."""
    if _amp.on:
        return autocast_call("conv2d", conv2d, input, weight, bias, stride, padding, dilation, groups)
    return _convolution("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution over (N, C, D, H, W) or (C, D, H, W) input."""
    if _amp.on:
        return autocast_call("conv3d", conv3d, input, weight, bias, stride, padding, dilation, groups)
    return _convolution("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _transposed_entry(n, fn, *args):
    """``fn`` (conv_transpose<n>d) of ``args``: under autocast through its policy, else computed."""
    if _amp.on:
        return autocast_call(fn.__name__, fn, *args)
    return _conv_transpose(fn.__name__, n, *args)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution over (N, C_in, L) or (C_in, L): the adjoint of conv1d."""
    return _transposed_entry(1, conv_transpose1d, input, weight, bias, stride, padding, output_padding,
                             groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution over (N, C_in, H, W) or (C_in, H, W): the adjoint of conv2d."""
    return _transposed_entry(2, conv_transpose2d, input, weight, bias, stride, padding, output_padding,
                             groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution over (N, C_in, D, H, W) or (C_in, D, H, W): the adjoint of conv3d."""
    return _transposed_entry(3, conv_transpose3d, input, weight, bias, stride, padding, output_padding,
                             groups, dilation)
