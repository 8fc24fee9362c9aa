"""``torch.utils.checkpoint``: activation checkpointing. The forward runs without recording a
graph; the backward runs the function again (with the random-number state of the forward, so
dropout masks repeat) and backpropagates through that second run."""

from __future__ import annotations

import warnings

from .. import autograd
from ..autograd.function import Function
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


class CheckpointFunction(Function):
    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        ctx.run_function = run_function
        ctx.rng_state = _rng_states(args) if preserve_rng_state else None
        ctx.inputs = [a.detach() if isinstance(a, Tensor) else a for a in args]
        ctx.grads_wanted = [isinstance(a, Tensor) and a.requires_grad for a in args]
        with autograd.no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        inputs = [
            a.detach().requires_grad_(wanted) if isinstance(a, Tensor) else a
            for a, wanted in zip(ctx.inputs, ctx.grads_wanted)
        ]
        saved = _rng_states(inputs) if ctx.rng_state is not None else None
        try:
            if ctx.rng_state is not None:
                _restore(ctx.rng_state)
            with autograd.enable_grad():
                outputs = ctx.run_function(*inputs)
        finally:
            if saved is not None:
                _restore(saved)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [
            (o, g)
            for o, g in zip(outputs, grads)
            if isinstance(o, Tensor) and o.requires_grad and g is not None
        ]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(
            a.grad if isinstance(a, Tensor) and a.requires_grad else None for a in inputs
        )


def _rng_states(args):
    """The CPU generator's state, and the CUDA one when an input lives there."""
    states = {"cpu": get_rng_state()}
    if any(isinstance(a, Tensor) and a.device.type == "cuda" for a in args):
        from .. import cuda

        states["cuda"] = cuda.get_rng_state_all()
    return states


def _restore(states):
    set_rng_state(states["cpu"])
    if "cuda" in states:
        from .. import cuda

        cuda.set_rng_state_all(states["cuda"])


def checkpoint(
    function,
    *args,
    use_reentrant=None,
    context_fn=None,
    determinism_check="default",
    debug=False,
    preserve_rng_state=True,
    **kwargs,
):
    """``function(*args, **kwargs)``, its intermediate activations recomputed in backward instead
    of kept. ``use_reentrant=False`` runs the function normally (torch's variant recomputes
    through saved-tensor hooks, which tritensor lacks): same results and gradients, no saving."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
            "use_reentrant=False is recommended, but if you need to preserve the current default "
            "behavior, you can pass use_reentrant=True.",
            stacklevel=2,
        )
        use_reentrant = True
    if context_fn is not None and use_reentrant:
        raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
    if not use_reentrant:
        return function(*args, **kwargs)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    return CheckpointFunction.apply(function, preserve_rng_state, *args)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (a Sequential or list of modules) in ``segments`` checkpointed chunks;
    the last chunk runs normally, as in torch."""
    functions = list(functions.children()) if hasattr(functions, "children") else list(functions)
    size = len(functions) // segments

    def run(start, end):
        def forward(x):
            for f in functions[start : end + 1]:
                x = f(x)
            return x

        return forward

    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, **kwargs)
    return run(end + 1, len(functions) - 1)(input)
