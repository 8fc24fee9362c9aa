"""ATen's flat-weights recurrent functions: ``torch.lstm``, ``torch.gru``, ``torch.rnn_tanh``,
``torch.rnn_relu``, padded (``input, hx, params, ...``) or packed (``data, batch_sizes, hx,
params, ...``). They run nn's RNN layer code (``nn/modules/rnn.py``: the fused whole-layer
nodes where they apply) over the given weight list, so the module and the function share
one implementation."""
from __future__ import annotations

from ._registry import export


def _layer_class():
    """An RNNBase stand-in whose weights are a flat list, built on first use (nn loads after
    the ops); it borrows RNNBase's forward and helpers instead of copying them."""
    from ..nn.modules.rnn import RNNBase

    class FlatWeightsRNN:
        forward = RNNBase.forward
        _check, _initial_state, _permute = RNNBase._check, RNNBase._initial_state, RNNBase._permute
        _whole_layer, _run_direction = RNNBase._whole_layer, RNNBase._run_direction

        def __init__(self, mode, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
            directions = 2 if bidirectional else 1
            groups = num_layers * directions
            if not params or len(params) % groups:
                raise RuntimeError(f"{mode.lower()}: expected the weights of {num_layers} layer(s) x "
                                   f"{directions} direction(s), got {len(params)} tensors")
            per_cell = len(params) // groups
            plain = 4 if has_biases else 2
            if per_cell not in (plain, plain + 1) or per_cell == plain + 1 and mode != "LSTM":
                raise RuntimeError(f"{mode.lower()}: expected {plain} weights per layer and direction "
                                   f"(has_biases={has_biases}), got {per_cell}")
            self._cells = [tuple(params[k * per_cell:(k + 1) * per_cell]) for k in range(groups)]
            self._has_biases, self.mode = has_biases, mode
            self.num_layers, self.bidirectional, self.batch_first = num_layers, bidirectional, batch_first
            self.dropout, self.training = float(dropout), bool(train)
            first = self._cells[0]
            self.input_size = first[0].shape[1]
            projection = first[-1] if per_cell == plain + 1 else None
            self.proj_size = 0 if projection is None else projection.shape[0]
            self.hidden_size = first[1].shape[1] if projection is None else projection.shape[1]
            self.weight_ih_l0 = first[0]

        def _cell(self, layer, direction):
            """(w_ih, w_hh, b_ih, b_hh, w_hr) of one layer and direction, None where absent."""
            cell = list(self._cells[layer * (2 if self.bidirectional else 1) + direction])
            w_ih, w_hh = cell[:2]
            b_ih, b_hh = cell[2:4] if self._has_biases else (None, None)
            w_hr = cell[-1] if self.proj_size else None
            return w_ih, w_hh, b_ih, b_hh, w_hr

    return FlatWeightsRNN


def _run(mode, args):
    """Both ATen overloads: ``(input, hx, params, has_biases, num_layers, dropout, train,
    bidirectional, batch_first)`` and ``(data, batch_sizes, hx, params, has_biases,
    num_layers, dropout, train, bidirectional)``; returns the flat (output, *states) tuple."""
    from ..nn.utils.rnn import PackedSequence
    from ..tensor import Tensor
    packed = isinstance(args[1], Tensor) and not args[1].dtype.is_floating_point  # batch_sizes, not hx
    if packed:
        data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional = args
        layer = _layer_class()(mode, list(params), has_biases, num_layers, dropout, train, bidirectional,
                               False)
        output, state = layer.forward(PackedSequence(data, batch_sizes, None, None), _state(mode, hx))
        output = output.data
    else:
        input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first = args
        layer = _layer_class()(mode, list(params), has_biases, num_layers, dropout, train, bidirectional,
                               batch_first)
        output, state = layer.forward(input, _state(mode, hx))
    return (output,) + (tuple(state) if mode == "LSTM" else (state,))


def _state(mode, hx):
    return tuple(hx) if mode == "LSTM" else hx


@export(method=False)
def lstm(*args):
    """-> (output, h_n, c_n); ``hx`` is the [h_0, c_0] pair."""
    return _run("LSTM", args)


@export(method=False)
def gru(*args):
    """-> (output, h_n)."""
    return _run("GRU", args)


@export(method=False)
def rnn_tanh(*args):
    return _run("RNN_TANH", args)


@export(method=False)
def rnn_relu(*args):
    return _run("RNN_RELU", args)
