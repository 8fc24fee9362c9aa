"""One direction of one LSTM or GRU layer over a padded batch as a single autograd node.

The per-step path (``modules/rnn.py``) records a split piece, an addmm and a fused cell for
every step, and its backward runs a weight-gradient product per step and adds them up. Here
the same fused-cell kernels (``_fused.LSTM_CELL``, ``_fused.GRU_CELL``) run in a loop that
records nothing; the backward walks the steps in reverse computing each step's gate
gradients (a kernel call and the ``@ w_hh`` product the recurrence needs), then gets
``grad_w_hh`` as one (G*H, T*B) x (T*B, H) product over all steps at once. A backward that
records a graph (create_graph) recomputes the forward in tensor ops and differentiates that
instead.
"""
from __future__ import annotations

from .. import ops
from ..autograd import grad_mode
from ..autograd.function import Function


def _rows(t, batch):
    return slice(t * batch, (t + 1) * batch)


def _order(steps, reverse):
    """The steps in the order the recurrence visits them."""
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _state_grad(grad_out, dh, t, batch):
    """The gradient reaching step ``t``'s new hidden state: the output's row block and the
    next step's ``dh`` (either may be None)."""
    g_out = None if grad_out is None else grad_out[_rows(t, batch)]
    return g_out if dh is None else dh if g_out is None else dh + g_out


def _previous_states(out, h0, batch, reverse):
    """Each step's incoming hidden state, in the output's row order."""
    return ops.cat([out[batch:], h0] if reverse else [h0, out[:-batch]])


class LstmLayer(Function):
    """``(output (T*B, H), h_T, c_T)`` from the input projection ``x_gates`` (T*B, 4H, both
    biases in it), the initial state and ``w_hh``; ``reverse`` runs the steps backwards."""

    node_name = "MkldnnRnnLayerBackward0"  # torch's CPU LSTM layer node

    @staticmethod
    def forward(ctx, x_gates, h0, c0, w_hh, steps, reverse, kernel):
        batch, w_t = h0.shape[0], w_hh.t()
        h, c = h0, c0
        hs, c_prev, activations = [None] * steps, [None] * steps, [None] * steps
        for t in _order(steps, reverse):
            gates = ops.mm(h, w_t).add_(x_gates[_rows(t, batch)])
            c_prev[t] = c
            h, c, activations[t] = kernel.forward(gates, c)
            hs[t] = h
        out = ops.cat(hs)
        ctx.save_for_backward(x_gates, h0, c0, w_hh, out)
        ctx.c_prev, ctx.activations = c_prev, activations
        ctx.steps, ctx.reverse, ctx.kernel = steps, reverse, kernel
        ctx.set_materialize_grads(False)
        return out, h, c

    @staticmethod
    def backward(ctx, grad_out, grad_h, grad_c):
        x_gates, h0, c0, w_hh, out = ctx.saved_tensors
        if grad_mode.is_grad_enabled():  # create_graph: gradients that are differentiable too
            return (*_recomputed_grads(x_gates, h0, c0, w_hh, ctx.steps, ctx.reverse, grad_out, grad_h,
                                       grad_c), None, None, None)
        batch, steps = h0.shape[0], ctx.steps
        dgates = [None] * steps
        dh, dc = grad_h, grad_c
        for t in reversed(_order(steps, ctx.reverse)):
            gh = _state_grad(grad_out, dh, t, batch)
            if gh is None and dc is None:  # nothing reaches this step
                dgates[t] = ops.zeros((batch, x_gates.shape[1]), dtype=x_gates.dtype, device=x_gates.device)
                continue
            dgates[t], dc = ctx.kernel.backward(ctx.activations[t], ctx.c_prev[t], gh, dc)
            dh = ops.mm(dgates[t], w_hh)
        grad_gates = ops.cat(dgates)
        grad_w_hh = None
        if ctx.needs_input_grad[3]:  # every step's h_prev against its gate gradients, in one product
            grad_w_hh = ops.mm(grad_gates.t(), _previous_states(out, h0, batch, ctx.reverse))
        return grad_gates, dh, dc, grad_w_hh, None, None, None


def _recomputed_grads(x_gates, h0, c0, w_hh, steps, reverse, grad_out, grad_h, grad_c):
    """The layer's gradients in differentiable tensor ops (double backward): the forward again
    in tensor ops, then the per-step formulas of the fused cell backwards through time."""
    from .modules.rnn import _lstm_cell_grads
    batch = h0.shape[0]
    h, c = h0, c0
    gates, c_prev, h_prev = [None] * steps, [None] * steps, [None] * steps
    for t in _order(steps, reverse):
        gates[t] = ops.addmm(x_gates[_rows(t, batch)], h, w_hh.t())
        c_prev[t], h_prev[t] = c, h
        i, f, g, o = gates[t].chunk(4, -1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
    dgates = [None] * steps
    dh, dc = grad_h, grad_c
    for t in reversed(_order(steps, reverse)):
        dgates[t], dc = _lstm_cell_grads(gates[t], c_prev[t], _state_grad(grad_out, dh, t, batch), dc)
        dh = ops.mm(dgates[t], w_hh)
    grad_gates = ops.cat(dgates)
    return grad_gates, dh, dc, ops.mm(grad_gates.t(), ops.cat(h_prev))


class GruLayer(Function):
    """``(output (T*B, H), h_T)`` from the input projection ``x_gates`` (T*B, 3H, with
    ``b_ih``), the initial state, ``w_hh`` and ``b_hh`` (None: no bias), whose product the
    new gate scales; ``reverse`` runs the steps backwards."""

    node_name = "GruLayerBackward0"  # torch's CPU GRU records per-step ops: no name to match

    @staticmethod
    def forward(ctx, x_gates, h0, w_hh, b_hh, steps, reverse, kernel):
        batch, w_t = h0.shape[0], w_hh.t()
        h = h0
        hs, projections, activations = [None] * steps, [None] * steps, [None] * steps
        for t in _order(steps, reverse):
            y = ops.mm(h, w_t) if b_hh is None else ops.addmm(b_hh, h, w_t)
            projections[t] = y
            h, activations[t] = kernel.forward(x_gates[_rows(t, batch)], y, h)
            hs[t] = h
        out = ops.cat(hs)
        ctx.save_for_backward(x_gates, h0, w_hh, b_hh, out)
        ctx.projections, ctx.activations = projections, activations
        ctx.steps, ctx.reverse, ctx.kernel = steps, reverse, kernel
        ctx.set_materialize_grads(False)
        return out, h

    @staticmethod
    def backward(ctx, grad_out, grad_h):
        x_gates, h0, w_hh, b_hh, out = ctx.saved_tensors
        batch, steps = h0.shape[0], ctx.steps
        if grad_mode.is_grad_enabled():  # create_graph: gradients that are differentiable too
            return (*_recomputed_gru_grads(x_gates, h0, w_hh, b_hh, steps, ctx.reverse, grad_out, grad_h),
                    None, None, None)
        h_prev = _previous_states(out, h0, batch, ctx.reverse)
        grad_x, grad_y = [None] * steps, [None] * steps
        dh = grad_h
        for t in reversed(_order(steps, ctx.reverse)):
            gh = _state_grad(grad_out, dh, t, batch)
            if gh is None:  # nothing reaches this step
                grad_x[t] = grad_y[t] = ops.zeros((batch, x_gates.shape[1]), dtype=x_gates.dtype,
                                                  device=x_gates.device)
                continue
            grad_x[t], grad_y[t], direct = ctx.kernel.backward(ctx.activations[t], ctx.projections[t],
                                                               h_prev[_rows(t, batch)], gh)
            dh = ops.addmm(direct, grad_y[t], w_hh)
        grad_hidden = ops.cat(grad_y)
        grad_w_hh = ops.mm(grad_hidden.t(), h_prev) if ctx.needs_input_grad[2] else None
        grad_b_hh = grad_hidden.sum(0) if b_hh is not None and ctx.needs_input_grad[3] else None
        return ops.cat(grad_x), dh, grad_w_hh, grad_b_hh, None, None, None


def _recomputed_gru_grads(x_gates, h0, w_hh, b_hh, steps, reverse, grad_out, grad_h):
    """GruLayer's gradients in differentiable tensor ops (double backward), as
    ``_recomputed_grads`` for the LSTM."""
    from .modules.rnn import _gru_cell_grads
    batch = h0.shape[0]
    h = h0
    projections, h_prev = [None] * steps, [None] * steps
    for t in _order(steps, reverse):
        y = ops.matmul(h, w_hh.t()) if b_hh is None else ops.addmm(b_hh, h, w_hh.t())
        projections[t], h_prev[t] = y, h
        x_r, x_z, x_n = x_gates[_rows(t, batch)].chunk(3, -1)
        y_r, y_z, y_n = y.chunk(3, -1)
        r, z = (x_r + y_r).sigmoid(), (x_z + y_z).sigmoid()
        h = (1 - z) * (x_n + r * y_n).tanh() + z * h
    grad_x, grad_y = [None] * steps, [None] * steps
    dh = grad_h
    for t in reversed(_order(steps, reverse)):
        gh = _state_grad(grad_out, dh, t, batch)
        gh = ops.zeros_like(h0) if gh is None else gh
        x_rows = x_gates[_rows(t, batch)]
        grad_x[t], grad_y[t], direct = _gru_cell_grads(x_rows, projections[t], h_prev[t], gh)
        dh = direct + ops.mm(grad_y[t], w_hh)
    grad_hidden = ops.cat(grad_y)
    grad_b_hh = None if b_hh is None else grad_hidden.sum(0)
    return ops.cat(grad_x), dh, ops.mm(grad_hidden.t(), ops.cat(h_prev)), grad_b_hh
