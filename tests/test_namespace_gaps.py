"""torch-namespace gaps: ATen's native_* forms, low-level functional forms, runtime flags,
Tensor attributes, inference tensors, torch.return_types, SobolEngine and signal.windows."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, Arg, assert_same, check, dev, gradcheck

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


# ---------------------------------------------------------------------------- native norms
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
def test_native_layer_norm(dtype):
    check(lambda lib, x, w, b: lib.native_layer_norm(x, [4], w, b, 1e-5),
          Arg(randn(2, 3, 4), dtype, requires_grad=True), Arg(randn(4), dtype, requires_grad=True),
          Arg(randn(4), dtype, requires_grad=True))


def test_native_layer_norm_options_and_errors():
    check(lambda lib, x: lib.native_layer_norm(x.permute(0, 2, 1), (3, 2), None, None, 1e-3),
          Arg(randn(4, 2, 3), requires_grad=True))
    check(lambda lib, x: lib.native_layer_norm(x, [5], None, None, 1e-5), Arg(randn(2, 4)))
    check(lambda lib, x: lib.native_layer_norm(x, [4], None, None, 1e-5),
          Arg(randn(0, 4), requires_grad=True))


@pytest.mark.parametrize("training", [True, False])
def test_native_batch_norm(training):
    def fn(lib, x, w, b):
        mean = lib.zeros(3, dtype=x.dtype, device=dev(lib)) + 0.5
        var = lib.ones(3, dtype=x.dtype, device=dev(lib)) * 2
        out = lib.native_batch_norm(x, w, b, mean, var, training, 0.3, 1e-5)
        return out + (mean, var)
    check(fn, Arg(randn(4, 3, 5), requires_grad=True), Arg(randn(3), requires_grad=True),
          Arg(randn(3), requires_grad=True))


def test_native_batch_norm_no_running_stats():
    check(lambda lib, x: lib.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5),
          Arg(randn(4, 3), dtype="float64", requires_grad=True))


def test_native_group_norm():
    def fn(lib, x, w, b):
        out, mean, rstd = lib.native_group_norm(x, w, b, 2, 6, 4, 3, 1e-5)
        assert mean.requires_grad and rstd.requires_grad  # like torch's
        return out, mean.detach(), rstd.detach()
    check(fn, Arg(randn(2, 6, 4), requires_grad=True), Arg(randn(6), requires_grad=True),
          Arg(randn(6), requires_grad=True), same_node=False)  # ours: a composite's last node
    check(lambda lib, x: lib.native_group_norm(x, None, None, 2, 6, 4, 4, 1e-5), Arg(randn(2, 6, 4)))


def test_native_norm_is_sparse_only_like_torch():
    check(lambda lib, x: lib.native_norm(x), Arg(randn(3)))


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_norm_except_dim(dim):
    check(lambda lib, v: lib.norm_except_dim(v, 2, dim), Arg(randn(2, 3, 4), requires_grad=True),
          same_node=False)
    gradcheck(lambda lib, v: lib.norm_except_dim(v, 2, dim), randn(2, 3, 2))


# ---------------------------------------------------------------------------- conv / pad / bag
@pytest.mark.parametrize("transposed", [False, True])
def test_convolution(transposed):
    weight = randn(4, 2, 3) if transposed else randn(2, 4, 3)
    output_padding = [1 if transposed else 0]
    check(lambda lib, x, w, b: lib.convolution(x, w, b, [2], [1], [1], transposed, output_padding, 2),
          Arg(randn(2, 4, 6), requires_grad=True), Arg(weight, requires_grad=True),
          Arg(randn(4 if transposed else 2), requires_grad=True))


def test_convolution_2d_and_errors():
    check(lambda lib, x, w: lib.convolution(x, w, None, [1, 1], [0, 1], [1, 1], False, [0, 0], 1),
          Arg(randn(1, 2, 4, 4), requires_grad=True), Arg(randn(3, 2, 2, 2), requires_grad=True))
    check(lambda lib, x, w: lib.convolution(x, w, None, [1], [0], [1], False, [0], 1),
          Arg(randn(1, 2, 4)), Arg(randn(3, 5, 2)))


@pytest.mark.parametrize("pad, value", [([1, 2], 0.0), ([1, 0, -1, 2], 2.5), ([0, 0, 0, 0, 1, 1], -1.0)])
def test_constant_pad_nd(pad, value):
    check(lambda lib, x: lib.constant_pad_nd(x, pad, value), Arg(randn(2, 3, 4), requires_grad=True))


def test_constant_pad_nd_dtypes():
    check(lambda lib, x: lib.constant_pad_nd(x, [1, 1]), Arg(rng.integers(0, 5, (2, 3)), "int64"))
    check(lambda lib, x: lib.constant_pad_nd(x, [1, 1], 1.5), Arg(randn(2, 3), "float16"))


@pytest.mark.parametrize("mode", [0, 1, 2])
def test_embedding_bag_four_tuple(mode):
    def fn(lib, w):
        idx = lib.tensor([1, 2, 4, 5, 7], device=dev(lib))
        offsets = lib.tensor([0, 2], device=dev(lib))
        return lib.embedding_bag(w, idx, offsets, False, mode)
    check(fn, Arg(randn(10, 3), requires_grad=True), same_node=False)  # ours: a composite's last node
    check(fn, Arg(randn(10, 3), "float32"))


def test_embedding_bag_options():
    def fn(lib, w, psw):
        idx = lib.tensor([1, 2, 4, 5, 2], device=dev(lib))
        offsets = lib.tensor([0, 2, 5], device=dev(lib))
        return lib.embedding_bag(w, idx, offsets, False, 0, False, psw, True, 2)
    check(fn, Arg(randn(10, 3), requires_grad=True), Arg(randn(5), requires_grad=True), same_node=False)

    def mean_padded(lib, w):
        idx = lib.tensor([1, 2, 3, 2, 4, 2], device=dev(lib))
        offsets = lib.tensor([0, 3, 3], device=dev(lib))
        return lib.embedding_bag(w, idx, offsets, False, 1, False, None, False, 2)
    check(mean_padded, Arg(randn(6, 2), requires_grad=True), same_node=False)
    check(lambda lib, w: lib.embedding_bag(w, lib.tensor([1, 2], device=dev(lib)), None), Arg(randn(6, 2)))


# ---------------------------------------------------------------------------- flat-weights RNNs
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


def _rnn_weights(mode, input_size, hidden, layers, directions, bias, proj=0):
    """torch's flat order: per layer, per direction: w_ih, w_hh, (b_ih, b_hh), (w_hr)."""
    gate, out = GATES[mode] * hidden, proj or hidden
    arrays = []
    for layer in range(layers):
        width = input_size if layer == 0 else out * directions
        for _ in range(directions):
            arrays += [randn(gate, width) * 0.5, randn(gate, out) * 0.5]
            arrays += [randn(gate) * 0.1, randn(gate) * 0.1] if bias else []
            arrays += [randn(proj, hidden) * 0.5] if proj else []
    return [Arg(a, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("mode", list(GATES))
def test_flat_weight_rnns(mode):
    weights = _rnn_weights(mode, 3, 4, 2, 2, True)
    states = 2 if mode == "lstm" else 1

    def fn(lib, x, *args):
        hx, params = list(args[:states]), list(args[states:])
        state = hx if mode == "lstm" else hx[0]
        return getattr(lib, mode)(x, state, params, True, 2, 0.0, False, True, False)
    hx = [Arg(randn(4, 2, 4), requires_grad=True) for _ in range(states)]
    check(fn, Arg(randn(3, 2, 3), requires_grad=True), *hx, *weights, same_node=False)


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_flat_weight_rnns_batch_first_no_bias_packed(mode):
    weights = _rnn_weights(mode, 3, 4, 1, 1, False)
    states = 2 if mode == "lstm" else 1

    def batch_first(lib, x, *args):
        hx, params = list(args[:states]), list(args[states:])
        state = hx if mode == "lstm" else hx[0]
        return getattr(lib, mode)(x, state, params, False, 1, 0.0, False, False, True)
    hx = [Arg(randn(1, 2, 4), requires_grad=True) for _ in range(states)]
    check(batch_first, Arg(randn(2, 3, 3), requires_grad=True), *hx, *weights, same_node=False)

    def packed(lib, data, *args):
        hx, params = list(args[:states]), list(args[states:])
        sizes = lib.tensor([2, 2, 1])
        return getattr(lib, mode)(data, sizes, hx if mode == "lstm" else hx[0], params, False, 1, 0.0, False,
                                  False)
    check(packed, Arg(randn(5, 3), requires_grad=True), *hx, *weights, same_node=False)


def test_lstm_projection_form():
    weights = _rnn_weights("lstm", 3, 4, 1, 1, True, proj=2)

    def fn(lib, x, h, c, *params):
        return lib.lstm(x, [h, c], list(params), True, 1, 0.0, False, False, False)
    check(fn, Arg(randn(3, 2, 3), requires_grad=True), Arg(randn(1, 2, 2)), Arg(randn(1, 2, 4)), *weights,
          same_node=False)


# ---------------------------------------------------------------------------- segment_reduce
SEGMENT_DATA = np.array([1.5, -2.0, 3.0, 4.0, -5.0, 6.0, 0.5])


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "prod", "amax"])
@pytest.mark.parametrize("initial", [None, 1.0])
def test_segment_reduce(reduce, initial):
    def fn(lib, d):
        lengths = lib.tensor([2, 0, 4, 1], device=dev(lib))
        return lib.segment_reduce(d, reduce, lengths=lengths, initial=initial)
    check(fn, Arg(SEGMENT_DATA, requires_grad=True), same_node=False)  # ours: the fold's node


@pytest.mark.parametrize("reduce", ["sum", "max", "mean"])
def test_segment_reduce_offsets_axis_unsafe_dtypes(reduce):
    def batched(lib, d):
        lengths = lib.tensor([[1, 2, 1], [0, 3, 1], [4, 0, 0]], device=dev(lib))
        return lib.segment_reduce(d, reduce, lengths=lengths, axis=1)
    check(batched, Arg(randn(3, 4, 2), requires_grad=True), same_node=False)
    check(lambda lib, d: lib.segment_reduce(d, reduce, offsets=lib.tensor([0, 1, 3], device=dev(lib))),
          Arg(randn(3, 2), transpose=True, requires_grad=True), same_node=False)
    check(lambda lib, d: lib.segment_reduce(d, reduce, lengths=lib.tensor([1, 2], device=dev(lib)),
                                            unsafe=True), Arg(randn(5), "float32"))
    for dtype in ("float16", "bfloat16"):
        check(lambda lib, d: lib.segment_reduce(d, reduce, lengths=lib.tensor([3, 2], device=dev(lib))),
              Arg(SEGMENT_DATA[:5], dtype))


def test_segment_reduce_gradients():
    check(lambda lib, d: lib.segment_reduce(d, "max", lengths=lib.tensor([2, 1], device=dev(lib))),
          Arg(np.array([2.0, 2.0, 1.0]), requires_grad=True), same_node=False)  # tied maxima share it
    check(lambda lib, d: lib.segment_reduce(d, "prod", lengths=lib.tensor([2, 2, 2], device=dev(lib))),
          Arg(np.array([2.0, 2.0, 0.0, 3.0, 0.0, 0.0]), requires_grad=True), same_node=False)
    for reduce in ("sum", "mean", "prod", "max"):
        lengths = [3, 1, 2]
        gradcheck(lambda lib, d: lib.segment_reduce(d, reduce, lengths=lib.tensor(lengths, device=dev(lib))),
                  randn(6))


def test_segment_reduce_errors():
    data = Arg(SEGMENT_DATA)
    calls = [lambda lib, d: lib.segment_reduce(d, "sum"),
             lambda lib, d: lib.segment_reduce(d, "sum", lengths=lib.tensor([2, 2], device=dev(lib))),
             lambda lib, d: lib.segment_reduce(d, "sum", lengths=lib.tensor([2, -1, 6], device=dev(lib))),
             lambda lib, d: lib.segment_reduce(d, "sum", indices=lib.tensor([0, 1], device=dev(lib))),
             lambda lib, d: lib.segment_reduce(d, "sum", lengths=lib.tensor([3.0, 4.0], device=dev(lib))),
             lambda lib, d: lib.segment_reduce(d, "foo", lengths=lib.tensor([7], device=dev(lib))),
             lambda lib, d: lib.segment_reduce(d.long(), "sum", lengths=lib.tensor([7], device=dev(lib))),
             lambda lib, d: lib.segment_reduce(d.view(1, 7), "sum", lengths=lib.tensor([7], device=dev(lib)),
                                               axis=1)]
    for call in calls:
        check(call, data)


# ---------------------------------------------------------------------------- creation / views
def test_empty_permuted():
    for lib in (torch, tritensor):
        t = lib.empty_permuted((2, 3, 4), (0, 2, 1), device=dev(lib))
        assert tuple(t.shape) == (2, 3, 4) and t.stride() == (12, 1, 3)
    check(lambda lib: lib.empty_permuted((2, 3), (0, 0)).shape)


def test_new_empty_strided():
    for lib in (torch, tritensor):
        t = lib.ones(2, dtype=lib.float64, device=dev(lib)).new_empty_strided((2, 3), (1, 2))
        assert t.stride() == (1, 2) and t.dtype == lib.float64 and t.device.type == dev(lib)


@pytest.mark.parametrize("size, fill", [(2, -1), (5, -7), (0, -1)])
def test_nonzero_static(size, fill):
    data = np.array([[0, 1, 0], [2, 0, 3]])
    check(lambda lib, x: lib.nonzero_static(x, size=size, fill_value=fill), Arg(data, "int64"))
    check(lambda lib, x: x.nonzero_static(size=size), Arg(data, "float32"))


def test_nonzero_static_errors_and_scalars():
    check(lambda lib, x: lib.nonzero_static(x, size=-1), Arg(np.array([1, 0]), "int64"))
    check(lambda lib, x: lib.nonzero_static(x, size=2), Arg(np.array(3.0)))


def test_as_strided_in_place_and_scatter():
    def in_place(lib, x):
        y = x.clone()
        r = lib.as_strided_(y, (2, 2), (1, 2), 1)
        assert r is y
        return y * 1
    check(in_place, Arg(randn(6)))
    with pytest.raises(NotImplementedError, match="as_strided"):
        tritensor.ones(6, requires_grad=True).clone().as_strided_((2,), (1,))
    check(lambda lib, x: x.clone().as_strided_((3,), (2,)), Arg(randn(6)))
    # torch 2.13's input gradient sends the gradient to the overwritten elements (zero elsewhere);
    # ours is the derivative (the kept elements' gradient), so that one is checked by gradcheck
    check(lambda lib, x, s: lib.as_strided_scatter(x, s, (2, 2), (1, 2), 1),
          Arg(randn(6)), Arg(randn(2, 2), requires_grad=True), same_node=False)
    gradcheck(lambda lib, x, s: lib.as_strided_scatter(x, s, (2, 2), (1, 2), 1), randn(6), randn(2, 2))
    check(lambda lib, x, s: x.as_strided_scatter(s, (2, 2), (1, 2)), Arg(randn(6)), Arg(randn(3, 2)))


def test_adjoint():
    check(lambda lib, x: lib.adjoint(x), Arg(randn(2, 3, 4), requires_grad=True))
    check(lambda lib, x: x.adjoint(), Arg(randn(3, 4), transpose=True, requires_grad=True))
    check(lambda lib, x: x.adjoint(), Arg(randn(3)))


def test_slice_inverse():
    def fn(lib, b):
        return lib.slice_inverse(b[2:8:2], b, 0, 2, 8, 2)
    check(fn, Arg(randn(10)), grad=False)


def test_binomial():
    count = tritensor.tensor([10.0, 0.0, 5.0, 100.0], device=DEVICE)
    prob = tritensor.tensor([0.5, 0.3, 1.0, 0.0], device=DEVICE)
    draws = tritensor.binomial(count, prob).cpu().numpy()
    assert draws[1] == 0 and draws[2] == 5 and draws[3] == 0 and 0 <= draws[0] <= 10
    big = tritensor.binomial(tritensor.full((4000,), 20.0, device=DEVICE), tritensor.full((4000,), 0.25,
                                                                                             device=DEVICE))
    assert abs(float(big.mean()) - 5.0) < 0.2 and big.dtype == tritensor.float32
    check(lambda lib, c, p: lib.binomial(c, p), Arg(np.array([3, 4]), "int64"), Arg(np.array([0.5, 0.5])))
    check(lambda lib, c, p: lib.binomial(c, p), Arg(np.array([3.0]), "float32"),
          Arg(np.array([0.5]), "float64"))


# ---------------------------------------------------------------------------- flags and attributes
def test_tensor_attributes():
    for lib in (torch, tritensor):
        x = lib.ones(2, 3, device=dev(lib), requires_grad=True)
        assert not any(getattr(x, name) for name in ("is_meta", "is_sparse", "is_sparse_csr", "is_quantized",
                                                      "is_nested", "is_mkldnn", "is_xpu", "is_mps"))
        assert x.output_nr == 0 and x.to_dense() is x
        assert x.unbind(0)[1].output_nr == 1
    assert tritensor.newaxis is None and tritensor.ones(2)[:, tritensor.newaxis].shape == (2, 1)


def test_runtime_flags():
    assert tritensor.set_flush_denormal(False) is True
    tritensor.set_num_interop_threads(3)
    assert tritensor.get_num_interop_threads() == 3
    check(lambda lib: lib.set_num_interop_threads(0))
    assert not tritensor.is_warn_always_enabled()
    tritensor.set_warn_always(True)
    assert tritensor.is_warn_always_enabled()
    tritensor.set_warn_always(False)
    for lib in (torch, tritensor):
        assert not lib.is_anomaly_enabled() and lib.is_anomaly_check_nan_enabled()
        lib.set_anomaly_enabled(True, False)
        assert lib.is_anomaly_enabled() and not lib.is_anomaly_check_nan_enabled()
        lib.set_anomaly_enabled(False)
        assert not lib.is_anomaly_enabled() and lib.is_anomaly_check_nan_enabled()


def test_set_default_tensor_type():
    for lib in (torch, tritensor):
        with pytest.warns(UserWarning, match="deprecated"):
            lib.set_default_tensor_type(lib.DoubleTensor)
        try:
            assert lib.get_default_dtype() == lib.float64 and lib.ones(1).dtype == lib.float64
        finally:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lib.set_default_tensor_type("torch.FloatTensor")
        assert lib.get_default_dtype() == lib.float32
        with warnings.catch_warnings(), pytest.raises(TypeError):
            warnings.simplefilter("ignore")
            lib.set_default_tensor_type(lib.LongTensor)


def test_return_types():
    x = tritensor.tensor(randn(3, 4), device=DEVICE)
    assert isinstance(x.max(0), tritensor.return_types.max)
    assert isinstance(x.sort(), tritensor.return_types.sort)
    assert isinstance(tritensor.aminmax(x), tritensor.return_types.aminmax)
    assert isinstance(tritensor.frexp(x), tritensor.return_types.frexp)
    assert tritensor.return_types.linalg_qr._fields == torch.return_types.linalg_qr._fields \
        if hasattr(torch.return_types.linalg_qr, "_fields") else True
    assert tritensor.return_types.histogram in tritensor.return_types.all_return_types


# ---------------------------------------------------------------------------- inference tensors
def test_inference_tensors():
    for lib in (torch, tritensor):
        x = lib.zeros(2, 3, device=dev(lib), requires_grad=True)
        with lib.inference_mode():
            made = lib.ones(2, device=dev(lib))
            product = x * 2
            view_of_normal = x.view(6)
            made.add_(1)  # in-place inside inference mode is allowed
        assert made.is_inference() and lib.is_inference(made) and product.is_inference()
        assert not product.requires_grad and not x.is_inference() and not view_of_normal.is_inference()
        assert made[0].is_inference() and not made.clone().is_inference()
        with lib.no_grad():
            assert not lib.ones(1, device=dev(lib)).is_inference()
        for write in (lambda t: t.add_(1), lambda t: t.mul_(made), lambda t: t.copy_(t + 5),
                      lambda t: t[0].add_(1), lambda t: t.exp_()):
            with pytest.raises(RuntimeError, match="[Ii]nplace update to inference tensor"):
                write(made)
            if lib is tritensor:  # torch writes first, then raises; tritensor refuses before the write
                assert made.tolist() == [2.0, 2.0]
        with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
            x * made[:, None]
        (x.exp() + made[:, None]).sum().backward()  # added, not saved: allowed
        with lib.inference_mode(False):
            assert not lib.ones(1, device=dev(lib)).is_inference()


# ---------------------------------------------------------------------------- SobolEngine
@pytest.mark.parametrize("dimension", [1, 3, 40, 1111])
def test_sobol_unscrambled_equals_torch(dimension):
    ours = tritensor.quasirandom.SobolEngine(dimension)
    ref = torch.quasirandom.SobolEngine(dimension)
    on_cpu = {"device": "cpu"}  # like torch's, the engine draws on the CPU
    assert_same(ref.draw(5, dtype=torch.float64), ours.draw(5, dtype=tritensor.float64), **on_cpu)
    assert_same(ref.draw(3), ours.draw(3), **on_cpu)
    assert_same(ref.fast_forward(8).draw_base2(4), ours.fast_forward(8).draw_base2(4), **on_cpu)
    assert_same(ref.reset().draw(2), ours.reset().draw(2), **on_cpu)
    assert ours.num_generated == ref.num_generated == 2 and repr(ours) == repr(ref)


def test_sobol_errors_and_scrambling():
    for lib in (torch, tritensor):
        with pytest.raises(ValueError, match="dimensionality"):
            lib.quasirandom.SobolEngine(0)
        engine = lib.quasirandom.SobolEngine(3)
        engine.draw(3)
        with pytest.raises(ValueError, match="power of 2"):
            engine.draw_base2(2)
    a = tritensor.quasirandom.SobolEngine(4, scramble=True, seed=7)
    b = tritensor.quasirandom.SobolEngine(4, scramble=True, seed=7)
    points = a.draw_base2(6).numpy()
    assert np.array_equal(points, b.draw(64).numpy())
    assert repr(a) == repr(torch.quasirandom.SobolEngine(4, scramble=True, seed=7))
    assert points.min() >= 0 and points.max() < 1
    # a scrambled Sobol' net keeps one point in each of the 2**m elementary intervals of a dim
    for d in range(4):
        assert sorted((points[:, d] * 64).astype(int)) == list(range(64))
    out = tritensor.empty(0, dtype=tritensor.float64)
    assert a.draw(2, out=out) is out and out.shape == (2, 4)


# ---------------------------------------------------------------------------- signal.windows
WINDOW_CASES = [("bartlett", {}), ("blackman", {}), ("cosine", {}), ("exponential", {"tau": 2.0}),
                ("gaussian", {"std": 0.7}), ("general_cosine", {"a": [0.4, 0.3, 0.3]}),
                ("general_hamming", {"alpha": 0.6}), ("hamming", {}), ("hann", {}), ("kaiser", {"beta": 5.0}),
                ("nuttall", {})]


@pytest.mark.parametrize("name, kwargs", WINDOW_CASES)
def test_signal_windows(name, kwargs):
    for M in (0, 1, 2, 7, 8):
        for sym in (True, False):
            for dtype in ("float32", "float64"):
                check(lambda lib: getattr(lib.signal.windows, name)(M, sym=sym, dtype=getattr(lib, dtype),
                                                                    device=dev(lib), **kwargs))


def test_signal_window_errors():
    cases = [("gaussian", (-1,), {}), ("gaussian", (3,), {"dtype": "int64"}),
             ("gaussian", (3,), {"std": -1.0}),
             ("exponential", (3,), {"center": 1.0}), ("exponential", (3,), {"tau": 0.0}),
             ("kaiser", (3,), {"beta": -1.0}), ("general_cosine", (3,), {"a": []}),
             ("general_cosine", (3,), {"a": 1.0}), ("hann", (3,), {"dtype": "float16"})]
    for name, args, kwargs in cases:
        def fn(lib):
            options = {k: getattr(lib, v) if k == "dtype" else v for k, v in kwargs.items()}
            return getattr(lib.signal.windows, name)(*args, **options)
        check(fn)
    check(lambda lib: lib.signal.windows.exponential(5, center=1.0, sym=False, dtype=lib.float64,
                                                     device=dev(lib)))


@pytest.mark.parametrize("namespace", ["", "nn.functional", "special", "linalg", "nn.init"])
def test_public_functions_pickle_by_reference(namespace):
    """Every public function of torch's function namespaces pickles and unpickles to itself, as
    torch's do (a model holding ``F.relu`` saves whole; spawned workers receive functions)."""
    import pickle
    import types
    module = tritensor
    for part in filter(None, namespace.split(".")):
        module = getattr(module, part)
    names = [n for n in dir(module)
             if not n.startswith("_") and type(getattr(module, n)) is types.FunctionType]
    assert len(names) > 5
    for name in names:
        function = getattr(module, name)
        assert pickle.loads(pickle.dumps(function)) is function, f"{namespace}.{name}"


def test_nn_modules_submodule_paths_like_torch():
    """torch's module paths of the layers (``nn.modules.dropout.Dropout`` ...) name the same
    classes, and the norm bases answer ``isinstance`` as torch's do."""
    paths = {"dropout": ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                         "FeatureAlphaDropout", "_DropoutNd"],
             "sparse": ["Embedding", "EmbeddingBag"],
             "batchnorm": ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "LazyBatchNorm1d",
                           "_BatchNorm", "_NormBase"],
             "instancenorm": ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LazyInstanceNorm2d",
                              "_InstanceNorm", "_NormBase"],
             "flatten": ["Flatten", "Unflatten"], "fold": ["Fold", "Unfold"],
             "pixelshuffle": ["PixelShuffle", "PixelUnshuffle"], "channelshuffle": ["ChannelShuffle"],
             "activation": ["MultiheadAttention", "ReLU"], "linear": ["NonDynamicallyQuantizableLinear"]}
    for module, names in paths.items():
        ours, theirs = getattr(tritensor.nn.modules, module), getattr(torch.nn.modules, module)
        for name in names:
            assert hasattr(theirs, name), f"torch.nn.modules.{module}.{name}"
            cls = getattr(ours, name)
            if hasattr(torch.nn, name):
                assert cls is getattr(tritensor.nn, name)
    batchnorm, dropout = tritensor.nn.modules.batchnorm, tritensor.nn.modules.dropout
    for cls in ("BatchNorm2d", "InstanceNorm2d"):
        ours, theirs = getattr(tritensor.nn, cls)(3), getattr(torch.nn, cls)(3)
        theirs_module = torch.nn.modules.batchnorm
        assert isinstance(ours, batchnorm._BatchNorm) == isinstance(theirs, theirs_module._BatchNorm)
        assert isinstance(ours, batchnorm._NormBase) and isinstance(theirs, theirs_module._NormBase)
    assert all(isinstance(cls(), dropout._DropoutNd) for cls in (tritensor.nn.Dropout, tritensor.nn.Dropout2d,
                                                                 tritensor.nn.AlphaDropout))


def test_convert_sync_batchnorm_leaves_instance_norm():
    """Only batch norms become SyncBatchNorm, as torch's (an InstanceNorm is no _BatchNorm)."""
    model = tritensor.nn.Sequential(tritensor.nn.BatchNorm2d(3), tritensor.nn.InstanceNorm2d(3))
    converted = tritensor.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert [type(m).__name__ for m in converted] == ["SyncBatchNorm", "InstanceNorm2d"]


def test_onnx_namespace():
    """``import torch.onnx`` works and reports no export running; exporting raises clearly."""
    import tritensor.onnx
    assert tritensor.onnx.is_in_onnx_export() is False
    with pytest.raises(NotImplementedError, match="ONNX export is not supported"):
        tritensor.onnx.export(tritensor.nn.Linear(2, 2), (tritensor.ones(1, 2),), "model.onnx")


def test_rnn_flatten_parameters_keeps_the_outputs():
    """``flatten_parameters`` (torch's cuDNN weight packing) is accepted and changes nothing."""
    tritensor.manual_seed(0)
    lstm = tritensor.nn.LSTM(3, 4, num_layers=2)
    x = tritensor.randn(5, 2, 3)
    before = lstm(x)[0]
    lstm.flatten_parameters()
    np.testing.assert_array_equal(lstm(x)[0].detach().numpy(), before.detach().numpy())


def test_accelerator_front():
    """``torch.accelerator`` (how PyTorch's examples pick a device) answers for tritensor's
    'cuda': without one, torch CPU build's answers and errors; with the (emulated) device,
    the cuda module's."""
    acc = tritensor.accelerator
    if not tritensor.cuda.is_available():
        assert (acc.is_available(), acc.current_accelerator(), acc.device_count()) == \
            (torch.accelerator.is_available(), torch.accelerator.current_accelerator(), 0)
        for call in (acc.current_device_index, acc.synchronize, acc.current_stream, acc.empty_cache,
                     acc.memory_allocated, lambda: acc.set_device_index(0)):
            with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available"):
                call()
        return
    assert acc.is_available() and acc.current_accelerator() == tritensor.device("cuda")
    assert acc.device_count() == tritensor.cuda.device_count() >= 1
    assert acc.current_device_index() == acc.current_device_idx() == 0
    with acc.device_index(0):
        x = tritensor.ones(4, device=acc.current_accelerator())
    acc.synchronize()
    assert acc.memory_allocated() >= 16 and acc.max_memory_allocated() >= acc.memory_allocated()
    side = tritensor.cuda.Stream()
    previous = acc.current_stream()
    acc.set_stream(side)
    try:
        assert acc.current_stream() == side
    finally:
        acc.set_stream(previous)
    assert float(x.sum()) == 4.0


def test_data_parallel_on_one_device():
    """DataParallel / data_parallel run the module on the one device there is (or as it is
    without a GPU), with torch's ``module.`` state_dict prefix and repr."""
    tritensor.manual_seed(0)
    layer = tritensor.nn.Linear(2, 3).to(DEVICE)
    wrapped = tritensor.nn.DataParallel(layer)
    assert list(wrapped.state_dict()) == ["module.weight", "module.bias"]
    assert repr(wrapped) == "DataParallel(\n  (module): Linear(in_features=2, out_features=3, bias=True)\n)"
    x = tritensor.ones(4, 2, device=DEVICE)
    expected = layer(x).detach().cpu().numpy()
    np.testing.assert_array_equal(wrapped(x).detach().cpu().numpy(), expected)
    out = tritensor.nn.parallel.data_parallel(layer, x)
    np.testing.assert_array_equal(out.detach().cpu().numpy(), expected)
    if tritensor.cuda.is_available():
        assert wrapped.device_ids == [0] and wrapped.output_device == 0
        with pytest.raises(RuntimeError, match="parameters and buffers on device cuda:0"):
            tritensor.nn.DataParallel(tritensor.nn.Linear(2, 3))(x)
        with pytest.raises(NotImplementedError, match="DataParallel over 2 devices"):
            tritensor.nn.DataParallel(layer, device_ids=[0, 1])(x)
    else:
        assert wrapped.device_ids == torch.nn.DataParallel(torch.nn.Linear(2, 3)).device_ids == []


def test_backends_cudnn_module_and_mps():
    """``import torch.backends.cudnn as cudnn`` gives a module whose flags are the checked
    ones; ``torch.backends.mps`` answers False as on a machine without Metal."""
    import importlib
    cudnn = importlib.import_module("tritensor.backends.cudnn")
    assert cudnn is tritensor.backends.cudnn and cudnn.is_available() is False
    assert cudnn.benchmark is torch.backends.cudnn.benchmark is False
    cudnn.benchmark = True
    try:
        assert tritensor.backends.cudnn.benchmark is True
    finally:
        cudnn.benchmark = False
    with pytest.raises(AttributeError):
        cudnn.no_such_flag
    assert tritensor.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert tritensor.backends.mps.is_built() is False
