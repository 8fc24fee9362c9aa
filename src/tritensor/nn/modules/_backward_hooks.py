"""A module's full backward hooks (``register_full_backward_hook`` / ``_pre_hook``).

The call's tensor inputs and outputs each pass through an identity node (torch's
``BackwardHookFunctionBackward``) whose backward sees the gradients going by: the outputs'
node runs the pre-hooks and keeps the output gradients, the inputs' node runs the hooks with
both, and either may replace the gradients it passes on. When no input needs a gradient, the
hooks run from the outputs' node with ``grad_input`` all None, as in torch.
"""
from __future__ import annotations

import warnings

from ...autograd import grad_mode
from ...autograd.function import Function
from ...tensor import Tensor


class _Watch(Function):
    """Identity on ``tensors``; backward hands their gradients to ``callback`` first."""

    node_name = "BackwardHookFunctionBackward"

    @staticmethod
    def forward(ctx, callback, *tensors):
        ctx.callback = callback
        return tuple(t.detach() for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.callback(grads))


def _watched(values, callback):
    """``values`` with its tensors that need a gradient routed through one ``_Watch`` node;
    their positions; or ``values`` unchanged when none does."""
    positions = [i for i, v in enumerate(values) if isinstance(v, Tensor) and v.requires_grad]
    if not positions or not grad_mode.enabled:
        return values, ()
    out = list(values)
    for i, t in zip(positions, _Watch.apply(callback, *(values[i] for i in positions))):
        out[i] = t
    return tuple(out), positions


class BackwardHookCall:
    """One module call's hooks: wraps its inputs and outputs and runs the hooks in backward."""

    def __init__(self, module, n_inputs):
        self.module, self.n_inputs = module, n_inputs
        self.grad_output = None
        self.input_positions = ()

    def inputs(self, args):
        args, self.input_positions = _watched(args, self._on_input_grads)
        return args

    def outputs(self, output):
        single = isinstance(output, Tensor)
        values, _ = _watched((output,) if single else tuple(output), self._on_output_grads)
        return values[0] if single else type(output)(values) if isinstance(output, tuple) else list(values)

    def _on_output_grads(self, grads):
        for hook in list(self.module._backward_pre_hooks.values()):
            new = hook(self.module, grads)
            if new is not None:
                grads = tuple(new)
        self.grad_output = grads
        if not self.input_positions and self.module._backward_hooks:
            warnings.warn("Full backward hook is firing when gradients are computed with respect to module "
                          "outputs since no inputs require gradients.", UserWarning, stacklevel=2)
            self._run_hooks((None,) * self.n_inputs)
        return grads

    def _on_input_grads(self, grads):
        grad_input = [None] * self.n_inputs
        for i, g in zip(self.input_positions, grads):
            grad_input[i] = g
        grad_input = self._run_hooks(tuple(grad_input))
        return [grad_input[i] for i in self.input_positions]

    def _run_hooks(self, grad_input):
        for hook in list(self.module._backward_hooks.values()):
            new = hook(self.module, grad_input, self.grad_output)
            if new is not None:
                if len(new) != len(grad_input):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got "
                                       f"{len(new)}, but expected {len(grad_input)}")
                grad_input = tuple(new)
        return grad_input
