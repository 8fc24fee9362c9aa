"""One direction of one LSTM layer over a padded batch as a single autograd node.

The per-step path (``modules/rnn.py``) records a split piece, an addmm and a fused cell for
every step, and its backward runs a weight-gradient product per step and adds them up. Here
the same fused-cell kernels (``_fused.LSTM_CELL``) run in a loop that records nothing; the
backward walks the steps in reverse computing each step's gate gradients (a kernel call and
the ``dgates @ w_hh`` product the recurrence needs), then gets ``grad_w_hh`` as one
(4H, T*B) x (T*B, H) product over all steps at once. A backward that records a graph
(create_graph) recomputes the forward in tensor ops and differentiates that instead.
"""
from __future__ import annotations

from .. import ops
from ..autograd import grad_mode
from ..autograd.function import Function


def _rows(t, batch):
    return slice(t * batch, (t + 1) * batch)


class LstmLayer(Function):
    """``(output (T*B, H), h_T, c_T)`` from the input projection ``x_gates`` (T*B, 4H, both
    biases in it), the initial state and ``w_hh``; ``reverse`` runs the steps backwards."""

    node_name = "MkldnnRnnLayerBackward0"  # torch's CPU LSTM layer node

    @staticmethod
    def forward(ctx, x_gates, h0, c0, w_hh, steps, reverse, kernel):
        batch = h0.shape[0]
        order = range(steps - 1, -1, -1) if reverse else range(steps)
        w_t = w_hh.t()
        h, c = h0, c0
        hs, c_prev, activations = [None] * steps, [None] * steps, [None] * steps
        for t in order:
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
        order = range(steps - 1, -1, -1) if ctx.reverse else range(steps)
        dgates = [None] * steps
        dh, dc = grad_h, grad_c
        for t in reversed(order):
            g_out = None if grad_out is None else grad_out[_rows(t, batch)]
            gh = g_out if dh is None else dh if g_out is None else dh + g_out
            if gh is None and dc is None:  # nothing reaches this step
                dgates[t] = ops.zeros((batch, x_gates.shape[1]), dtype=x_gates.dtype, device=x_gates.device)
                continue
            dgates[t], dc = ctx.kernel.backward(ctx.activations[t], ctx.c_prev[t], gh, dc)
            dh = ops.mm(dgates[t], w_hh)
        grad_gates = ops.cat(dgates)
        grad_w_hh = None
        if ctx.needs_input_grad[3]:  # every step's h_prev against its gate gradients, in one product
            h_prev = ops.cat([out[batch:], h0] if ctx.reverse else [h0, out[:-batch]])
            grad_w_hh = ops.mm(grad_gates.t(), h_prev)
        return grad_gates, dh, dc, grad_w_hh, None, None, None


def _recomputed_grads(x_gates, h0, c0, w_hh, steps, reverse, grad_out, grad_h, grad_c):
    """The layer's gradients in differentiable tensor ops (double backward): the forward again
    in tensor ops, then the per-step formulas of the fused cell backwards through time."""
    from .modules.rnn import _lstm_cell_grads
    batch = h0.shape[0]
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    h, c = h0, c0
    gates, c_prev, h_prev = [None] * steps, [None] * steps, [None] * steps
    for t in order:
        gates[t] = ops.addmm(x_gates[_rows(t, batch)], h, w_hh.t())
        c_prev[t], h_prev[t] = c, h
        i, f, g, o = gates[t].chunk(4, -1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
    dgates = [None] * steps
    dh, dc = grad_h, grad_c
    for t in reversed(order):
        g_out = None if grad_out is None else grad_out[_rows(t, batch)]
        gh = g_out if dh is None else dh if g_out is None else dh + g_out
        dgates[t], dc = _lstm_cell_grads(gates[t], c_prev[t], gh, dc)
        dh = ops.mm(dgates[t], w_hh)
    grad_gates = ops.cat(dgates)
    return grad_gates, dh, dc, ops.mm(grad_gates.t(), ops.cat(h_prev))
