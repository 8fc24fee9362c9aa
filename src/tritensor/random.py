"""Random numbers: ``Generator``, ``manual_seed`` and the sampling ops.

Each Generator owns a counter-based Philox stream (numpy's ``Philox`` bit generator),
the same family the GPU backend uses, so sequences are reproducible under
``manual_seed``. Values match torch's distributions, not torch's exact bits (torch's CPU
generator is a Mersenne Twister with its own sampling code).
"""
from __future__ import annotations

import numpy as np

from . import dtypes as dt
from .device import as_device
from .ops._registry import export, method
from .tensor import Tensor

_DEFAULT_SEED = 67280421310721


class Generator:
    """A seeded random stream (``torch.Generator``)."""

    def __init__(self, device="cpu"):
        self.device = as_device(device)
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed):
        seed = int(seed)
        if seed < 0:
            seed += 1 << 64
        self._seed = seed
        self._rng = np.random.Generator(np.random.Philox(key=seed & ((1 << 64) - 1)))
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) & ((1 << 63) - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        from .ops.creation import tensor
        state = self._rng.bit_generator.state
        packed = np.concatenate([state["state"]["counter"], state["state"]["key"], state["buffer"],
                                 [state["buffer_pos"], state["has_uint32"], state["uinteger"]]])
        return tensor(packed.astype(np.uint64).view(np.uint8), dtype=dt.uint8)

    def set_state(self, new_state):
        raw = np.asarray(new_state.numpy(), dtype=np.uint8).view(np.uint64)
        bg = self._rng.bit_generator
        bg.state = {"bit_generator": "Philox",
                    "state": {"counter": raw[0:4].copy(), "key": raw[4:6].copy()},
                    "buffer": raw[6:10].copy(), "buffer_pos": int(raw[10]),
                    "has_uint32": int(raw[11]), "uinteger": int(raw[12])}
        return self

    @property
    def numpy_rng(self) -> np.random.Generator:
        return self._rng


default_generator = Generator()


def _gen(generator):
    return default_generator if generator is None else generator


@export(method=False)
def manual_seed(seed):
    default_generator.manual_seed(seed)
    return default_generator


@export(method=False)
def seed():
    return default_generator.seed()


@export(method=False)
def initial_seed():
    return default_generator.initial_seed()


@export(method=False)
def get_rng_state():
    return default_generator.get_state()


@export(method=False)
def set_rng_state(new_state):
    default_generator.set_state(new_state)


def _emit(values, shape, dtype, device, requires_grad):
    from .ops.creation import from_host_array
    t = from_host_array(np.asarray(values).reshape(shape), dtype, as_device(device))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float_dtype(dtype, name):
    dtype = dtype or dt.get_default_dtype()
    if not dtype.is_floating_point:
        raise RuntimeError(f"\"{name}\" not implemented for '{dtype.name}'")
    return dtype


def _shape(size):
    from .ops.creation import _shape_arg
    return _shape_arg(size)


@export(method=False)
def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    shape = _shape(size)
    dtype = _float_dtype(dtype, "check_uniform_bounds")
    return _emit(_gen(generator).numpy_rng.random(shape), shape, dtype, device, requires_grad)


@export(method=False)
def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    shape = _shape(size)
    dtype = _float_dtype(dtype, "normal_kernel_cpu")
    return _emit(_gen(generator).numpy_rng.standard_normal(shape), shape, dtype, device, requires_grad)


@export(method=False)
def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False,
            out=None):
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing 1 required positional argument: 'size'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    shape = _shape((size,))
    values = _gen(generator).numpy_rng.integers(low, high, shape, dtype=np.int64)
    return _emit(values, shape, dtype or dt.int64, device, requires_grad)


@export(method=False)
def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    return _emit(_gen(generator).numpy_rng.permutation(n), (n,), dtype or dt.int64, device, requires_grad)


@export(method=False)
def rand_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad, generator=generator)


@export(method=False)
def randn_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad, generator=generator)


@export(method=False)
def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False):
    return randint(low, high, input.shape, dtype=dtype or input.dtype, device=device or input.device)


@export(method=False)
def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False, out=None):
    rng = _gen(generator).numpy_rng
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        m = mean.detach().cpu().numpy() if isinstance(mean, Tensor) else mean
        s = std.detach().cpu().numpy() if isinstance(std, Tensor) else std
        if np.any(np.asarray(s) < 0):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        return _emit(rng.normal(m, s, shape), shape, ref.dtype, ref.device, requires_grad)
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    shape = _shape((size,)) if size is not None else ()
    return _emit(rng.normal(mean, std, shape), shape, _float_dtype(dtype, "normal"), device, requires_grad)


@export(method=False)
def bernoulli(input, p=None, *, generator=None):
    probs = input.detach().cpu().numpy() if p is None else np.full(input.shape, p)
    if np.any((probs < 0) | (probs > 1)):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    draws = _gen(generator).numpy_rng.random(input.shape) < probs
    return _emit(draws, input.shape, input.dtype, input.device, False)


@export(method=False)
def multinomial(input, num_samples, replacement=False, *, generator=None):
    probs = input.detach().cpu().numpy().astype(np.float64)
    rows = probs.reshape(-1, probs.shape[-1])
    rng = _gen(generator).numpy_rng
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    out = np.empty((rows.shape[0], num_samples), np.int64)
    for i, row in enumerate(rows):
        if row.sum() <= 0 or np.any(row < 0):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        out[i] = rng.choice(len(row), size=num_samples, replace=replacement, p=row / row.sum())
    shape = probs.shape[:-1] + (num_samples,)
    return _emit(out, shape, dt.int64, input.device, False)


# ------------------------------------------------------------------ in-place samplers
def _fill_sampled(self, values):
    from .ops.creation import from_host_array
    with _no_grad():
        self.copy_(from_host_array(np.asarray(values).reshape(self.shape), self.dtype, self.device))
    return self


def _no_grad():
    from .autograd.grad_mode import no_grad
    return no_grad()


@method
def uniform_(self, a=0.0, b=1.0, *, generator=None):
    return _fill_sampled(self, _gen(generator).numpy_rng.uniform(a, b, self.shape))


@method
def normal_(self, mean=0.0, std=1.0, *, generator=None):
    return _fill_sampled(self, _gen(generator).numpy_rng.normal(mean, std, self.shape))


@method
def random_(self, from_=0, to=None, *, generator=None):
    if to is None:
        to = 2 ** (8 * self.dtype.itemsize - (1 if self.dtype.is_signed else 0)) \
            if not self.dtype.is_floating_point else 2 ** 24
        if self.dtype is dt.bool:
            to = 2
    return _fill_sampled(self, _gen(generator).numpy_rng.integers(from_, to, self.shape))


@method
def bernoulli_(self, p=0.5, *, generator=None):
    return _fill_sampled(self, _gen(generator).numpy_rng.random(self.shape) < p)


@method
def exponential_(self, lambd=1.0, *, generator=None):
    return _fill_sampled(self, _gen(generator).numpy_rng.exponential(1.0 / lambd, self.shape))
