"""scaled_dot_product_attention and MultiheadAttention against torch: values, weights,
gradients, masks, layouts and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, ORACLE_DEVICE, TORCH_2_13, Arg, check, dev, gradcheck, to_numpy

rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def g(x, dtype=None):
    return Arg(x, dtype=dtype, requires_grad=True)


def F(lib):
    return lib.nn.functional


def sdpa(**kwargs):
    return lambda lib, q, k, v, *mask: F(lib).scaled_dot_product_attention(q, k, v, *mask, **kwargs)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "shapes",
    [
        ((2, 3, 4), (2, 5, 4), (2, 5, 6)),
        ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4)),
        ((3, 4), (5, 4), (5, 2)),
        ((2, 0, 4), (2, 5, 4), (2, 5, 6)),
    ],
)
def test_sdpa(dtype, shapes):
    q, k, v = (g(randn(*s), dtype) for s in shapes)
    check(sdpa(), q, k, v, same_node=False)
    check(sdpa(scale=0.3), q, k, v, same_node=False)


def test_sdpa_masks_and_causal():
    q, k, v = g(randn(2, 3, 4)), g(randn(2, 5, 4)), g(randn(2, 5, 6))
    keep = rng.random((3, 5)) > 0.3
    keep[:, 0] = True
    check(sdpa(), q, k, v, keep, same_node=False)
    check(sdpa(), q, k, v, g(randn(2, 3, 5)), same_node=False)  # an additive mask, with its own gradient
    check(sdpa(is_causal=True), q, k, v, same_node=False)
    check(sdpa(is_causal=True), g(randn(2, 5, 4)), k, v, same_node=False)
    blocked = keep.copy()
    blocked[1] = False  # a query that may attend to nothing: zeros, as torch
    check(sdpa(), q, k, v, blocked, same_node=False)


def test_sdpa_grouped_query_heads_and_errors():
    check(
        sdpa(enable_gqa=True),
        g(randn(2, 4, 3, 4)),
        g(randn(2, 2, 5, 4)),
        g(randn(2, 2, 5, 4)),
        same_node=False,
    )
    check(sdpa(is_causal=True), randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 6), np.ones((3, 5), bool))
    check(sdpa(), randn(2, 3, 4), randn(2, 5, 4), randn(2, 4, 6))
    check(sdpa(), randn(2, 3, 4), randn(2, 5, 4).astype(np.float64), randn(2, 5, 6))
    gradcheck(
        lambda lib, q, k, v: F(lib).scaled_dot_product_attention(q, k, v, is_causal=True),
        randn(1, 3, 2),
        randn(1, 3, 2),
        randn(1, 3, 2),
    )


def test_sdpa_dropout_is_random_and_scaled():
    q, k, v = (tritensor.tensor(randn(1, 64, 8), device=DEVICE) for _ in range(3))
    tritensor.manual_seed(1)
    a = F(tritensor).scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    tritensor.manual_seed(1)
    b = F(tritensor).scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    plain = F(tritensor).scaled_dot_product_attention(q, k, v)
    np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    assert not np.allclose(to_numpy(a), to_numpy(plain))
    assert abs(to_numpy(a).mean() - to_numpy(plain).mean()) < 0.1  # the kept weights are scaled by 2


def _pair(kwargs, seed=0):
    """The same MultiheadAttention in torch and tritensor (torch's initial weights)."""
    torch.manual_seed(seed)
    theirs = torch.nn.MultiheadAttention(**kwargs)
    ours = tritensor.nn.MultiheadAttention(**kwargs).to(DEVICE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.load_state_dict(
            {k: tritensor.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
        )
    for name, value in (("bias_k", theirs.bias_k), ("bias_v", theirs.bias_v)):
        if value is not None:
            with tritensor.no_grad():
                getattr(ours, name).copy_(tritensor.tensor(value.detach().numpy()))
    return theirs.to(ORACLE_DEVICE), ours


@pytest.mark.parametrize(
    "kwargs",
    [
        {"embed_dim": 8, "num_heads": 2},
        {"embed_dim": 8, "num_heads": 1, "bias": False},
        {"embed_dim": 8, "num_heads": 4, "kdim": 3, "vdim": 5},
        {"embed_dim": 8, "num_heads": 2, "batch_first": True},
        {"embed_dim": 8, "num_heads": 2, "add_bias_kv": True},
        {"embed_dim": 8, "num_heads": 2, "add_zero_attn": True},
        {"embed_dim": 8, "num_heads": 2, "add_bias_kv": True, "add_zero_attn": True, "kdim": 6, "vdim": 6},
    ],
)
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_multihead_attention(kwargs, need_weights, average):
    theirs, ours = _pair(kwargs)
    n_query, n_key, batch = 3, 4, 2
    layout = (lambda s, b, e: (b, s, e)) if kwargs.get("batch_first") else (lambda s, b, e: (s, b, e))
    q = randn(*layout(n_query, batch, 8))
    k = randn(*layout(n_key, batch, kwargs.get("kdim", 8)))
    v = randn(*layout(n_key, batch, kwargs.get("vdim", 8)))
    padding = np.zeros((batch, n_key), bool)
    padding[1, -1] = True
    mask = randn(n_query, n_key)

    def run(lib, q, k, v, padding, mask):
        model = ours if lib is tritensor else theirs
        out, weights = model(
            q,
            k,
            v,
            key_padding_mask=padding,
            need_weights=need_weights,
            attn_mask=mask,
            average_attn_weights=average,
        )
        params = [p for p in model.parameters()]
        loss = out.square().sum() + (weights.sum() if weights is not None else 0)
        grads = lib.autograd.grad(loss, params + [q])
        return [out] + ([weights] if weights is not None else []) + [gr.detach() for gr in grads]

    with pytest.warns(UserWarning, match="mismatched key_padding_mask"):  # as torch's, both calls
        check(run, g(q), g(k), g(v), padding, mask, grad=False)


def test_multihead_attention_self_attention_masks_and_unbatched():
    theirs, ours = _pair({"embed_dim": 6, "num_heads": 3})
    x = randn(4, 2, 6)
    causal = np.triu(
        np.ones((4, 4), bool), 1
    )  # True = masked, as torch's MultiheadAttention reads a bool mask

    def run(lib, x, mask, unbatched):
        model = ours if lib is tritensor else theirs
        if unbatched:
            x = x[:, 0]
        return list(model(x, x, x, attn_mask=mask, is_causal=True))

    for unbatched in (False, True):
        check(lambda lib, x, m: run(lib, x, m, unbatched), g(x), causal, same_node=False)
    check(lambda lib, x, m: run(lib, x, m, False), g(x), randn(2 * 3, 4, 4), same_node=False)  # per head


def test_batch_first_self_attention_projects_once(monkeypatch):
    """batch_first transposes the inputs; one tensor passed as query, key and value stays one
    tensor through it, so the three projections are one product (as in torch's module)."""
    theirs, ours = _pair({"embed_dim": 8, "num_heads": 2, "batch_first": True})
    x = randn(2, 5, 8)
    check(lambda lib, x: list((ours if lib is tritensor else theirs)(x, x, x)), g(x), same_node=False)
    projected, linear = [], tritensor.nn.functional.linear

    def recorded_linear(input, weight, *args):
        projected.append(tuple(weight.shape))
        return linear(input, weight, *args)
    monkeypatch.setattr(tritensor.nn.functional, "linear", recorded_linear)
    ours(*[tritensor.tensor(x, device=DEVICE)] * 3)
    assert projected == [(24, 8), (8, 8)]  # the packed q/k/v projection, then the output one


def test_multihead_attention_repr_parameters_and_errors():
    for kwargs in [
        {"embed_dim": 8, "num_heads": 2},
        {"embed_dim": 8, "num_heads": 2, "kdim": 3, "vdim": 5, "add_bias_kv": True},
    ]:
        assert repr(tritensor.nn.MultiheadAttention(**kwargs)) == repr(torch.nn.MultiheadAttention(**kwargs))
        assert [n for n, _ in tritensor.nn.MultiheadAttention(**kwargs).named_parameters()] == [
            n for n, _ in torch.nn.MultiheadAttention(**kwargs).named_parameters()
        ]
    with pytest.raises(AssertionError):
        tritensor.nn.MultiheadAttention(8, 3)
    with pytest.raises(ValueError):
        tritensor.nn.MultiheadAttention(0, 1)
    m = tritensor.nn.MultiheadAttention(8, 2).to(DEVICE)
    x = tritensor.ones(3, 2, 8, device=DEVICE)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        m(x, x, x, is_causal=True)
    with pytest.raises(AssertionError):
        m(x.view(3, 2, 2, 4), x, x)
    np.testing.assert_array_equal(to_numpy(m.in_proj_bias), 0)
    w = to_numpy(m.in_proj_weight)
    assert np.abs(w).max() <= np.sqrt(6 / (8 + 24)) and w.std() > 0.1
    assert m(x, x, x)[0].device.type == dev(tritensor).split(":")[0]


def _copy_weights(theirs, ours):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.load_state_dict(
            {k: tritensor.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
        )
    theirs.to(ORACLE_DEVICE)  # in place, as torch's Module.to
    return ours.to(DEVICE)


def _build(name, *args, **kwargs):
    """The same layer in torch and tritensor, torch's initial weights, dropout off (eval)."""
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's nested-tensor notice
        theirs = getattr(torch.nn, name)(*args, **kwargs).eval()
    ours = _copy_weights(theirs, getattr(tritensor.nn, name)(*args, **kwargs).eval())
    return theirs, ours


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"norm_first": True},
        {"activation": "gelu", "batch_first": True},
        {"bias": False},
        {"norm_first": True, "activation": "relu", "layer_norm_eps": 1e-3},
    ],
)
def test_transformer_encoder_and_decoder_layers(kwargs):
    enc_t, enc_o = _build("TransformerEncoderLayer", 8, 2, 16, **kwargs)
    dec_t, dec_o = _build("TransformerDecoderLayer", 8, 2, 16, **kwargs)
    batch_first = kwargs.get("batch_first", False)
    src = randn(*((2, 5, 8) if batch_first else (5, 2, 8)))
    tgt = randn(*((2, 3, 8) if batch_first else (3, 2, 8)))
    padding = np.zeros((2, 5), bool)
    padding[0, -2:] = True
    causal = np.triu(np.ones((3, 3), bool), 1)

    def run(lib, src, tgt, padding, causal):
        enc, dec = (enc_o, dec_o) if lib is tritensor else (enc_t, dec_t)
        memory = enc(src, src_key_padding_mask=padding)
        out = dec(tgt, memory, tgt_mask=causal, memory_key_padding_mask=padding)
        grads = lib.autograd.grad(out.square().sum(), list(enc.parameters()) + list(dec.parameters()) + [src])
        return [memory, out] + list(grads)

    check(run, g(src), g(tgt), padding, causal, grad=False)


def test_transformer_stacks_and_masks():
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's nested-tensor notice
        theirs = torch.nn.Transformer(8, 2, 2, 1, 16, dropout=0.0)
    ours = _copy_weights(theirs, tritensor.nn.Transformer(8, 2, 2, 1, 16, dropout=0.0))
    assert repr(ours) == repr(theirs) or not TORCH_2_13
    src, tgt = randn(5, 2, 8), randn(3, 2, 8)

    def run(lib, src, tgt):
        model = ours if lib is tritensor else theirs
        mask = lib.nn.Transformer.generate_square_subsequent_mask(3, device=dev(lib))
        out = model(src, tgt, tgt_mask=mask)
        grads = lib.autograd.grad(out.sum(), [src, tgt])
        return [mask, out] + list(grads)

    check(run, g(src), g(tgt), grad=False)
    check(lambda lib, s, t: (ours if lib is tritensor else theirs)(s, t), randn(5, 2, 8), randn(3, 3, 8))
    check(lambda lib, s, t: (ours if lib is tritensor else theirs)(s, t), randn(5, 2, 8), randn(3, 2, 6))


def test_transformer_encoder_training_matches_torch_without_dropout():
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
        theirs = torch.nn.TransformerEncoder(layer, 2, norm=torch.nn.LayerNorm(8))
    ours = _copy_weights(
        theirs,
        tritensor.nn.TransformerEncoder(
            tritensor.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
            2,
            norm=tritensor.nn.LayerNorm(8),
        ),
    )
    x, y = randn(4, 6, 8), randn(4, 6, 8)
    curves = []
    for lib, model in ((torch, theirs), (tritensor, ours)):
        opt = lib.optim.Adam(model.parameters(), lr=1e-2)
        curve = []
        for _ in range(3):
            opt.zero_grad()
            loss = F(lib).mse_loss(model(lib.tensor(x, device=dev(lib))), lib.tensor(y, device=dev(lib)))
            loss.backward()
            opt.step()
            curve.append(loss.item())
        curves.append(curve)
    np.testing.assert_allclose(curves[1], curves[0], rtol=1e-5)
