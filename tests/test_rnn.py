"""RNN, LSTM, GRU and their cells against torch: outputs, final states, gradients of inputs,
states and every parameter, layouts, parameter names, reprs and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import tritensor
from harness import DEVICE, ORACLE_DEVICE, Arg, check, gradcheck
from tritensor.nn import _fused

rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def g(x, dtype=None):
    return Arg(x, dtype=dtype, requires_grad=True)


def _pair(cls, *args, dtype=torch.float32, **kwargs):
    """The same layer in torch and tritensor, torch's initial weights."""
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(torch.nn, cls)(*args, **kwargs).to(dtype)
    ours = getattr(tritensor.nn, cls)(*args, **kwargs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.load_state_dict({k: tritensor.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return theirs.to(ORACLE_DEVICE), ours.to(DEVICE)


def _run(theirs, ours):
    """Call the layer, then return its outputs and the gradients of every parameter and input."""

    def run(lib, *args):
        model = ours if lib is tritensor else theirs
        out = model(*args)  # a layer: (output, h or (h, c)); a cell: h or (h, c)
        flat = []
        for item in out if isinstance(out, tuple) else (out,):
            flat.extend(item if isinstance(item, tuple) else (item,))
        loss = sum((t * t).sum() for t in flat)
        leaves = list(model.parameters()) + [a for a in args if getattr(a, "requires_grad", False)]
        return flat + list(lib.autograd.grad(loss, leaves))

    return run


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"num_layers": 2},
        {"bidirectional": True},
        {"bias": False},
        {"num_layers": 2, "bidirectional": True, "batch_first": True},
    ],
)
def test_recurrent_layers(cls, kwargs):
    theirs, ours = _pair(cls, 3, 4, **kwargs)
    x = randn(2, 5, 3) if kwargs.get("batch_first") else randn(5, 2, 3)
    check(_run(theirs, ours), g(x), grad=False)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_recurrent_initial_state_unbatched_and_float64(cls):
    theirs, ours = _pair(cls, 3, 4, num_layers=2)
    states = (g(randn(2, 2, 4)), g(randn(2, 2, 4))) if cls == "LSTM" else (g(randn(2, 2, 4)),)
    if cls == "LSTM":
        check(lambda lib, x, h, c: _run(theirs, ours)(lib, x, (h, c)), g(randn(5, 2, 3)), *states, grad=False)
        check(
            lambda lib, x, h, c: _run(theirs, ours)(lib, x, (h, c)),
            g(randn(5, 3)),
            g(randn(2, 4)),
            g(randn(2, 4)),
            grad=False,
        )
    else:
        check(_run(theirs, ours), g(randn(5, 2, 3)), *states, grad=False)
        check(_run(theirs, ours), g(randn(5, 3)), g(randn(2, 4)), grad=False)
    theirs64, ours64 = _pair(cls, 3, 4, dtype=torch.float64)
    ours64.double()
    check(_run(theirs64, ours64), g(randn(4, 2, 3), "float64"), grad=False)


def test_lstm_projection_and_relu_rnn():
    theirs, ours = _pair("LSTM", 3, 5, num_layers=2, proj_size=2, bidirectional=True)
    check(_run(theirs, ours), g(randn(4, 2, 3)), grad=False)
    theirs, ours = _pair("RNN", 3, 4, nonlinearity="relu", num_layers=2)
    check(_run(theirs, ours), g(randn(4, 2, 3)), grad=False)


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias", [True, False])
def test_cells(cls, bias):
    theirs, ours = _pair(cls, 3, 4, bias=bias)
    check(_run(theirs, ours), g(randn(2, 3)), grad=False)
    check(_run(theirs, ours), g(randn(3)), grad=False)
    if cls == "LSTMCell":
        check(
            lambda lib, x, h, c: _run(theirs, ours)(lib, x, (h, c)),
            g(randn(2, 3)),
            g(randn(2, 4)),
            g(randn(2, 4)),
            grad=False,
        )
    else:
        check(_run(theirs, ours), g(randn(2, 3)), g(randn(2, 4)), grad=False)


@pytest.mark.parametrize("name,gates", [("lstm_cell", 4), ("gru_cell", 3), ("rnn_tanh_cell", 1),
                                        ("rnn_relu_cell", 1)])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_functions_match_torch(name, gates, bias):
    """torch.lstm_cell / gru_cell / rnn_tanh_cell / rnn_relu_cell: values and gradients (inputs,
    states and weights); grad_fn names for the RNN cells (tritensor's LSTM and GRU steps are one
    fused node, named as torch's CUDA one, where torch's CPU build records its composite)."""
    def fn(lib, x, h, c, w_ih, w_hh, b_ih, b_hh):
        hx = (h, c) if name == "lstm_cell" else h
        biases = (b_ih, b_hh) if bias else ()
        return getattr(lib, name)(x, hx, w_ih, w_hh, *biases)
    arrays = [rng.standard_normal(s) for s in ((3, 4), (3, 5), (3, 5), (gates * 5, 4), (gates * 5, 5),
                                                (gates * 5,), (gates * 5,))]
    fused = name in ("lstm_cell", "gru_cell")
    for dtype in ("float64", "float32"):
        check(fn, *[Arg(a.astype(dtype), dtype, requires_grad=True) for a in arrays], same_node=not fused)


@pytest.mark.parametrize("case", ["1-D input", "one LSTM state", "input size", "batch", "hidden size",
                                  "weight_ih rows"])
def test_cell_function_errors_match_torch(case):
    def fn(lib, x, h):
        w_ih, w_hh = lib.ones(20, 4, device=x.device), lib.ones(20, 5, device=x.device)
        calls = {"1-D input": lambda: lib.lstm_cell(x[0], (h[0], h[0]), w_ih, w_hh),
                 "one LSTM state": lambda: lib.lstm_cell(x, (h,), w_ih, w_hh),
                 "input size": lambda: lib.lstm_cell(x, (h, h), w_ih[:, :3], w_hh),
                 "batch": lambda: lib.rnn_tanh_cell(x, h[:2], w_ih[:5], w_hh[:5]),
                 "hidden size": lambda: lib.gru_cell(x, h[:, :4], w_ih[:15], w_hh[:15]),
                 "weight_ih rows": lambda: lib.lstm_cell(x, (h, h), w_ih[:16], w_hh)}
        return calls[case]()
    check(fn, Arg(rng.standard_normal((3, 4)), "float32"), Arg(rng.standard_normal((3, 5)), "float32"))


def test_reprs_and_parameter_layout():
    cases = [
        ("LSTM", (3, 4), {"num_layers": 2, "bidirectional": True, "proj_size": 2}),
        (
            "RNN",
            (3, 4),
            {"nonlinearity": "relu", "bias": False, "batch_first": True, "dropout": 0.5, "num_layers": 2},
        ),
        ("GRU", (3, 4), {}),
        ("RNNCell", (3, 4), {"nonlinearity": "relu", "bias": False}),
        ("LSTMCell", (3, 4), {}),
        ("GRUCell", (3, 4), {"bias": False}),
    ]
    for cls, args, kwargs in cases:
        ours, theirs = getattr(tritensor.nn, cls)(*args, **kwargs), getattr(torch.nn, cls)(*args, **kwargs)
        assert repr(ours) == repr(theirs)
        assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == [
            (n, tuple(p.shape)) for n, p in theirs.named_parameters()
        ]
        bound = 1 / np.sqrt(4)
        assert all(np.abs(p.detach().numpy()).max() <= bound for p in ours.parameters())


def test_errors():
    def layer(lib, cls="RNN", **kwargs):
        return getattr(lib.nn, cls)(3, 4, **kwargs).to(DEVICE if lib is tritensor else "cpu")

    check(lambda lib, x: layer(lib)(x), randn(2, 2, 2, 3))
    check(lambda lib, x: layer(lib)(x), randn(2, 2, 5))
    check(lambda lib, x, h: layer(lib)(x, h), randn(5, 2, 3), randn(1, 3, 4))
    check(lambda lib, x, h: layer(lib)(x, h), randn(5, 3), randn(1, 2, 4))
    check(lambda lib, x, h, c: layer(lib, "LSTM")(x, (h, c)), randn(5, 2, 3), randn(1, 2, 4), randn(1, 3, 4))
    check(lambda lib, x: layer(lib)(x), randn(5, 2, 3).astype(np.float64))
    check(lambda lib, x: layer(lib, "LSTMCell")(x), randn(2, 5))
    check(lambda lib, x: layer(lib, "GRUCell")(x), randn(2, 2, 3))
    for kwargs in [{"nonlinearity": "gelu"}, {"dropout": 1.5}]:
        with pytest.raises(ValueError):
            tritensor.nn.RNN(3, 4, **kwargs)
    with pytest.raises(ValueError):
        tritensor.nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError):
        tritensor.nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError):
        tritensor.nn.RNN(3, 0)
    with pytest.warns(UserWarning, match="dropout option adds dropout"):
        tritensor.nn.LSTM(3, 4, dropout=0.5)


def test_gradcheck_and_empty_sequence():
    torch.manual_seed(0)
    model = tritensor.nn.GRU(2, 3).double().to(DEVICE)
    gradcheck(lambda lib, x: model(x)[0], randn(3, 1, 2))
    theirs, ours = _pair("LSTM", 3, 4)
    check(lambda lib, x: (ours if lib is tritensor else theirs)(x)[1], randn(0, 2, 3))


def test_dropout_between_layers_only_in_training():
    model = tritensor.nn.LSTM(3, 4, num_layers=2, dropout=0.5).to(DEVICE)
    x = tritensor.tensor(randn(5, 2, 3), device=DEVICE)
    model.eval()
    a, b = model(x)[0], model(x)[0]
    np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())
    model.train()
    tritensor.manual_seed(0)
    c = model(x)[0]
    assert not np.allclose(a.detach().cpu().numpy(), c.detach().cpu().numpy())


# ---------------------------------------------------------------------------- packed sequences
def _on_cpu(t):
    """batch_sizes and unpacked lengths live on the CPU on every device, as in torch."""
    assert t.device.type == "cpu", f"expected a CPU tensor, got one on {t.device}"
    return t.tolist()


def _packed_run(theirs, ours, lengths, enforce_sorted, batch_first):
    def run(lib, x, *hx):
        model = ours if lib is tritensor else theirs
        rnn = lib.nn.utils.rnn
        packed = rnn.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
        state = (tuple(hx) if len(hx) == 2 else hx[0]) if hx else None
        out, final = model(packed, state)
        padded, out_lengths = rnn.pad_packed_sequence(
            out, batch_first=batch_first, total_length=x.shape[1 if batch_first else 0]
        )
        finals = list(final) if isinstance(final, tuple) else [final]
        loss = padded.square().sum() + sum(f.sum() for f in finals)
        grads = lib.autograd.grad(loss, list(model.parameters()) + [x] + list(hx))
        return (
            [packed.data, _on_cpu(packed.batch_sizes), out.data, padded, _on_cpu(out_lengths)]
            + finals
            + list(grads)
        )

    return run


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kwargs", [{}, {"num_layers": 2, "bidirectional": True}, {"batch_first": True}])
@pytest.mark.parametrize("lengths,enforce_sorted", [([5, 3, 3, 1], True), ([2, 5, 1, 4], False)])
def test_packed_sequences_through_recurrent_layers(cls, kwargs, lengths, enforce_sorted):
    theirs, ours = _pair(cls, 3, 4, **kwargs)
    batch_first = kwargs.get("batch_first", False)
    x = randn(4, 5, 3) if batch_first else randn(5, 4, 3)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    hx = [g(randn(layers, 4, 4)) for _ in range(2 if cls == "LSTM" else 1)]
    run = _packed_run(theirs, ours, lengths, enforce_sorted, batch_first)
    check(run, g(x), grad=False)
    check(run, g(x), *hx, grad=False)


def test_pad_and_pack_utilities():
    def run(lib, a, b, c):
        rnn = lib.nn.utils.rnn
        out = [
            rnn.pad_sequence([a, b, c]),
            rnn.pad_sequence([a, b, c], batch_first=True, padding_value=-1.0),
            rnn.pad_sequence([a, b, c], padding_side="left"),
        ]
        packed = rnn.pack_sequence([a, b, c], enforce_sorted=False)
        out += [packed.data, _on_cpu(packed.batch_sizes), packed.sorted_indices, packed.unsorted_indices]
        # (a clone: torch's unpad_sequence transposes its argument in place)
        out += list(rnn.unpack_sequence(packed)) + list(
            rnn.unpad_sequence(out[0].clone(), lib.tensor([2, 4, 1]))
        )
        out.append(lib.autograd.grad(sum(t.sum() * (i + 1) for i, t in enumerate(out[:3])), [a, b, c]))
        return out

    check(run, g(randn(2, 3)), g(randn(4, 3)), g(randn(1, 3)), grad=False)


def test_packing_errors():
    rnn = lambda lib: lib.nn.utils.rnn  # noqa: E731
    check(lambda lib, x: rnn(lib).pack_padded_sequence(x, [1, 3]), randn(3, 2, 2))
    check(lambda lib, x: rnn(lib).pack_padded_sequence(x, [3, 0], enforce_sorted=False), randn(3, 2, 2))
    check(lambda lib, x: rnn(lib).pack_padded_sequence(x, [3, 2, 1]), randn(3, 2, 2))
    check(lambda lib, x: rnn(lib).pad_sequence([x], padding_side="middle"), randn(3, 2))

    def short_total(lib, x):
        return rnn(lib).pad_packed_sequence(rnn(lib).pack_padded_sequence(x, [3, 2]), total_length=2)

    check(short_total, randn(3, 2, 2))


def test_lstm_gradients_and_double_backward():
    """An LSTM against finite differences in float64 (two steps, with the final state's
    gradients), and an LSTM cell's second derivatives against torch's."""
    torch.manual_seed(0)
    model = tritensor.nn.LSTM(2, 3).double().to(DEVICE)
    gradcheck(lambda lib, x: _summed_lstm(model, x), randn(2, 1, 2, dtype=np.float64))
    theirs, ours = _pair("LSTMCell", 2, 3, dtype=torch.float64)
    ours = ours.double()

    def second(lib, x, h, c):
        cell = ours if lib is tritensor else theirs
        h2, c2 = cell(x, (h, c))
        first, = lib.autograd.grad((h2 * c2).sum(), x, create_graph=True)
        return first, lib.autograd.grad(first.pow(2).sum(), (x, h, c))
    check(second, g(randn(2, 2, dtype=np.float64)), g(randn(2, 3, dtype=np.float64)),
          g(randn(2, 3, dtype=np.float64)), grad=False)


def _summed_lstm(model, x):
    """The LSTM's output and final state, summed into one differentiable output."""
    out, (h, c) = model(x)
    return out.sum() + h.sum() * 2 + c.sum() * 3


# ---------------------------------------------------------------------------- the fused LSTM step
_FUSED_NODE = "ThnnFusedLstmCellBackward0"


def _has_fused_step(dtype):
    """Whether LSTM steps of ``dtype`` on the test device run as one fused node (float32 and
    float64 on either device; 16-bit floats compose tensor ops)."""
    kernel = _fused.LSTM_CELL.get(tritensor.device(DEVICE).type)
    return kernel is not None and getattr(tritensor, dtype) in kernel.dtypes


def _pair_in(dtype, cls, *args, **kwargs):
    """``_pair`` in ``dtype`` ('float32' or 'float64')."""
    theirs, ours = _pair(cls, *args, dtype=getattr(torch, dtype), **kwargs)
    return theirs, (ours.double() if dtype == "float64" else ours)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch,hidden", [(1, 5), (3, 13)])
def test_lstm_cell_step_against_torch(dtype, batch, hidden):
    """Values and gradients of input, h0, c0 and every weight, hidden sizes off the vector width."""
    theirs, ours = _pair_in(dtype, "LSTMCell", 4, hidden)
    states = g(randn(batch, hidden), dtype), g(randn(batch, hidden), dtype)
    check(lambda lib, x, h, c: _run(theirs, ours)(lib, x, (h, c)), g(randn(batch, 4), dtype), *states,
          grad=False)
    _, c = ours(tritensor.tensor(randn(batch, 4), dtype=getattr(tritensor, dtype), device=DEVICE))
    assert (type(c.grad_fn).__name__ == _FUSED_NODE) == _has_fused_step(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize(
    "kwargs",
    [{"num_layers": 2, "bidirectional": True}, {"proj_size": 3, "bidirectional": True},
     {"batch_first": True}],
)
def test_lstm_layers_through_fused_step(dtype, batch, kwargs):
    theirs, ours = _pair_in(dtype, "LSTM", 4, 13, **kwargs)
    x = randn(batch, 6, 4) if kwargs.get("batch_first") else randn(6, batch, 4)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    h0, c0 = randn(layers, batch, kwargs.get("proj_size") or 13), randn(layers, batch, 13)
    check(_run(theirs, ours), g(x, dtype), grad=False)
    check(lambda lib, x, h, c: _run(theirs, ours)(lib, x, (h, c)), g(x, dtype), g(h0, dtype), g(c0, dtype),
          grad=False)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_packed_lstm_through_fused_step(dtype):
    theirs, ours = _pair_in(dtype, "LSTM", 3, 13, num_layers=2, bidirectional=True)
    hx = [g(randn(4, 4, 13), dtype) for _ in range(2)]
    check(_packed_run(theirs, ours, [2, 5, 1, 4], False, False), g(randn(5, 4, 3), dtype), *hx, grad=False)


@pytest.mark.parametrize("used", ["output", "h_n", "c_n"])
def test_lstm_gradient_through_part_of_the_state(used):
    """Only some of a step's outputs get a gradient (the last step's h or c, or every step's
    h when only c_n is used): the missing one counts as zero."""
    theirs, ours = _pair("LSTM", 3, 5)

    def run(lib, x, h, c):
        model = ours if lib is tritensor else theirs
        out, (h_n, c_n) = model(x, (h, c))
        value = {"output": out, "h_n": h_n, "c_n": c_n}[used]
        return [value] + list(lib.autograd.grad(value.square().sum(), [x, h, c] + list(model.parameters())))

    check(run, g(randn(4, 2, 3)), g(randn(1, 2, 5)), g(randn(1, 2, 5)), grad=False)


@pytest.mark.parametrize("used", ["h", "c"])
def test_lstm_cell_double_backward_through_h_or_c(used):
    """Gradients of gradients (create_graph), with one of the step's outputs unused."""
    theirs, ours = _pair_in("float64", "LSTMCell", 2, 5)

    def second(lib, x, h, c):
        cell = ours if lib is tritensor else theirs
        h2, c2 = cell(x, (h, c))
        first = lib.autograd.grad((h2 if used == "h" else c2).pow(2).sum(), (x, h, c), create_graph=True)
        loss = sum((f * f).sum() for f in first)
        return list(first) + list(lib.autograd.grad(loss, (x, h, c) + tuple(cell.parameters())))

    check(second, *(g(randn(3, n), "float64") for n in (2, 5, 5)), grad=False)


def test_lstm_layer_double_backward():
    theirs, ours = _pair_in("float64", "LSTM", 2, 5, bidirectional=True)

    def second(lib, x):
        model = ours if lib is tritensor else theirs
        out, (_, c_n) = model(x)
        first, = lib.autograd.grad(out.square().sum() + c_n.square().sum(), x, create_graph=True)
        return [first] + list(lib.autograd.grad(first.pow(2).sum(), [x] + list(model.parameters())))

    check(second, g(randn(3, 2, 2), "float64"), grad=False)


def test_fused_lstm_step_gradcheck():
    """The step's gradients against finite differences, through h, c and both; and a
    bidirectional, projected LSTM's."""
    torch.manual_seed(0)
    cell = tritensor.nn.LSTMCell(3, 5).double().to(DEVICE)
    for pick in (lambda h, c: h, lambda h, c: c, lambda h, c: h * c):
        gradcheck(lambda lib, x, h, c: pick(*cell(x, (h, c))), randn(2, 3), randn(2, 5), randn(2, 5))
    model = tritensor.nn.LSTM(2, 5, bidirectional=True, proj_size=2).double().to(DEVICE)
    gradcheck(lambda lib, x: _summed_lstm(model, x), randn(3, 2, 2))


def _graph_nodes(tensor):
    """The names of every node in ``tensor``'s backward graph."""
    seen, stack = set(), [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.add(node)
            stack += [n for n, _ in node.next_functions]
    return {type(n).__name__ for n in seen}


@pytest.mark.parametrize("cls, node", [("LSTM", "MkldnnRnnLayerBackward0"), ("GRU", "GruLayerBackward0")])
def test_layer_node_on_padded_batches(cls, node):
    """A padded batch of float32/float64 steps runs each layer and direction as one node where
    the device has a fused step (the CPU); packed sequences and projections step by step."""
    fused = _has_fused_step("float32")
    model = getattr(tritensor.nn, cls)(3, 4, bidirectional=True).to(DEVICE)
    x = tritensor.tensor(randn(5, 2, 3), device=DEVICE, requires_grad=True)
    nodes = _graph_nodes(model(x)[0])
    assert (node in nodes) == fused and (_FUSED_NODE in nodes) is False
    packed = tritensor.nn.utils.rnn.pack_padded_sequence(x, [5, 3])
    assert node not in _graph_nodes(model(packed)[0].data)
    if cls == "LSTM":
        projected = tritensor.nn.LSTM(3, 4, proj_size=2).to(DEVICE)
        assert node not in _graph_nodes(projected(x)[0])


@pytest.mark.parametrize("cls, bias", [("LSTM", True), ("GRU", True), ("GRU", False)])
def test_layer_gradcheck_both_directions_with_initial_state(cls, bias):
    torch.manual_seed(0)
    model = getattr(tritensor.nn, cls)(2, 3, bidirectional=True, bias=bias).double().to(DEVICE)
    arrays = [randn(3, 2, 2), randn(2, 2, 3)] + ([randn(2, 2, 3)] if cls == "LSTM" else [])
    gradcheck(lambda lib, x, *state: _summed_state(model, x, state), *arrays)


def _summed_state(model, x, state):
    out, last = model(x, state if len(state) == 2 else state[0])
    last = last if isinstance(last, tuple) else (last,)
    return out.sum() + sum(s.sum() * (k + 2) for k, s in enumerate(last))


@pytest.mark.parametrize("bias", [True, False])
def test_gru_layer_double_backward(bias):
    theirs, ours = _pair_in("float64", "GRU", 2, 5, bidirectional=True, bias=bias)

    def second(lib, x):
        model = ours if lib is tritensor else theirs
        out, h_n = model(x)
        first, = lib.autograd.grad(out.square().sum() + h_n.square().sum(), x, create_graph=True)
        return [first] + list(lib.autograd.grad(first.pow(2).sum(), [x] + list(model.parameters())))

    check(second, g(randn(3, 2, 2), "float64"), grad=False)


@pytest.mark.parametrize("used", ["output", "h_n"])
def test_gru_layer_gradient_through_part_of_the_result(used):
    theirs, ours = _pair("GRU", 3, 5)

    def run(lib, x, h):
        out, h_n = (ours if lib is tritensor else theirs)(x, h)
        return out if used == "output" else h_n
    check(run, g(randn(4, 2, 3)), g(randn(1, 2, 5)), same_node=False)  # torch's output: a per-step stack


@pytest.mark.cpu_only
def test_fused_lstm_step_split_across_threads(monkeypatch):
    """Rows dealt out to several threads (uneven chunks) give the one-thread results."""
    kernel = type(_fused.LSTM_CELL["cpu"])
    monkeypatch.setattr(kernel, "FORWARD_MIN_ELEMENTS", 1)
    monkeypatch.setattr(kernel, "BACKWARD_MIN_ELEMENTS", 1)
    threads = tritensor.get_num_threads()
    tritensor.set_num_threads(3)
    try:
        test_lstm_cell_step_against_torch("float32", 7, 13)
    finally:
        tritensor.set_num_threads(threads)


def test_lstm_step_composed_without_a_kernel():
    """16-bit floats take the composed step; float32 the fused one on both devices (the
    GPU's is ``kernels/triton/recurrent.py``)."""
    cell = tritensor.nn.LSTMCell(3, 5).to(DEVICE)
    for dtype in ("float32", "float16", "bfloat16"):
        x = tritensor.tensor(randn(2, 3), device=DEVICE).to(getattr(tritensor, dtype))
        _, c = cell.to(getattr(tritensor, dtype))(x)
        assert type(c.grad_fn).__name__ == (_FUSED_NODE if _has_fused_step(dtype) else "AddBackward0")
    assert _has_fused_step("float32") and _has_fused_gru_step("float64")


# ---------------------------------------------------------------------------- the fused GRU step
def _has_fused_gru_step(dtype):
    kernel = _fused.GRU_CELL.get(tritensor.device(DEVICE).type)
    return kernel is not None and getattr(tritensor, dtype) in kernel.dtypes


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch,hidden", [(1, 5), (3, 13)])
def test_gru_cell_step_against_torch(dtype, batch, hidden):
    """Values and gradients of input, h0 and every weight, through the fused step on the CPU."""
    theirs, ours = _pair_in(dtype, "GRUCell", 4, hidden)
    check(lambda lib, x, h: _run(theirs, ours)(lib, x, h), g(randn(batch, 4), dtype),
          g(randn(batch, hidden), dtype), grad=False)
    h = ours(tritensor.tensor(randn(batch, 4), dtype=getattr(tritensor, dtype), device=DEVICE))
    assert (type(h.grad_fn).__name__ == "ThnnFusedGruCellBackward0") == _has_fused_gru_step(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", [{"num_layers": 2, "bidirectional": True},
                                    {"batch_first": True, "bias": False}])
def test_gru_layers_through_fused_step(dtype, kwargs):
    theirs, ours = _pair_in(dtype, "GRU", 4, 13, **kwargs)
    first = kwargs.get("batch_first", False)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    x, h0 = g(randn(3, 6, 4) if first else randn(6, 3, 4), dtype), g(randn(layers, 3, 13), dtype)
    check(lambda lib, x, h: _run(theirs, ours)(lib, x, h), x, h0, grad=False)
    check(_packed_run(theirs, ours, [2, 6, 1], False, first), x, h0, grad=False)


def test_fused_gru_step_gradcheck_and_double_backward():
    torch.manual_seed(0)
    cell = tritensor.nn.GRUCell(3, 5).double().to(DEVICE)
    gradcheck(lambda lib, x, h: cell(x, h), randn(2, 3), randn(2, 5))
    theirs, ours = _pair_in("float64", "GRUCell", 2, 5)

    def second(lib, x, h):
        cell = ours if lib is tritensor else theirs
        first = lib.autograd.grad(cell(x, h).pow(2).sum(), (x, h), create_graph=True)
        loss = sum((f * f).sum() for f in first)
        return list(first) + list(lib.autograd.grad(loss, (x, h) + tuple(cell.parameters())))
    check(second, g(randn(3, 2), "float64"), g(randn(3, 5), "float64"), grad=False)
