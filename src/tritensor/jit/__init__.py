"""``torch.jit`` without TorchScript: tritensor runs every op eagerly through kernels that are
already compiled and cached (see ``tritensor.compiler`` for ``torch.compile``), so scripting or
tracing has nothing to gain. ``script`` and ``trace`` return the function or module itself, so
scripts that use them run unchanged and give identical values.

Differences from torch, by design:

* no TorchScript IR, no ``.graph`` / ``.code``; ``save``/``load`` raise ``NotImplementedError``
  (use ``tritensor.save``/``tritensor.load`` on the state_dict or module);
* ``trace`` does not freeze data-dependent control flow: the returned callable is the Python
  function, which keeps following ``if``/loops on tensor values. It still checks its arguments
  and runs the function once on the example inputs, as torch does, so errors surface at the same
  place;
* ``ScriptModule``/``ScriptFunction``/``RecursiveScriptModule`` exist for ``isinstance`` checks;
  nothing returned here is an instance of them (it is the original object).
"""
from __future__ import annotations

import inspect
import warnings
from typing import Final  # noqa: F401  (torch.jit.Final is typing.Final)

from ..nn.modules.module import Module

__all__ = ["script", "trace", "trace_module", "ignore", "unused", "export", "interface", "is_scripting",
           "is_tracing", "annotate", "Final", "Attribute", "fork", "wait", "Future", "freeze",
           "optimize_for_inference", "save", "load", "ScriptModule", "ScriptFunction",
           "RecursiveScriptModule", "enable_onednn_fusion", "onednn_fusion_enabled", "set_fusion_strategy"]


def _warn_deprecated(name, advice="Please switch to `torch.compile` or `torch.export`."):
    """torch 2.13 deprecates TorchScript entry points with a DeprecationWarning; tritensor warns alike
    so scripts that filter or promote warnings behave the same."""
    warnings.warn(f"`torch.jit.{name}` is deprecated. {advice}", DeprecationWarning,
                  stacklevel=3)


_USE_COMPILE = "Please use `torch.compile` instead."


class ScriptModule(Module):
    """Name-only stand-in for isinstance checks: tritensor never creates ScriptModules."""


class RecursiveScriptModule(ScriptModule):
    """Name-only stand-in for isinstance checks (see ``ScriptModule``)."""


class ScriptFunction:
    """Name-only stand-in for isinstance checks: scripted functions stay plain functions."""


def script(obj=None, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """``torch.jit.script``: returns ``obj`` itself (tritensor has no TorchScript)."""
    _warn_deprecated("script")
    if obj is None:
        raise RuntimeError("torch.jit.script expects a function, class or nn.Module, got None")
    return obj


def _as_input_tuple(example_inputs):
    """torch accepts one tensor or a tuple of inputs; anything else must be iterable like torch."""
    from ..tensor import Tensor
    if isinstance(example_inputs, Tensor):
        return (example_inputs,)
    if isinstance(example_inputs, dict):
        return example_inputs
    return tuple(example_inputs)  # raises TypeError for non-iterables, as torch does


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-5, strict=True, _force_outplace=False, _module_class=None,
          _compilation_unit=None, example_kwarg_inputs=None, _store_inputs=True):
    """``torch.jit.trace``: runs ``func`` once on the example inputs (as torch does, so argument
    errors surface here) and returns ``func`` itself; nothing is frozen, so data-dependent control
    flow keeps working rather than being baked in."""
    _warn_deprecated("trace")
    if not callable(func):
        raise RuntimeError(f"Could not get name of python class object: {type(func).__name__} "
                           "is not callable")
    if example_inputs is None and example_kwarg_inputs is None:
        raise RuntimeError("example_kwarg_inputs or example_inputs must be provided to torch.jit.trace")
    if example_kwarg_inputs is not None:
        if not isinstance(example_kwarg_inputs, dict):
            raise RuntimeError("example_kwarg_inputs should be a dict")
        func(**example_kwarg_inputs)
        return func
    inputs = _as_input_tuple(example_inputs)
    func(**inputs) if isinstance(inputs, dict) else func(*inputs)
    return func


def trace_module(mod, inputs, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-5,
                 strict=True, _force_outplace=False, _module_class=None, _compilation_unit=None,
                 example_inputs_is_kwarg=False, _store_inputs=True):
    """``torch.jit.trace_module``: runs each named method once on its inputs and returns ``mod``."""
    _warn_deprecated("trace_module")
    if not isinstance(mod, Module):
        raise AttributeError("expected torch.nn.Module as the first argument")
    if not isinstance(inputs, dict):
        raise AttributeError("expected a dictionary of (method_name, input) pairs")
    for method_name, method_inputs in inputs.items():
        method = getattr(mod, method_name)
        args = _as_input_tuple(method_inputs)
        method(**args) if example_inputs_is_kwarg or isinstance(args, dict) else method(*args)
    return mod


def ignore(fn=None, **kwargs):
    """``torch.jit.ignore``: leaves a function to Python, which is where everything runs here.
    Usable bare (``@ignore``) or called (``@ignore(drop=True)``)."""
    return fn if callable(fn) else (lambda f: f)


unused = ignore


def export(fn):
    """``torch.jit.export``: marks a method for compilation; nothing to compile here."""
    return fn


def interface(obj):
    """``torch.jit.interface``: a plain class stays a plain class."""
    if not inspect.isclass(obj):
        raise RuntimeError("interface must be applied to a class")
    return obj


def is_scripting() -> bool:
    """Always False: code never runs under TorchScript in tritensor."""
    return False


def is_tracing() -> bool:
    """Always False: ``trace`` runs the function eagerly, never in a tracing mode."""
    return False


def annotate(the_type, the_value):
    """``torch.jit.annotate``: a TorchScript type hint; returns the value."""
    return the_value


class Attribute:
    """``torch.jit.Attribute(value, type)``: a typed attribute; in eager code it is just the value."""

    def __new__(cls, value, type=None):  # noqa: A002  (torch's parameter name)
        return value


class Future:
    """The result of ``fork``: the work already ran eagerly, ``wait`` returns (or raises) it."""

    def __init__(self, value=None, error=None):
        self._value, self._error = value, error

    def wait(self):
        if self._error is not None:
            raise self._error
        return self._value

    value = wait

    def done(self) -> bool:
        return True

    def then(self, callback):
        """Runs ``callback(self)`` now (the value is ready) and returns its result as a Future."""
        return run_forked(callback, self)

    def __repr__(self):
        return f"Future(done=True, value={self._value!r})" if self._error is None else "Future(error)"


def fork(func, *args, **kwargs):
    """``torch.jit.fork``: runs ``func`` eagerly now (see ``run_forked``)."""
    _warn_deprecated("fork", _USE_COMPILE)
    return run_forked(func, *args, **kwargs)


def run_forked(func, *args, **kwargs):
    """``torch.fork``: runs ``func`` eagerly now; an exception is raised again by ``wait``
    (torch raises it at ``wait`` too when the task runs asynchronously)."""
    try:
        return Future(func(*args, **kwargs))
    except Exception as error:  # noqa: BLE001  (re-raised by Future.wait, like torch)
        return Future(error=error)


def wait(future):
    """``torch.jit.wait``: the value of a ``fork`` result."""
    return future.wait()


def _require_eval_module(mod, what):
    if not isinstance(mod, Module):
        raise RuntimeError(f"{what} expects a ScriptModule as input. Please use torch.jit.script or "
                           "torch.jit.trace to script your 'nn.Module'.")
    if mod.training:
        raise RuntimeError(f"{what} is currently only implemented for modules in eval mode. "
                           "Please call .eval() on your module before freezing.")


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """``torch.jit.freeze``: returns ``mod``. torch insists on a ScriptModule; tritensor's ``script``
    returns the module itself, so any module in eval mode is accepted (a module in training mode
    raises like torch)."""
    _warn_deprecated("freeze", _USE_COMPILE)
    _require_eval_module(mod, "Freezing")
    return mod


def optimize_for_inference(mod, other_methods=None):
    """``torch.jit.optimize_for_inference``: puts ``mod`` in eval mode (as torch does) and returns it."""
    _warn_deprecated("optimize_for_inference", _USE_COMPILE)
    if not isinstance(mod, Module):
        raise RuntimeError("optimize_for_inference expects a ScriptModule as input. Please use "
                           "torch.jit.script or torch.jit.trace to script your 'nn.Module'.")
    return mod.eval()


def save(m, f, _extra_files=None):
    raise NotImplementedError("tritensor has no TorchScript archives: torch.jit.save is not supported; "
                              "save the state_dict (or module) with tritensor.save instead")


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    raise NotImplementedError("tritensor has no TorchScript archives: torch.jit.load is not supported; "
                              "load a state_dict (or module) saved with tritensor.save via tritensor.load")


_onednn_fusion = False


def enable_onednn_fusion(enabled: bool) -> None:
    """Recorded only: tritensor has no oneDNN graph fuser, so the flag changes nothing."""
    global _onednn_fusion
    _onednn_fusion = bool(enabled)


def onednn_fusion_enabled() -> bool:
    return _onednn_fusion


def set_fusion_strategy(strategy):
    """``torch.jit.set_fusion_strategy``: returns the previous strategy (there is no fuser)."""
    global _fusion_strategy
    previous, _fusion_strategy = _fusion_strategy, list(strategy)
    return previous


_fusion_strategy = [("STATIC", 2), ("DYNAMIC", 10)]
