"""Recurrent layers (RNN, LSTM, GRU) and their cells, in torch's parameter layout.

Each layer projects the whole input sequence in one matmul, then steps through time with one
matmul of the hidden state per step; the gates are the core elementwise ops, so autograd and
both devices come from them, except that an LSTM or GRU step is one fused node where the
device has a kernel for it (``_fused.LSTM_CELL``, ``_fused.GRU_CELL``: Numba's on the CPU,
Triton's on 'cuda', for float32/float64). torch's
gate order: LSTM (input, forget, cell, output), GRU (reset, update, new).
"""

from __future__ import annotations

import math
import warnings

from ... import ops
from ...autograd import grad_mode
from ...autograd.function import Function
from .. import _fused, functional as F, init
from .._recurrent_layer import GruLayer, LstmLayer
from ..parameter import Parameter
from .module import Module

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _lstm_step(gates, state, w_hr):
    """One LSTM step from its four gate pre-activations; ``state`` is (h, c). One fused
    node where the device has a kernel for the operands (``_fused.LSTM_CELL``), else
    composed of tensor ops."""
    c_prev = state[1]
    kernel = _fused.LSTM_CELL.get(gates.device.type)
    if kernel is not None and _fusable(kernel, gates, c_prev, 4):
        h, c = _FusedLstmCell.apply(gates, c_prev, kernel)
    else:
        h, c = _lstm_cell(gates, c_prev)
    return (h if w_hr is None else F.linear(h, w_hr)), c


def _lstm_cell(gates, c_prev):
    """(h, c) of one LSTM step in tensor ops: any device and dtype, broadcasting like them."""
    i, f, g, o = gates.chunk(4, -1)
    c = f.sigmoid() * c_prev + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def _fusable(kernel, gates, state, blocks):
    """Whether ``kernel`` takes these operands as they are: one of its dtypes for both,
    the same device, and (batch, blocks x hidden) gates for a (batch, hidden) state (the
    kernel does not broadcast; a mismatch takes the composed path and its errors)."""
    return (gates.dtype in kernel.dtypes and state.dtype is gates.dtype and gates.dim() == 2
            and state._shape == (gates._shape[0], gates._shape[1] // blocks)
            and gates._shape[1] % blocks == 0 and state.device == gates.device)


class _FusedLstmCell(Function):
    """One LSTM step as one autograd node: a kernel call each way instead of ~10 elementwise
    ops forward and ~20 backward. The forward saves the activations, so the backward only
    multiplies (see ``kernels/numba/lstm.py``). Named like torch's fused cell's node."""

    node_name = "ThnnFusedLstmCellBackward0"

    @staticmethod
    def forward(ctx, gates, c_prev, kernel):
        h, c, activations = kernel.forward(gates, c_prev)
        ctx.save_for_backward(gates, c_prev, activations)
        ctx.kernel = kernel
        ctx.set_materialize_grads(False)  # an unused h or c costs the kernel nothing
        return h, c

    @staticmethod
    def backward(ctx, grad_h, grad_c):
        gates, c_prev, activations = ctx.saved_tensors
        if grad_h is None and grad_c is None:
            return None, None, None
        if grad_mode.is_grad_enabled():  # create_graph: the gradients must be differentiable too
            return (*_lstm_cell_grads(gates, c_prev, grad_h, grad_c), None)
        return (*ctx.kernel.backward(activations, c_prev, grad_h, grad_c), None)


def _lstm_cell_grads(gates, c_prev, grad_h, grad_c):
    """The fused step's gradients (of the gates and of ``c_prev``) in differentiable tensor
    ops, for double backward: the kernel's formulas, from recomputed activations."""
    i, f, g, o = gates.chunk(4, -1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    tanh_c = (f * c_prev + i * g).tanh()
    grad_h = ops.zeros_like(tanh_c) if grad_h is None else grad_h
    dc = grad_h * o * (1 - tanh_c * tanh_c)
    dc = dc if grad_c is None else dc + grad_c
    grad_gates = [dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g),
                  grad_h * tanh_c * o * (1 - o)]
    return ops.cat(grad_gates, -1), dc * f


def _gru_step(x_gates, h_gates, h):
    """One GRU step: one fused node where the device has a kernel for the operands
    (``_fused.GRU_CELL``), else composed of tensor ops."""
    kernel = _fused.GRU_CELL.get(h.device.type)
    if kernel is not None and _fusable(kernel, x_gates, h, 3) and _fusable(kernel, h_gates, h, 3):
        return _FusedGruCell.apply(x_gates, h_gates, h, kernel)
    return _gru_cell(x_gates, h_gates, h)


class _FusedGruCell(Function):
    """One GRU step as one autograd node (see ``kernels/numba/gru.py``): a kernel call each
    way instead of ~12 elementwise ops forward and ~25 backward."""

    node_name = "ThnnFusedGruCellBackward0"

    @staticmethod
    def forward(ctx, x_gates, h_gates, h, kernel):
        out, activations = kernel.forward(x_gates, h_gates, h)
        ctx.save_for_backward(x_gates, h_gates, h, activations)
        ctx.kernel = kernel
        return out

    @staticmethod
    def backward(ctx, grad):
        x_gates, h_gates, h, activations = ctx.saved_tensors
        if grad_mode.is_grad_enabled():  # create_graph: the gradients must be differentiable too
            return (*_gru_cell_grads(x_gates, h_gates, h, grad), None)
        return (*ctx.kernel.backward(activations, h_gates, h, grad), None)


def _gru_cell_grads(x_gates, h_gates, h, grad):
    """The fused step's gradients (of both projections and of ``h``) in differentiable tensor
    ops, for double backward: the kernel's formulas, from recomputed activations."""
    x_r, x_z, x_n = x_gates.chunk(3, -1)
    y_r, y_z, y_n = h_gates.chunk(3, -1)
    r, z = (x_r + y_r).sigmoid(), (x_z + y_z).sigmoid()
    n = (x_n + r * y_n).tanh()
    dn = grad * (1 - z) * (1 - n * n)
    dz = grad * (h - n) * z * (1 - z)
    dr = dn * y_n * r * (1 - r)
    return ops.cat([dr, dz, dn], -1), ops.cat([dr, dz, dn * r], -1), grad * z


def _gru_cell(x_gates, h_gates, h):
    """A GRU step in tensor ops: the new gate sees the reset-scaled hidden projection (with its bias)."""
    x_r, x_z, x_n = x_gates.chunk(3, -1)
    h_r, h_z, h_n = h_gates.chunk(3, -1)
    r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
    n = (x_n + r * h_n).tanh()
    return (1 - z) * n + z * h


def _step(mode, x_gates, state, w_hh, b_hh, w_hr=None):
    """The next state of one cell from the input's gate projection ``x_gates`` (which holds
    ``b_hh`` already where that is None, except for GRU: its new gate scales ``b_hh``)."""
    h = state[0] if mode == "LSTM" else state
    if mode == "GRU":
        return _gru_step(x_gates, F.linear(h, w_hh, b_hh), h)
    if b_hh is not None:
        x_gates = x_gates + b_hh
    pre = ops.addmm(x_gates, h, w_hh.t())
    if mode == "LSTM":
        return _lstm_step(pre, state, w_hr)
    return pre.tanh() if mode == "RNN_TANH" else pre.relu()


class RNNBase(Module):
    """Stacked, optionally bidirectional recurrences over (sequence, batch, features) inputs
    (``batch_first``: (batch, sequence, features); unbatched: (sequence, features))."""

    def __init__(
        self,
        mode,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if not (isinstance(dropout, (int, float)) and 0 <= dropout <= 1) or isinstance(dropout, bool):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                "element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                f"expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=3,
            )
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        factory = {"device": device, "dtype": dtype}
        directions = 2 if bidirectional else 1
        out_size = proj_size or hidden_size
        gate_size = _GATES[mode] * hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else out_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = {"weight_ih": (gate_size, layer_input), "weight_hh": (gate_size, out_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                for name, shape in shapes.items():
                    setattr(self, name + suffix, Parameter(ops.empty(shape, **factory)))
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    def flatten_parameters(self):
        """torch's hint to pack the weights into one cuDNN buffer: the layers here read each
        weight where it is, so there is nothing to pack."""

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _cell(self, layer, direction):
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        return tuple(
            getattr(self, name + suffix, None)
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        )

    def _check(self, input, hx):
        if input.dim() not in (2, 3):
            raise ValueError(
                f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D tensor instead"
            )
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                f"{input.shape[-1]}"
            )
        weight = self.weight_ih_l0
        if input.dtype is not weight.dtype:
            raise ValueError(
                f"{type(self).__name__} input dtype ({input.dtype}) does not match weight dtype "
                f"({weight.dtype}). Convert input: input.to({weight.dtype}), or convert model: "
                f"model.to({input.dtype})"
            )
        if input.shape[0] == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        if input.dim() == 2:
            for h in hx if isinstance(hx, tuple) else (hx,):
                if h is not None and h.dim() != 2:
                    raise RuntimeError(
                        f"For unbatched 2-D input, hx should also be 2-D but got {h.dim()}-D tensor"
                    )

    def _initial_state(self, hx, batch, like):
        directions = 2 if self.bidirectional else 1
        out_size = self.proj_size or self.hidden_size
        shapes = [(self.num_layers * directions, batch, out_size)]
        if self.mode == "LSTM":
            shapes.append((self.num_layers * directions, batch, self.hidden_size))
        if hx is None:
            states = [ops.zeros(s, dtype=like.dtype, device=like.device) for s in shapes]
        else:
            states = list(hx) if self.mode == "LSTM" else [hx]
            for k, (state, shape) in enumerate(zip(states, shapes)):
                if tuple(state.shape) != shape:
                    which = f"hidden[{k}]" if self.mode == "LSTM" else "hidden"
                    raise RuntimeError(f"Expected {which} size {shape}, got {list(state.shape)}")
        return states

    def forward(self, input, hx=None):
        from ..utils.rnn import PackedSequence

        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes = input.data, [int(b) for b in input.batch_sizes.tolist()]
            batch, unbatched = batch_sizes[0], False
            if hx is not None and input.sorted_indices is not None:  # hx follows the caller's batch order
                hx = self._permute(hx, input.sorted_indices)
        else:
            self._check(input, hx)
            unbatched = input.dim() == 2
            if unbatched:
                input = input.unsqueeze(1)
                if hx is not None:
                    hx = self._permute(hx, None, unsqueeze=True)
            elif self.batch_first:
                input = input.transpose(0, 1)
            steps, batch = input.shape[0], input.shape[1]
            data, batch_sizes = input.reshape(steps * batch, input.shape[2]), [batch] * steps
        states = self._initial_state(hx, batch, data)
        directions = 2 if self.bidirectional else 1
        finals = [[] for _ in states]
        layer_input = data
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                start = tuple(s[index] for s in states) if self.mode == "LSTM" else states[0][index]
                out, end = self._run_direction(
                    layer_input, batch_sizes, start, self._cell(layer, direction), direction == 1
                )
                outputs.append(out)
                for k, s in enumerate(end if self.mode == "LSTM" else (end,)):
                    finals[k].append(s)
            layer_input = outputs[0] if directions == 1 else ops.cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout)
        final = tuple(ops.stack(f) for f in finals)
        if packed:
            if input.unsorted_indices is not None:
                final = self._permute(final, input.unsorted_indices)
            output = PackedSequence(
                layer_input, input.batch_sizes, input.sorted_indices, input.unsorted_indices
            )
        else:
            output = layer_input.view(len(batch_sizes), batch, layer_input.shape[-1])
            if unbatched:
                output, final = output.squeeze(1), tuple(f.squeeze(1) for f in final)
            elif self.batch_first:
                output = output.transpose(0, 1)
        return output, (final if self.mode == "LSTM" else final[0])

    @staticmethod
    def _permute(hx, order, unsqueeze=False):
        """A state (or LSTM's pair) with its batch dim reordered (or added)."""

        def one(h):
            return h.unsqueeze(1) if unsqueeze else h.index_select(1, order)

        return tuple(one(h) for h in hx) if isinstance(hx, tuple) else one(hx)

    def _whole_layer(self, x_gates, batch_sizes, state, w_hh, b_hh, w_hr, reverse):
        """(output, last state) of a padded batch's layer as one node (``LstmLayer``,
        ``GruLayer``) where the device has a fused step for these operands; else None."""
        cells = {"LSTM": (_fused.LSTM_CELL, 4), "GRU": (_fused.GRU_CELL, 3)}
        if self.mode not in cells or w_hr is not None or not batch_sizes or len(set(batch_sizes)) > 1:
            return None
        table, blocks = cells[self.mode]
        kernel, first = table.get(x_gates.device.type), x_gates[:batch_sizes[0]]
        states = state if self.mode == "LSTM" else (state,)
        if (kernel is None or not all(_fusable(kernel, first, s, blocks) for s in states)
                or any(p is not None and p.dtype is not x_gates.dtype for p in (w_hh, b_hh))):
            return None
        if self.mode == "GRU":
            return GruLayer.apply(x_gates, state, w_hh, b_hh, len(batch_sizes), reverse, kernel)
        out, h, c = LstmLayer.apply(x_gates, state[0], state[1], w_hh, len(batch_sizes), reverse, kernel)
        return out, (h, c)

    def _run_direction(self, data, batch_sizes, state, weights, reverse):
        """One layer in one direction over time-major rows ``data`` (``batch_sizes[t]`` sequences
        at step ``t``, the longest first, as packed; a padded batch has them all equal): the
        output rows and each sequence's last state. A sequence that has ended keeps its state;
        going backwards, each one starts from its initial state at its own last step."""
        w_ih, w_hh, b_ih, b_hh, w_hr = weights
        x_gates = F.linear(data, w_ih, b_ih)  # every step's input projection in one matmul
        if b_hh is not None and self.mode != "GRU":  # and both biases in one add: a step is one addmm
            x_gates, b_hh = x_gates + b_hh, None
        whole = self._whole_layer(x_gates, batch_sizes, state, w_hh, b_hh, w_hr, reverse)
        if whole is not None:
            return whole
        step_gates = ops.split(x_gates, [int(b) for b in batch_sizes])  # one node: no quadratic backward
        lstm = self.mode == "LSTM"
        parts = state if lstm else (state,)
        rows = parts[0].shape[0] if not reverse else batch_sizes[-1]
        h = tuple(p[:rows] for p in parts)
        outputs = [None] * len(batch_sizes)
        for t in range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes)):
            b = batch_sizes[t]
            if reverse and b > rows:  # sequences whose last step this is join with their initial state
                h = tuple(ops.cat([a, p[rows:b]]) for a, p in zip(h, parts))
            active = tuple(a[:b] for a in h) if b < h[0].shape[0] else h
            new = _step(
                self.mode,
                step_gates[t],
                active if lstm else active[0],
                w_hh,
                b_hh,
                w_hr,
            )
            new = new if lstm else (new,)
            outputs[t] = new[0]
            h = tuple(ops.cat([n, a[b:]]) for n, a in zip(new, h)) if b < h[0].shape[0] else new
            rows = h[0].shape[0]
        return ops.cat(outputs), (h if lstm else h[0])

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        nonlinearity="tanh",
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
        proj_size=0,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(
            f"RNN_{nonlinearity.upper()}",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
    ):
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )


class GRU(RNNBase):
    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        device=None,
        dtype=None,
        proj_size=0,
    ):
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device,
            dtype,
        )


class RNNCellBase(Module):
    """One step of a recurrence on (batch, features) or unbatched (features) inputs."""

    _mode = None

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        factory = {"device": device, "dtype": dtype}
        gate_size = _GATES[self._mode] * hidden_size
        self.weight_ih = Parameter(ops.empty((gate_size, input_size), **factory))
        self.weight_hh = Parameter(ops.empty((gate_size, hidden_size), **factory))
        if bias:
            self.bias_ih = Parameter(ops.empty(gate_size, **factory))
            self.bias_hh = Parameter(ops.empty(gate_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def _mode_name(self):
        return self._mode

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def forward(self, input, hx=None):
        if input.dim() not in (1, 2):
            raise ValueError(
                f"{type(self).__name__}: Expected input to be 1D or 2D, got {input.dim()}D instead"
            )
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.shape[-1]} expected {self.input_size}"
            )
        unbatched = input.dim() == 1
        if unbatched:
            input = input.unsqueeze(0)
            if hx is not None:
                hx = tuple(h.unsqueeze(0) for h in hx) if isinstance(hx, tuple) else hx.unsqueeze(0)
        if hx is None:
            zeros = ops.zeros((input.shape[0], self.hidden_size), dtype=input.dtype, device=input.device)
            hx = (zeros, zeros) if self._mode_name() == "LSTM" else zeros
        state = _step(
            self._mode_name(), F.linear(input, self.weight_ih, self.bias_ih), hx, self.weight_hh, self.bias_hh
        )
        if unbatched:
            state = tuple(s.squeeze(0) for s in state) if isinstance(state, tuple) else state.squeeze(0)
        return state

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    _mode = "RNN_TANH"  # one gate; the nonlinearity is picked per call

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def _mode_name(self):
        return f"RNN_{self.nonlinearity.upper()}"


class LSTMCell(RNNCellBase):
    _mode = "LSTM"


class GRUCell(RNNCellBase):
    _mode = "GRU"


# ---------------------------------------------------------------- torch.<mode>_cell functions
def _cell_function(mode, name):
    """``torch.<name>(input, hx, w_ih, w_hh, b_ih=None, b_hh=None)``: one step of a cell on a
    (batch, features) input, with ATen's argument checks; the same step RNNCellBase takes."""
    def cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
        states = tuple(hx) if mode == "LSTM" else (hx,)
        if mode == "LSTM" and len(states) != 2:
            raise RuntimeError("lstm_cell expects two hidden states")
        if input.dim() < 2:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{max(input.dim(), 1)}, "
                             f"{max(input.dim(), 1) - 1}], but got 1)")
        if input.shape[1] != w_ih.shape[1]:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected "
                               f"{w_ih.shape[1]}")
        hidden = w_hh.shape[1]
        for k, h in enumerate(states):
            if input.shape[0] != h.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{k} batch size "
                                   f"{h.shape[0]}")
            if h.shape[1] != hidden:
                raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {h.shape[1]}, expected "
                                   f"{hidden}")
        gates = _GATES[mode]
        if w_ih.shape[0] != gates * hidden:
            raise RuntimeError(f"weight_ih first dim must be {gates} * hidden_size = {gates * hidden}, but "
                               f"got {w_ih.shape[0]}")
        return _step(mode, F.linear(input, w_ih, b_ih), states if mode == "LSTM" else hx, w_hh, b_hh)
    cell.__name__ = cell.__qualname__ = name
    cell.__doc__ = f"``torch.{name}``: one {mode} step (see ``RNNCellBase``)."
    return cell


lstm_cell = _cell_function("LSTM", "lstm_cell")
gru_cell = _cell_function("GRU", "gru_cell")
rnn_tanh_cell = _cell_function("RNN_TANH", "rnn_tanh_cell")
rnn_relu_cell = _cell_function("RNN_RELU", "rnn_relu_cell")
