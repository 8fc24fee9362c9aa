"""``torch.compile`` and ``torch.compiler``: tritensor runs every op eagerly through kernels that
are already compiled and cached, so compiling a model changes nothing; these accept torch's
arguments and return the model (or function) itself, so scripts that compile run unchanged."""

from __future__ import annotations

_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def compile(
    model=None,
    *,
    fullgraph=False,
    dynamic=None,
    backend="inductor",
    mode=None,
    options=None,
    name=None,
    disable=False,
    **kwargs,
):
    """``torch.compile``: returns ``model`` unchanged (or, without one, a decorator that does)."""
    if mode is not None and options is not None:
        raise RuntimeError(
            "Either mode or options can be specified, but both can't be specified at the same time."
        )
    if mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(m for m in _MODES if m)}")
    if model is None:
        return lambda fn: fn
    if not callable(model):
        raise RuntimeError("torch.compile() expects a callable or a torch.nn.Module")
    return model


def is_compiling():
    return False


def is_dynamo_compiling():
    return False


def disable(fn=None, recursive=True, *, reason=None):
    """``torch.compiler.disable``: nothing is compiled, so ``fn`` is returned as it is."""
    return fn if fn is not None else (lambda f: f)


def reset():
    """``torch.compiler.reset``: there are no compilation caches to clear."""
