"""Attention: ``scaled_dot_product_attention`` and ``multi_head_attention_forward``, composed
of batched matmuls, softmax and views (so both devices and autograd come from the core ops)."""

from __future__ import annotations

import math
import warnings

from .. import dtypes as _dt
from .. import ops


def _additive_mask(mask, dtype, true_attends):
    """A boolean mask as 0 / -inf (True attends in scaled_dot_product_attention, True is
    masked in MultiheadAttention, as in torch); a float mask as it is."""
    if mask is None or mask.dtype is not _dt.bool:
        return mask
    blocked = ~mask if true_attends else mask
    return ops.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(blocked, -math.inf)


def _safe_softmax(scores, masked):
    """softmax over the last dim; when a mask was added, a row masked everywhere (all -inf)
    gives zeros and a zero gradient, not NaN, as torch's (its scores are replaced before the
    softmax). No host sync: the rows are found and replaced on the device."""
    if not masked:
        return scores.softmax(-1)
    blocked = (scores == -math.inf).all(-1, keepdim=True)
    return scores.masked_fill(blocked, 0).softmax(-1).masked_fill(blocked, 0)


#: the ``nn.attention.sdpa_kernel`` backends in force: None outside any, else their names
enabled_backends = None


def _check_backend_allowed():
    """Inside ``sdpa_kernel`` with only backends tritensor cannot run (see nn/attention), the
    attention that would go through SDPA raises torch's error."""
    if enabled_backends is not None:
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. This is likely due "
                           "to turning off both the math kernel and the fused kernels. (tritensor runs MATH "
                           f"and FLASH_ATTENTION on its math kernel; enabled: {sorted(enabled_backends)})")


def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False
):
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two dims; ``is_causal``
    masks the keys after each query; ``enable_gqa`` shares each key/value head among a group
    of query heads."""
    _check_backend_allowed()
    if not query.dtype is key.dtype is value.dtype:
        raise RuntimeError(
            f"Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{_c_name(query.dtype)} key.dtype: {_c_name(key.dtype)} and value.dtype: "
            f"{_c_name(value.dtype)} instead."
        )
    if is_causal and attn_mask is not None:
        raise RuntimeError(
            "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"
        )
    if enable_gqa and query.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        groups = query.shape[-3] // key.shape[-3]
        key, value = key.repeat_interleave(groups, -3), value.repeat_interleave(groups, -3)
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = ops.matmul(query, key.transpose(-2, -1)) * scale
    if is_causal:
        n_query, n_key = scores.shape[-2], scores.shape[-1]
        future = ops.ones((n_query, n_key), dtype=_dt.bool, device=query.device).triu(1)
        scores = scores.masked_fill(future, -math.inf)
    if attn_mask is not None:
        scores = scores + _additive_mask(attn_mask, scores.dtype, true_attends=True)
    weights = _safe_softmax(scores, masked=is_causal or attn_mask is not None)
    if dropout_p > 0.0:
        from .functional import dropout

        weights = dropout(weights, dropout_p)
    return ops.matmul(weights, value)


def _c_name(dtype):
    """torch's C++ dtype name (``float``, ``double``, ``int``) that its attention errors print."""
    return {
        _dt.float32: "float",
        _dt.float64: "double",
        _dt.float16: "c10::Half",
        _dt.bfloat16: "c10::BFloat16",
        _dt.int32: "int",
        _dt.int64: "long int",
    }.get(dtype, str(dtype).replace("torch.", ""))


def _project(query, key, value, weights, biases):
    """The query/key/value projections: one linear when the three inputs are one tensor."""
    from .functional import linear

    w_q, w_k, w_v = weights
    b_q, b_k, b_v = biases
    if query is key and key is value and w_q.shape == w_k.shape == w_v.shape and weights.packed is not None:
        return linear(query, weights.packed, biases.packed).chunk(3, -1)
    return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)


class _Triple(tuple):
    """Three per-projection tensors, and the packed tensor they are views of (or None)."""

    packed = None

    @classmethod
    def of(cls, packed=None, parts=(None, None, None)):
        triple = cls(packed.chunk(3) if packed is not None else parts)
        triple.packed = packed
        return triple


def multi_head_attention_forward(
    query,
    key,
    value,
    embed_dim_to_check,
    num_heads,
    in_proj_weight,
    in_proj_bias,
    bias_k,
    bias_v,
    add_zero_attn,
    dropout_p,
    out_proj_weight,
    out_proj_bias,
    training=True,
    key_padding_mask=None,
    need_weights=True,
    attn_mask=None,
    use_separate_proj_weight=False,
    q_proj_weight=None,
    k_proj_weight=None,
    v_proj_weight=None,
    static_k=None,
    static_v=None,
    average_attn_weights=True,
    is_causal=False,
):
    """torch's multi-head attention on (sequence, batch, embed) inputs (or unbatched (sequence,
    embed)): project, split into heads, attend, merge the heads and project out."""
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k/static_v are not supported")
    batched = query.dim() == 3
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    n_query, batch, embed = query.shape
    if embed != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed}")
    head_dim = embed // num_heads
    if head_dim * num_heads != embed:
        raise AssertionError(f"embed_dim {embed} not divisible by num_heads {num_heads}")
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
            "method `generate_square_subsequent_mask` to create this mask."
        )

    weights = (
        _Triple.of(parts=(q_proj_weight, k_proj_weight, v_proj_weight))
        if use_separate_proj_weight
        else _Triple.of(in_proj_weight)
    )
    biases = _Triple.of(in_proj_bias)
    q, k, v = _project(query, key, value, weights, biases)

    if (
        key_padding_mask is not None
        and attn_mask is not None
        and key_padding_mask.dtype is not attn_mask.dtype
    ):
        warnings.warn(
            "Support for mismatched key_padding_mask and attn_mask is deprecated. Use same type for "
            "both instead.",
            stacklevel=3,
        )
    mask = _additive_mask(attn_mask, q.dtype, true_attends=False)
    if mask is not None and mask.dim() == 2:
        mask = mask.unsqueeze(0)
    padding = _additive_mask(key_padding_mask, q.dtype, true_attends=False)
    if bias_k is not None and bias_v is not None:
        k = ops.cat([k, bias_k.expand(1, batch, embed)])
        v = ops.cat([v, bias_v.expand(1, batch, embed)])
        mask, padding = _pad_last(mask), _pad_last(padding)

    def heads(t):  # (sequence, batch, embed) -> (batch * heads, sequence, head_dim)
        return t.reshape(t.shape[0], batch * num_heads, head_dim).transpose(0, 1)

    q, k, v = heads(q), heads(k), heads(v)
    if add_zero_attn:
        zeros = ops.zeros((batch * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k, v = ops.cat([k, zeros], 1), ops.cat([v, zeros], 1)
        mask, padding = _pad_last(mask), _pad_last(padding)
    n_key = k.shape[1]
    if padding is not None:
        padding = padding.view(batch, 1, 1, n_key).expand(batch, num_heads, 1, n_key)
        padding = padding.reshape(batch * num_heads, 1, n_key)
        mask = padding if mask is None else mask + padding

    scores = ops.bmm(q * (1 / math.sqrt(head_dim)), k.transpose(1, 2))
    if mask is not None:
        scores = scores + mask
    # torch returns weights through a plain softmax (a fully masked row is NaN) and attends
    # without them through scaled_dot_product_attention (zeros there)
    if not need_weights:
        _check_backend_allowed()
    attention = scores.softmax(-1) if need_weights else _safe_softmax(scores, masked=mask is not None)
    if dropout_p > 0.0 and training:
        from .functional import dropout

        attention = dropout(attention, dropout_p)
    out = ops.bmm(attention, v).transpose(0, 1).reshape(n_query * batch, embed)
    from .functional import linear

    out = linear(out, out_proj_weight, out_proj_bias).view(n_query, batch, embed)
    if not batched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    attention = attention.view(batch, num_heads, n_query, n_key)
    if average_attn_weights:
        attention = attention.mean(1)
    return out, attention if batched else attention.squeeze(0)


def _pad_last(mask):
    """One more (unmasked) key at the end of a mask's last dim."""
    if mask is None:
        return None
    from .functional import pad

    return pad(mask, (0, 1))
