"""``tritensor.nn.functional``: stateless layers, activations and losses (``torch.nn.functional``).

Everything is written on the Tensor surface; the activations reuse the core ops.
"""
from __future__ import annotations

import math
import warnings

from .. import autograd, dtypes as _dt
from .. import ops
from ..autograd.function import Function
from ..ops._autocast import autocast_call, state as _amp
from ..ops.elementwise import HARDTANH, _torch_name, not_implemented_for
from ..ops.linalg import linear_unrecorded
from ..type_info import finfo
from ._losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cosine_similarity,  # noqa: F401
                      cross_entropy, huber_loss, kl_div, l1_loss, mse_loss, nll_loss, pairwise_distance,
                      pdist, smooth_l1_loss, triplet_margin_loss)
from ._attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: F401
from ._conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d,  # noqa: F401
                    fold, unfold)
from ._likelihood_losses import gaussian_nll_loss, poisson_nll_loss  # noqa: F401
from ._margin_losses import (cosine_embedding_loss, hinge_embedding_loss, margin_ranking_loss,  # noqa: F401
                             multi_margin_loss, multilabel_margin_loss, multilabel_soft_margin_loss,
                             soft_margin_loss, triplet_margin_with_distance_loss)
from ._interpolate import interpolate, upsample, upsample_bilinear, upsample_nearest  # noqa: F401
from ._grid_sample import affine_grid, grid_sample  # noqa: F401
from ._ctc import ctc_loss  # noqa: F401
from ._fractional_pool import (fractional_max_pool2d, fractional_max_pool2d_with_indices,  # noqa: F401
                               fractional_max_pool3d, fractional_max_pool3d_with_indices)
from ._padding import index_pad
from ._norm import batch_norm, group_norm, instance_norm, layer_norm, rms_norm  # noqa: F401
from ._pool import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d,  # noqa: F401
                    adaptive_max_pool1d, adaptive_max_pool1d_with_indices, adaptive_max_pool2d,
                    adaptive_max_pool2d_with_indices, adaptive_max_pool3d, adaptive_max_pool3d_with_indices,
                    avg_pool1d, avg_pool2d, avg_pool3d, lp_pool1d, lp_pool2d, lp_pool3d, max_pool1d,
                    max_pool1d_with_indices, max_pool2d, max_pool2d_with_indices, max_pool3d,
                    max_pool3d_with_indices, max_unpool1d, max_unpool2d, max_unpool3d)

# ---------------------------------------------------------------------------- activations


def _maybe_inplace(name):
    """``f(input, inplace=False)`` over the core op ``name`` / its in-place ``name_``."""
    def fn(input, inplace=False):
        return getattr(input, name + "_")() if inplace else getattr(ops, name)(input)
    fn.__name__ = name
    fn.__doc__ = f"torch.nn.functional.{name}"
    return fn


relu = _maybe_inplace("relu")
silu = _maybe_inplace("silu")


def relu_(input):
    return input.relu_()


def sigmoid(input):
    return ops.sigmoid(input)


def tanh(input):
    return ops.tanh(input)


def gelu(input, approximate="none"):
    return ops.gelu(input, approximate=approximate)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return ops.leaky_relu(input, negative_slope, inplace)


def elu(input, alpha=1.0, inplace=False):
    return ops.elu(input, alpha, inplace)


def softplus(input, beta=1.0, threshold=20.0):
    return ops.softplus(input, beta, threshold)


from ..ops.elementwise import hardsigmoid, hardswish, mish  # noqa: E402,F401  (not torch.<name> either)


def selu(input, inplace=False):
    return ops.selu(input, inplace)


def celu(input, alpha=1.0, inplace=False):
    return ops.celu(input, alpha, inplace)


def threshold(input, threshold, value, inplace=False):
    return ops.threshold(input, threshold, value, inplace)


def softsign(input):
    return input / (1 + input.abs())


def tanhshrink(input):
    return input - input.tanh()


class _Glu(Function):
    """``a * sigmoid(b)`` for the halves ``a``, ``b`` of ``input`` along ``dim``."""

    node_name = "GluBackward0"

    @staticmethod
    def forward(ctx, input, dim):
        a, b = input.chunk(2, dim)
        gate = b.sigmoid()
        ctx.save_for_backward(a, gate)
        ctx.dim = dim
        return a * gate

    @staticmethod
    def backward(ctx, grad):
        a, gate = ctx.saved_tensors
        return ops.cat([grad * gate, grad * a * gate * (1 - gate)], ctx.dim), None


def glu(input, dim=-1):
    if not input.is_floating_point():
        raise not_implemented_for(f"glu_{input.device.type}", input.dtype)
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    dim = ops.wrap_dim(dim, input.dim())
    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {input.shape[dim]}")
    return _Glu.apply(input, dim)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``clamp(input, min_val, max_val)``; the gradient is zero at and beyond the bounds."""
    if input.dtype is _dt.bool:
        raise RuntimeError("Bool inputs not supported for hardtanh")
    if not input.is_floating_point():  # torch reads the bounds in the input's integer type
        if input.dtype is _dt.uint8 and (min_val < 0 or max_val < 0):
            raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
        min_val, max_val = int(min_val), int(max_val)
    return HARDTANH.apply(input, inplace=inplace, lo=min_val, hi=max_val)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def _inplace_form(fn):
    """torch's ``name_(input, ...)`` functional: ``name(input, ..., inplace=True)``."""
    def inplace(input, *args, **kwargs):
        return fn(input, *args, inplace=True, **kwargs)
    inplace.__name__ = inplace.__qualname__ = fn.__name__ + "_"
    inplace.__doc__ = f"torch.nn.functional.{fn.__name__}_: {fn.__name__} in place"
    return inplace


elu_, leaky_relu_, selu_, celu_, threshold_, hardtanh_ = map(_inplace_form, (elu, leaky_relu, selu, celu,
                                                                             threshold, hardtanh))


class _LogSigmoid(Function):
    node_name = "LogSigmoidBackward0"

    @staticmethod
    def forward(ctx, input):
        if not input.is_floating_point():
            raise not_implemented_for(f"log_sigmoid_{input.device.type}", input.dtype)
        ctx.input = input
        return -ops.softplus(-input)

    @staticmethod
    def backward(ctx, grad):
        return grad * ops.sigmoid(-ctx.input)


def logsigmoid(input):
    return _LogSigmoid.apply(input)


class _Shrink(Function):
    """hardshrink / softshrink: zero on ``[-lambd, lambd]``; soft also moves the rest ``lambd``
    towards zero. NaN passes through; its gradient is 0 (torch's vectorised CPU loop)."""

    node_name = "HardshrinkBackward0"
    soft = False

    @classmethod
    def forward(cls, ctx, input, lambd):
        band = (input >= -lambd) & (input <= lambd)
        ctx.outside = (input < -lambd) | (input > lambd)
        if not cls.soft:
            return ops.where(band, 0, input)
        return ops.where(input > lambd, input - lambd, ops.where(input < -lambd, input + lambd, input * 0))

    @staticmethod
    def backward(ctx, grad):
        return ops.where(ctx.outside, grad, 0), None


class _Softshrink(_Shrink):
    node_name = "SoftshrinkBackward0"
    soft = True


def hardshrink(input, lambd=0.5):
    if not input.is_floating_point():
        raise not_implemented_for(f"hardshrink_{input.device.type}", input.dtype)
    return _Shrink.apply(input, lambd)


def softshrink(input, lambd=0.5):
    if not input.is_floating_point():
        raise not_implemented_for("softshrink_check", input.dtype)
    if not 0 <= lambd <= finfo(input.dtype).max:
        raise RuntimeError(f"lambda must be in range [0, {finfo(input.dtype).max:.6g}] for input dtype "
                           f"{_torch_name(input.dtype)}, but found {lambd:g}")
    return _Softshrink.apply(input, lambd)


class _Prelu(Function):
    """``x`` where positive, else ``weight * x`` with one weight per channel (dim 1) or one shared."""

    node_name = "PreluKernelBackward0"

    @staticmethod
    def forward(ctx, input, weight):
        shape = (1, weight.numel()) + (1,) * (input.dim() - 2) if weight.numel() > 1 else ()
        w = weight.reshape(shape)
        positive = input > 0
        ctx.saved = (input, w, positive, weight.shape)
        return ops.where(positive, input, w * input)

    @staticmethod
    def backward(ctx, grad):
        input, w, positive, weight_shape = ctx.saved
        grad_input = ops.where(positive, grad, w * grad) if ctx.needs_input_grad[0] else None
        grad_weight = None
        if ctx.needs_input_grad[1]:
            per_element = ops.where(positive, 0, input * grad)
            dims = [d for d in range(per_element.dim()) if w.dim() == 0 or d != 1]
            grad_weight = (per_element.sum(dims) if dims else per_element).reshape(weight_shape)
        return grad_input, grad_weight


def prelu(input, weight):
    """Parametric ReLU; ``weight`` is a single slope or one per channel (dim 1 of ``input``)."""
    if not input.is_floating_point():
        raise not_implemented_for(f"prelu_{input.device.type}", input.dtype)
    if weight.dim() > 1:
        raise RuntimeError("prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = "
                           f"{weight.dim()}")
    channels = input.shape[1] if input.dim() >= 2 else 1
    if weight.numel() != 1 and weight.numel() != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                           f"{weight.numel()} and channel size = {channels}.")
    return _Prelu.apply(input, weight)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: in training each negative element gets a slope drawn from
    ``U(lower, upper)``; in evaluation the slope is their mean."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    if not input.is_floating_point():
        raise not_implemented_for(f"leaky_relu_{input.device.type}", input.dtype)
    with autograd.no_grad():
        slopes = ops.empty_like(input).uniform_(lower, upper)
        noise = ops.where(input >= 0, 1, slopes)
    return input.mul_(noise) if inplace else input * noise


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return ops.softmax(-input, _softmax_dim("softmin", input, dim, _stacklevel), dtype=dtype)


def _softmax_dim(name, input, dim, stacklevel):
    if dim is None:  # torch's legacy implicit choice, with its warning
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                      "dim=X as an argument.", stacklevel=stacklevel)
        return 0 if input.dim() in (0, 1, 3) else 1
    return dim


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return ops.softmax(input, _softmax_dim("softmax", input, dim, _stacklevel), dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return ops.log_softmax(input, _softmax_dim("log_softmax", input, dim, _stacklevel), dtype=dtype)


# ---------------------------------------------------------------------------- linear / dropout
def linear(input, weight, bias=None):
    """``input @ weight.T + bias``; with a bias, one addmm over the flattened batch, like torch."""
    if _amp.on:
        return autocast_call("linear", linear, input, weight, bias)
    if input.dim() == 0 or weight.dim() == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are {input.dim()}D "
                           f"and {weight.dim()}D")
    if bias is None:
        return ops.matmul(input, weight.t())
    if input.dim() == 2:
        out = linear_unrecorded(input, weight, bias)
        return out if out is not None else ops.addmm(bias, input, weight.t())
    out = ops.addmm(bias, input.reshape(-1, input.shape[-1]), weight.t())
    return out.view(tuple(input.shape[:-1]) + (weight.shape[0],))


def bilinear(input1, input2, weight, bias=None):
    """``y[..., o] = input1[..., :] @ weight[o] @ input2[..., :] + bias[o]``: one matmul of
    ``input1`` with every output's matrix side by side, then a product-sum with ``input2``."""
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and "
                           f"{input2.dim()}")
    for d in range(input1.dim() - 1):
        if input1.shape[d] != input2.shape[d]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {d}: got "
                               f"{input1.shape[d]} and {input2.shape[d]}")
    if weight.dim() < 3:  # torch reads weight.size(2)
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(weight.dim(), 1)}, "
                         f"{max(weight.dim(), 1) - 1}], but got 2)")
    out_features, in1, in2 = weight.shape
    for name, size, expected in (("input1", input1.shape[-1], in1), ("input2", input2.shape[-1], in2)):
        if size != expected:
            raise RuntimeError(f"bilinear(): {name} size does not match weight size: got {size} but expected "
                               f"{expected}")
    if bias is not None and bias.shape[-1] != out_features:
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {bias.shape[-1]} but "
                           f"expected {out_features}")
    batch = tuple(input1.shape[:-1])
    left = ops.matmul(input1.reshape(-1, in1), weight.permute(1, 0, 2).reshape(in1, out_features * in2))
    out = (left.view(-1, out_features, in2) * input2.reshape(-1, 1, in2)).sum(-1)
    out = out.view(batch + (out_features,))
    return out + bias if bias is not None else out


#: SELU's negative saturation, ``-selu(-inf)`` (its scale times its alpha): alpha dropout's
#: dropped value, so that a SELU network keeps zero mean and unit variance
_SELU_SATURATION = 1.7580993408473766


def _check_dropout_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _masked_dropout(input, p, inplace, lead, alpha=False):
    """Dropout with one Bernoulli(1 - p) draw per index of the first ``lead`` dims (all of them:
    elementwise; two: whole channels), broadcast over the rest. Kept values are scaled by
    ``1 / (1 - p)``; with ``alpha``, dropped values become SELU's saturation and an affine map
    restores the input's mean and variance (torch's alpha dropout)."""
    shape = tuple(input.shape[:lead]) + (1,) * (input.dim() - lead)
    with autograd.no_grad():
        keep = ops.empty(shape, dtype=input.dtype, device=input.device).bernoulli_(1 - p)
        if alpha:
            a = 1.0 / math.sqrt((_SELU_SATURATION ** 2 * p + 1) * (1 - p))
            shift = (keep - 1).mul_(_SELU_SATURATION * a).add_(_SELU_SATURATION * a * p)
            scale = keep.mul_(a)
        else:
            scale = keep.div_(1 - p)
    if alpha:
        return input.mul_(scale).add_(shift) if inplace else input * scale + shift
    return input.mul_(scale) if inplace else input * scale


def _dropout_nothing_or_all(input, p, training, inplace):
    """The result when no random draw is needed (evaluation, p 0 or 1, no elements), else None."""
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p == 1.0:
        return input.mul_(0) if inplace else input * ops.zeros_like(input)
    return None


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``."""
    _check_dropout_p(p)
    fixed = _dropout_nothing_or_all(input, p, training, inplace)
    if fixed is not None:
        return fixed
    if input.device.type == "cuda" and not inplace:  # torch's fused CUDA path
        from ..random import native_dropout
        return native_dropout(input, p, True)[0]
    return _masked_dropout(input, p, inplace, input.dim())


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped elements take SELU's negative saturation value and an
    affine map keeps the mean and variance (torch.nn.AlphaDropout)."""
    _check_dropout_p(p)
    fixed = _dropout_nothing_or_all(input, p, training, inplace)
    return fixed if fixed is not None else _masked_dropout(input, p, inplace, input.dim(), alpha=True)


def _channel_dropout(input, p, training, inplace, lead=2, alpha=False):
    _check_dropout_p(p)
    fixed = _dropout_nothing_or_all(input, p, training, inplace)
    if fixed is not None:
        return fixed
    if input.dim() < lead:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _masked_dropout(input, p, inplace, lead, alpha)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels of a (N, C, ...) input: one draw per (sample, channel)."""
    return _channel_dropout(input, p, training, inplace, alpha=True)


def _feature_dropout(input, p, training, inplace, batched_dim):
    """Dropout of whole channels: one Bernoulli draw per (sample, channel), broadcast over the
    spatial dims; an input of other than ``batched_dim`` dims is one unbatched sample."""
    return _channel_dropout(input, p, training, inplace, 2 if input.dim() == batched_dim else 1)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of a (N, C, L) or (C, L) input with probability ``p``."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note "
                           "that dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
                           "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
                           "inputs).")
    return _feature_dropout(input, p, training, inplace, 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of a (N, C, H, W) input with probability ``p``; as torch, a 3-D input
    is taken as (N, C, L), with torch's warnings."""
    if input.dim() not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.dim()}-D input to dropout2d, which is deprecated and "
                      "will result in an error in a future release. To retain the behavior and silence this "
                      "warning, please use dropout instead. Note that dropout2d exists to provide "
                      "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and an "
                      "optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if input.dim() == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel "
                      "dim. This behavior will change in a future release to interpret the input as one "
                      "without a batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, input.dim() if input.dim() > 1 else 2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of a (N, C, D, H, W) or (C, D, H, W) input with probability ``p``."""
    if input.dim() not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.dim()}-D input to dropout3d, which is deprecated and "
                      "will result in an error in a future release. To retain the behavior and silence this "
                      "warning, please use dropout instead. Note that dropout3d exists to provide "
                      "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, and an "
                      "optional batch dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, 5)


# ---------------------------------------------------------------------------- embedding / one_hot
class _Embedding(Function):
    node_name = "EmbeddingBackward0"

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        flat = indices.reshape(-1)
        ctx.saved = (flat, weight.shape, padding_idx, scale_grad_by_freq)
        return weight.index_select(0, flat).view(tuple(indices.shape) + (weight.shape[1],))

    @staticmethod
    def backward(ctx, grad):
        flat, shape, padding_idx, scale_grad_by_freq = ctx.saved
        rows = grad.reshape(-1, shape[1])
        if padding_idx is not None:
            rows = rows * (flat != padding_idx).to(rows.dtype).unsqueeze(1)
        if scale_grad_by_freq:  # each row's gradient over how often the batch selects it
            zeros = ops.zeros(shape[0], dtype=rows.dtype, device=rows.device)
            counts = zeros.index_add(0, flat, ops.ones(flat.shape, dtype=rows.dtype, device=rows.device))
            rows = rows / counts.index_select(0, flat).unsqueeze(1)
        # in place on the fresh zeros: index_add would copy them first
        grad_weight = ops.zeros(shape, dtype=grad.dtype, device=grad.device).index_add_(0, flat, rows)
        return grad_weight, None, None, None


def _renorm_rows(weight, indices, max_norm, norm_type):
    """torch's ``embedding_renorm_``: the rows ``indices`` selects scaled, in place, down to a
    ``norm_type`` norm of ``max_norm`` (a row selected twice gets the same values twice)."""
    with autograd.no_grad():
        flat = indices.reshape(-1)
        rows = weight.index_select(0, flat)
        norms = rows.norm(norm_type, 1, keepdim=True)
        weight.index_copy_(0, flat, rows * ops.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0))


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of ``weight`` selected by the integer ``input``; rows at ``padding_idx`` get no gradient."""
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported")
    if input.is_floating_point() or input.dtype is _dt.bool:
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar "
                           f"types: Long, Int; but got {input.type()} instead (while checking arguments for "
                           "embedding)")
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    padding_idx = _padding_index(padding_idx, weight.shape[0])
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    return _Embedding.apply(weight, input, padding_idx, bool(scale_grad_by_freq))


def _padding_index(padding_idx, num_embeddings):
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return padding_idx % num_embeddings


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding along a new last dim."""
    if tensor.dtype is not _dt.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    lo, hi = (int(v) for v in ops.aminmax(tensor)) if tensor.numel() else (0, -1)
    if lo < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        if tensor.numel() == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = hi + 1
    elif num_classes < -1:
        raise RuntimeError("num_classes should be positive")
    elif hi >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    # a 1 written at each class index into zeros: one pass over the result, where comparing
    # with arange(num_classes) and casting the bools took three
    return ops.zeros(*tensor.shape, num_classes, dtype=_dt.int64, device=tensor.device).scatter_(
        -1, tensor.unsqueeze(-1), 1)


# ---------------------------------------------------------------------------- pad / normalize
class _ConstantPadNd(Function):
    """Pad (or crop, for negative amounts) the last dims; backward is the opposite pad."""

    node_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, input, pad, value):
        ctx.pad = pad
        n = len(pad) // 2
        out_shape = list(input.shape)
        src, dst_slices = input, [slice(None)] * input.dim()
        for i in range(n):
            d = input.dim() - 1 - i
            left, right = pad[2 * i], pad[2 * i + 1]
            out_shape[d] = input.shape[d] + left + right
            if out_shape[d] < 0:
                raise RuntimeError(f"The input size {input.shape[d]}, plus negative padding {left} and "
                                   f"{right} resulted in a negative output size, which is invalid. Check "
                                   f"dimension {d} of your input.")
            src = src.narrow(d, max(-left, 0), max(input.shape[d] + min(left, 0) + min(right, 0), 0))
            dst_slices[d] = slice(max(left, 0), max(left, 0) + src.shape[d])
        out = ops.full(out_shape, value, dtype=input.dtype, device=input.device)
        if src.numel():
            out[tuple(dst_slices)] = src
        return out

    @staticmethod
    def backward(ctx, grad):
        return _ConstantPadNd.apply(grad, tuple(-p for p in ctx.pad), 0), None, None


def _check_pixel_input(name, input):
    if input.dim() < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): each group of r^2 channels becomes an r x r block
    of pixels (a view, a permutation and one copy)."""
    _check_pixel_input("pixel_shuffle", input)
    r = upscale_factor
    *batch, channels, height, width = input.shape
    if channels % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
                           f"square of upscale_factor, but input.size(-3)={channels} is not divisible by "
                           f"{r * r}")
    n = len(batch)
    blocks = input.reshape(*batch, channels // (r * r), r, r, height, width)
    order = tuple(range(n)) + tuple(n + d for d in (0, 3, 1, 4, 2))
    return blocks.permute(order).reshape(*batch, channels // (r * r), height * r, width * r)


def pixel_unshuffle(input, downscale_factor):
    """pixel_shuffle's inverse: (*, C, H r, W r) -> (*, C r^2, H, W)."""
    _check_pixel_input("pixel_unshuffle", input)
    r = downscale_factor
    *batch, channels, height, width = input.shape
    for name, size, dim in (("height", height, -2), ("width", width, -1)):
        if size % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                               f"input.size({dim})={size} is not divisible by {r}")
    n = len(batch)
    pixels = input.reshape(*batch, channels, height // r, r, width // r, r)
    order = tuple(range(n)) + tuple(n + d for d in (0, 2, 4, 1, 3))
    return pixels.permute(order).reshape(*batch, channels * r * r, height // r, width // r)


class _ChannelShuffle(Function):
    """(N, g * k, *) -> (N, k * g, *): channel ``i * k + j`` moves to ``j * g + i``. Its adjoint
    is the same shuffle with ``k`` groups."""

    node_name = "ChannelShuffleBackward0"

    @staticmethod
    def forward(ctx, input, groups):
        batch, channels, *rest = input.shape
        ctx.groups = channels // groups
        grouped = input.reshape(batch, groups, channels // groups, *rest)
        return grouped.transpose(1, 2).reshape(input.shape)

    @staticmethod
    def backward(ctx, grad):
        return _ChannelShuffle.apply(grad, ctx.groups), None


def channel_shuffle(input, groups):
    """Interleave the channels of ``groups`` groups (ShuffleNet): (N, C, *) in, same shape out."""
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes "
                           f"{list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    if input.shape[1] % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {input.shape[1]} channels "
                           f"and {groups} groups.")
    return _ChannelShuffle.apply(input, groups)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """``input / (k + alpha * mean of input^2 over size neighbouring channels) ** beta``; the
    window is centred (``size // 2`` channels before) and zero-padded at the ends."""
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.dim()} dimensions)")
    if input.numel() == 0:
        return input
    squares = input * input
    padding = [0, 0] * (input.dim() - 2) + [size // 2, (size - 1) // 2]
    windows = pad(squares, padding).unfold(1, size, 1)  # (N, C, *, size)
    return input / (windows.mean(-1) * alpha + k) ** beta


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """A sample of the Gumbel-softmax (concrete) distribution over ``dim``: softmax of
    ``(logits + Gumbel noise) / tau``; ``hard`` returns the one-hot argmax with the soft
    sample's gradient (the straight-through estimator)."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    with autograd.no_grad():
        gumbels = ops.empty_like(logits).exponential_().log_().neg_()
    soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return soft
    index = soft.argmax(dim, keepdim=True)
    one_hot_max = ops.zeros_like(logits).scatter_(dim, index, 1.0)
    return one_hot_max - soft.detach() + soft


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad) // 2`` dims, ``pad = (last_left, last_right, prev_left, ...)``."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if mode != "constant":
        if mode not in ("reflect", "replicate", "circular"):
            raise NotImplementedError(f"Unrecognised padding mode {mode}")
        if value is not None and value != 0:
            raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
        return index_pad(input, tuple(int(p) for p in pad), mode)
    if len(pad) // 2 > input.dim():
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension "
                           f"but got padding length {len(pad)} and input of dimension {input.dim()}")
    return _ConstantPadNd.apply(input, tuple(int(p) for p in pad), 0 if value is None else value)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim``."""
    denom = ops.norm(input, p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    return input / denom


def flatten(input, start_dim=0, end_dim=-1):
    return ops.flatten(input, start_dim, end_dim)


def unflatten(input, dim, sizes):
    return ops.unflatten(input, dim, sizes)


from ._embedding_bag import embedding_bag  # noqa: E402,F401  (it builds on embedding above)
