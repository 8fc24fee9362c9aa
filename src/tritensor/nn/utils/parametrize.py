"""``tritensor.nn.utils.parametrize``: express a parameter or buffer as a function of others.

``register_parametrization(module, "weight", P)`` moves the tensor to
``module.parametrizations.weight.original`` (or ``original0..n`` when ``P.right_inverse``
returns several tensors) and swaps the module's class for a generated subclass
``Parametrized<Name>`` whose ``weight`` property computes ``P(original)`` on every access.
The generated class is per module, so other instances of the layer are untouched; state_dict
keys become ``parametrizations.weight.original`` exactly as in torch.
"""
from __future__ import annotations

import copy
from collections.abc import Sequence
from contextlib import contextmanager

from ... import autograd
from ...tensor import Tensor
from ..modules.container import ModuleDict, ModuleList
from ..parameter import Parameter

__all__ = ["cached", "ParametrizationList", "register_parametrization", "is_parametrized",
           "remove_parametrizations", "type_before_parametrizations", "transfer_parametrizations_and_params"]

_cache_enabled = 0
_cache: dict = {}


@contextmanager
def cached():
    """Inside this context each parametrized tensor is computed once per module and reused, so a
    weight read many times in one forward (RNN steps) costs one parametrization call."""
    global _cache_enabled, _cache
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache = {}


def _register_parameter_or_buffer(module, name, value):
    """Keep the kind the tensor had: a Parameter stays trainable, a plain tensor is a buffer."""
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _describe(what, tensor):
    return f"{what} dtype: {tensor.dtype}\n{what} shape: {tuple(tensor.shape)}"


def _check_same_kind(expected, got, message):
    """``got`` must be a tensor with ``expected``'s dtype and shape; ``message`` says who broke it."""
    if not isinstance(got, Tensor):
        raise ValueError(f"{message}: expected a Tensor, got {type(got).__name__}")
    if got.dtype != expected.dtype:
        raise ValueError(f"{message}: it may not change the dtype.\n"
                         f"{_describe('original', expected)}\n{_describe('new', got)}")
    if tuple(got.shape) != tuple(expected.shape):
        raise ValueError(f"{message}: it may not change the shape.\n"
                         f"{_describe('original', expected)}\n{_describe('new', got)}")


def _check_unsafe_free(unparametrized, parametrized):
    """Without ``unsafe=True`` a parametrization must keep the tensor's dtype and shape."""
    if not isinstance(parametrized, Tensor):
        raise ValueError(f"A parametrization must return a tensor. Got {type(parametrized).__name__}.")
    if parametrized.dtype != unparametrized.dtype or tuple(parametrized.shape) != tuple(unparametrized.shape):
        raise ValueError("Registering a parametrization may not change the dtype or shape of the tensor, "
                         "unless the `unsafe` flag is enabled.\n"
                         f"{_describe('unparametrized', unparametrized)}\n"
                         f"{_describe('parametrized', parametrized)}")


def _swap_data(target, value):
    """Give ``target`` (kept as the same object, so optimizers still hold it) ``value``'s data."""
    target.data = value.detach()


class ParametrizationList(ModuleList):
    """The chain of parametrizations of one tensor, holding its unparametrized ``original``
    (or ``original0..n``); calling it evaluates the chain."""

    def __init__(self, modules, original, unsafe=False):
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        with autograd.no_grad():
            new = original
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors "
                             f"(list, tuple...). Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            _check_same_kind(original, new, "When `right_inverse` outputs one tensor")
            with autograd.no_grad():
                _swap_data(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, part in enumerate(new):
                if not isinstance(part, Tensor):
                    raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors "
                                     f"(list, tuple...). Got element {i} of type {type(part).__name__}")
                part = part.detach()
                if isinstance(original, Parameter):
                    part = Parameter(part, original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", part)
        if not self.unsafe:
            _check_unsafe_free(original, self())

    def right_inverse(self, value):
        """Assigning to the parametrized attribute stores ``right_inverse(value)`` as the original(s)."""
        with autograd.no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not implement "
                                       "right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                _check_same_kind(self.original, value, "The tensor returned by right_inverse")
                _swap_data(self.original, value)
                return
            if not isinstance(value, Sequence):
                raise ValueError("'right_inverse' must return a sequence of tensors. "
                                 f"Got {type(value).__name__}.")
            if len(value) != self.ntensors:
                raise ValueError("'right_inverse' must return a sequence of tensors of length "
                                 f"{self.ntensors}. "
                                 f"Got a sequence of length {len(value)}.")
            for i, part in enumerate(value):
                original_i = getattr(self, f"original{i}")
                _check_same_kind(original_i, part, f"Tensor {i} returned by `right_inverse`")
                _swap_data(original_i, part)

    def originals(self):
        """The stored tensor(s), in the order the first parametrization takes them."""
        if self.is_tensor:
            return (self.original,)
        return tuple(getattr(self, f"original{i}") for i in range(self.ntensors))

    def forward(self):
        modules = list(self)
        x = modules[0](*self.originals())
        for module in modules[1:]:
            x = module(x)
        return x


def _refuse_pickling(self):
    raise RuntimeError("Serialization of parametrized modules is only supported through state_dict(). "
                       "See: https://pytorch.org/tutorials/beginner/saving_loading_models.html")


def _deepcopy_keeping_class(self, memo):
    """deepcopy must not go through ``__getstate__`` (which refuses pickling)."""
    clone = self.__new__(type(self))
    memo[id(self)] = clone
    clone.__dict__.update(copy.deepcopy(self.__dict__, memo))
    return clone


def _inject_new_class(module):
    """Give this one module its own subclass, so properties added to it touch no other instance."""
    cls = module.__class__
    namespace = {"__getstate__": _refuse_pickling}
    if not hasattr(cls, "__deepcopy__"):
        namespace["__deepcopy__"] = _deepcopy_keeping_class
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), namespace)


def _inject_property(module, tensor_name):
    """``module.<tensor_name>`` evaluates the chain (cached inside ``cached()``); assigning to it
    goes through ``right_inverse``."""
    cls = module.__class__
    assert not hasattr(cls, tensor_name)

    def get_parametrized(self):
        parametrization = self.parametrizations[tensor_name]
        if not _cache_enabled:
            return parametrization()
        key = (id(self), tensor_name)
        if key not in _cache:
            _cache[key] = parametrization()
        return _cache[key]

    def set_original(self, value):
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(cls, tensor_name, property(get_parametrized, set_original))


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Parametrize ``module.<tensor_name>`` by ``parametrization`` (appended to the chain when the
    tensor is already parametrized); returns ``module``."""
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        chain = module.parametrizations[tensor_name]
        if not unsafe:
            current = getattr(module, tensor_name)
            _check_unsafe_free(current, parametrization(current))
            if hasattr(parametrization, "right_inverse"):
                _check_same_kind(current, parametrization.right_inverse(parametrization(current)),
                                 "The tensor returned by right_inverse")
        chain.append(parametrization)
        chain.unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        chain = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        module.parametrizations[tensor_name] = chain
        _inject_property(module, tensor_name)
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a parametrized element "
                         f"with name '{tensor_name}'")
    return module


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has any parametrization (or one on ``tensor_name``)."""
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo the parametrization of ``tensor_name``: it becomes a plain parameter/buffer again,
    holding the parametrized value (``leave_parametrized``) or the original."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    chain = module.parametrizations[tensor_name]
    if chain.is_tensor:
        original = chain.original
        if leave_parametrized:
            with autograd.no_grad():
                _swap_data(original, getattr(module, tensor_name))
    elif leave_parametrized:
        value = getattr(module, tensor_name)  # with grad: whether any original requires it decides the kind
        original = Parameter(value.detach()) if value.requires_grad else value
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is "
                         "parametrized in terms of a sequence of tensors.")
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module


def type_before_parametrizations(module):
    """The module's class as it was before ``register_parametrization`` swapped it."""
    if is_parametrized(module):
        return module.__class__.__bases__[0]
    return type(module)


def transfer_parametrizations_and_params(from_module, to_module, tensor_name=None):
    """Register ``from_module``'s parametrizations (all, or ``tensor_name``'s) on ``to_module``,
    sharing their original tensors; returns ``to_module``."""
    if not is_parametrized(from_module):
        return to_module
    names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
    for name in names:
        source = from_module.parametrizations[name]
        if not hasattr(to_module, name):
            setattr(to_module, name, Parameter(getattr(from_module, name)))
        for parametrization in source:
            register_parametrization(to_module, name, parametrization)
        target = to_module.parametrizations[name]
        if source.is_tensor:
            target.original = source.original
        else:
            for i, original in enumerate(source.originals()):
                setattr(target, f"original{i}", original)
    return to_module
