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
from .ops.creation import with_out
from .ops.elementwise import _torch_name
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
        tail = np.array([state["buffer_pos"], state["has_uint32"], state["uinteger"]], np.uint64)
        packed = np.concatenate([state["state"]["counter"], state["state"]["key"], state["buffer"], tail])
        return tensor(packed.view(np.uint8), dtype=dt.uint8)

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


def _host(t):
    """A tensor's values as a host numpy array (any dtype, any device)."""
    from .ops.conversion import to_host_array
    return to_host_array(t.detach())


def _emit(values, shape, dtype, device, requires_grad):
    from .ops.creation import from_host_array
    t = from_host_array(np.asarray(values).reshape(shape), dtype, as_device(device))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float_dtype(dtype, name):
    """``dtype`` (default: the default dtype); NotImplementedError like torch for non-floats."""
    dtype = dtype or dt.get_default_dtype()
    if not dtype.is_floating_point:
        raise NotImplementedError(f"\"{name}\" not implemented for '{_torch_name(dtype)}'")
    return dtype


#: Mantissa digits: uniform samples are k * 2**-digits, exact and below 1 in the dtype.
_DIGITS = {dt.float64: 53, dt.float32: 24, dt.float16: 11, dt.bfloat16: 8}


def _uniform01(rng, shape, dtype):
    digits = _DIGITS[dtype]
    return rng.integers(0, 1 << digits, shape, dtype=np.int64) * (2.0 ** -digits)


def _shape(size, name):
    from .ops.creation import _shape_arg
    return _shape_arg(size, name)


@export(method=False)
@with_out(factory=True)
def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, layout=None):
    shape = _shape(size, "rand")
    dtype = _float_dtype(dtype, "check_uniform_bounds")
    return _emit(_uniform01(_gen(generator).numpy_rng, shape, dtype), shape, dtype, device, requires_grad)


@export(method=False)
@with_out(factory=True)
def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, layout=None):
    shape = _shape(size, "randn")
    dtype = _float_dtype(dtype, "normal_kernel_cpu")
    return _emit(_gen(generator).numpy_rng.standard_normal(shape), shape, dtype, device, requires_grad)


@export(method=False)
@with_out(factory=True)
def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    if high is None or (size is None and isinstance(high, (tuple, list))):
        low, high, size = 0, low, high if size is None else size
    if size is None:
        raise TypeError("randint() missing 1 required positional argument: 'size'")
    dtype = dtype or dt.int64
    _check_random_range(low, high, dtype)
    shape = _shape((size,), "randint")
    values = _gen(generator).numpy_rng.integers(low, high, shape, dtype=np.int64)
    return _emit(values, shape, dtype, device, requires_grad)


def _check_random_range(low, high, dtype):
    """torch's checks for sampling integers in [low, high) into ``dtype``."""
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if dtype.is_floating_point:
        return
    info = np.iinfo(dtype.storage_np) if dtype is not dt.bool else None
    lo, hi = (0, 1) if info is None else (int(info.min), int(info.max))
    name = dtype.name if dtype is not dt.bool else "bool"
    if low < lo or low > hi:
        raise RuntimeError(f"from is out of bounds for {name}")
    if high - 1 > hi or high - 1 < lo:
        raise RuntimeError(f"to - 1 is out of bounds for {name}")


@export(method=False)
@with_out(factory=True)
def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
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
@with_out(factory=True)
def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    rng = _gen(generator).numpy_rng
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        m = _host(mean) if isinstance(mean, Tensor) else mean
        s = _host(std) if isinstance(std, Tensor) else std
        if np.any(np.asarray(s) < 0):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        return _emit(rng.normal(m, s, shape), shape, ref.dtype, ref.device, requires_grad)
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    shape = _shape((size,), "normal") if size is not None else ()
    return _emit(rng.normal(mean, std, shape), shape, _float_dtype(dtype, "normal"), device, requires_grad)


@export(method=False)
def bernoulli(input, p=None, *, generator=None):
    probs = _host(input) if p is None else np.full(input.shape, p)
    if np.any((probs < 0) | (probs > 1)):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    draws = _gen(generator).numpy_rng.random(input.shape) < probs
    return _emit(draws, input.shape, input.dtype, input.device, False)


@export(method=False)
def multinomial(input, num_samples, replacement=False, *, generator=None):
    probs = _host(input).astype(np.float64)
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
    _float_dtype(self.dtype, "check_uniform_bounds")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    u = _uniform01(_gen(generator).numpy_rng, self.shape, self.dtype)
    return _fill_sampled(self, a + (b - a) * u)


@method
def normal_(self, mean=0.0, std=1.0, *, generator=None):
    _float_dtype(self.dtype, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
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
