"""Random numbers: ``Generator``, ``manual_seed`` and the sampling ops.

A CPU Generator owns torch's CPU stream (``random_mt.py``: a Mersenne Twister seeded and read
as torch reads it) and samples on the host, so uniform, integer, permutation and normal draws
equal torch's for the same seed. A 'cuda' Generator is, like torch's, a (seed, offset) pair: each draw
of n elements runs a Triton kernel (kernels/triton/random.py) on Philox-4x32-10 counters
``offset .. offset + n - 1`` under key ``seed`` and advances the offset by n, so device
draws are reproducible under ``manual_seed`` and independent of the launch configuration
(and ``rand(n)`` then ``rand(m)`` equals ``rand(n + m)``). randperm and multinomial sample on
the host for either device (a 'cuda' generator then seeds a host Philox stream from its
(seed, offset) and advances its offset). 'cuda' values follow torch's distributions, not
torch's exact bits (its CUDA sampling code differs).
"""
from __future__ import annotations

import contextlib

import numpy as np

from . import dtypes as dt
from .autograd.function import Function
from .device import as_device
from .ops._registry import export, method
from .ops.creation import with_out
from .ops.elementwise import _torch_name
from .random_mt import TorchCPUStream
from .tensor import Tensor

_DEFAULT_SEED = 67280421310721
_MASK64 = (1 << 64) - 1


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
        self._offset = 0
        if self.device.type == "cpu":
            self._stream = TorchCPUStream(seed)
            self._rng = self._stream.numpy
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) & ((1 << 63) - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        from .ops.creation import tensor
        if self.device.type != "cpu":  # torch's CUDA layout: seed (uint64) then offset (int64)
            packed = np.array([self._seed & _MASK64, self._offset], np.uint64).view(np.uint8)
        else:  # torch's CPU layout (5056 bytes): states move between the two libraries
            packed = self._stream.state_bytes()
        return tensor(packed, dtype=dt.uint8)

    def set_state(self, new_state):
        if not isinstance(new_state, Tensor) or new_state.dtype is not dt.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        raw = np.asarray(new_state.cpu().numpy(), dtype=np.uint8)
        if raw.size != self.get_state().numel():
            raise RuntimeError("RNG state is wrong size")
        if self.device.type != "cpu":
            words = raw.view(np.uint64)
            self._seed, self._offset = int(words[0]), int(words[1])
            return self
        self._stream.set_state_bytes(raw.copy())
        self._seed = self._stream.initial_seed
        return self

    def get_offset(self):
        self._require_offset()
        return self._offset

    def set_offset(self, offset):
        self._require_offset()
        self._offset = int(offset)
        return self

    def _require_offset(self):
        if self.device.type == "cpu":
            raise RuntimeError("CPU Generator does not use offset")

    def _advance(self, n):
        """(seed, offset) for a device draw of ``n`` Philox counters; moves the offset past them."""
        offset = self._offset
        self._offset += n
        return self._seed, offset

    def _host_rng(self, n):
        """A numpy Generator for host sampling: the CPU stream itself, or for a 'cuda'
        generator a host Philox stream keyed by its seed, on a counter block of its own."""
        if self.device.type == "cpu":
            return self._rng
        seed, offset = self._advance(n)
        return np.random.Generator(np.random.Philox(key=seed & _MASK64, counter=(offset & _MASK64) << 64))

    @property
    def numpy_rng(self) -> np.random.Generator:
        return self._host_rng(0)


default_generator = Generator()
_cuda_generators = {}


def cuda_default_generator(index):
    """The default generator of device cuda:index (torch.cuda.default_generators[index])."""
    g = _cuda_generators.get(index)
    if g is None:
        from .device import device
        g = _cuda_generators[index] = Generator(device("cuda", index))
    return g


def _cuda_seed_all(seed):
    from . import cuda
    for i in range(cuda.device_count()):
        cuda_default_generator(i).manual_seed(seed)


#: called before every draw when set: ``vmap(randomness='error')`` refuses random ops with it
_draw_guard = None


def _gen(generator, device):
    """The generator a draw on ``device`` uses: ``generator``, or that device's default."""
    if _draw_guard is not None:
        _draw_guard()
    if generator is None:
        return default_generator if device.type == "cpu" else cuda_default_generator(device.index)
    if generator.device.type != device.type:
        raise RuntimeError(f"Expected a '{device.type}' device type for generator but found "
                           f"'{generator.device.type}'")
    return generator


@export(method=False)
def manual_seed(seed):
    """Seed the CPU generator and every CUDA device's default generator, as torch does."""
    default_generator.manual_seed(seed)
    _cuda_seed_all(seed)
    return default_generator


@export(method=False)
def seed():
    s = default_generator.seed()
    _cuda_seed_all(s)
    return s


@export(method=False)
def initial_seed():
    return default_generator.initial_seed()


@export(method=False)
def get_rng_state():
    return default_generator.get_state()


@export(method=False)
def set_rng_state(new_state):
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type=None):
    """``torch.random.fork_rng``: restore the CPU and CUDA generators' states on exit."""
    if not enabled:
        yield
        return
    from . import cuda
    indices = list(range(cuda.device_count())) if devices is None else [cuda._index(d) for d in devices]
    saved = [(g, g.get_state()) for g in [default_generator] + [cuda_default_generator(i) for i in indices]]
    try:
        yield
    finally:
        for g, state in saved:
            g.set_state(state)


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


# ------------------------------------------------------------------ sampling into a tensor
#: Mantissa digits: uniform samples are k * 2**-digits, exact and below 1 in the dtype.
_DIGITS = {dt.float64: 53, dt.float32: 24, dt.float16: 11, dt.bfloat16: 8}


#: CPU samplers, (torch's stream, n, dtype, a, b, contiguous) -> values: torch's draws
#: (random_mt.py), the parameters a and b as in the 'cuda' kernels (kernels/triton/random.py)
_TORCH_CPU = {
    "uniform": lambda stream, n, dtype, a, b, contiguous: stream.uniform(n, a, b, _DIGITS[dtype]),
    "normal": lambda stream, n, dtype, a, b, contiguous: stream.normal(n, _DIGITS[dtype], a, b, contiguous),
    "integer": lambda stream, n, dtype, a, b, contiguous: stream.integers(n, a, b),
    "bernoulli": lambda stream, n, dtype, a, b, contiguous: stream.bernoulli(n, a),
    "exponential": lambda stream, n, dtype, a, b, contiguous: stream.exponential(n, a),
}


def _sample(out, dist, generator, a=0.0, b=0.0):
    """Fill ``out`` with samples of ``dist`` (see kernels/triton/random.py for the parameters
    a and b): in a kernel on 'cuda', on the host on the CPU."""
    gen = _gen(generator, out.device)
    if out.numel() == 0:
        return out
    from .ops._common import backend
    if out.device.type == "cuda":
        backend(out).sample(out, dist, *gen._advance(out.numel()), a, b)
    else:
        values = _TORCH_CPU[dist](gen._stream, out.numel(), out.dtype, a, b, out.is_contiguous())
        backend(out).write(out, values.reshape(out.shape))
    return out


def _new(shape, dtype, device, requires_grad, dist, generator, a=0.0, b=0.0):
    from .ops.creation import new_empty
    t = _sample(new_empty(shape, dtype, as_device(device)), dist, generator, a, b)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _in_place(self, dist, generator, a=0.0, b=0.0):
    from .ops.elementwise import check_inplace
    check_inplace(self)
    _sample(self, dist, generator, a, b)
    self._bump_version()
    return self


def _shape(size, name):
    from .ops.creation import _shape_arg
    return _shape_arg(size, name)


# ------------------------------------------------------------------ factories
@export(method=False)
@with_out(factory=True)
def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, layout=None):
    dtype = _float_dtype(dtype, "check_uniform_bounds")
    return _new(_shape(size, "rand"), dtype, device, requires_grad, "uniform", generator, 0.0, 1.0)


@export(method=False)
@with_out(factory=True)
def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, layout=None):
    dtype = _float_dtype(dtype, "normal_kernel_cpu")
    return _new(_shape(size, "randn"), dtype, device, requires_grad, "normal", generator, 0.0, 1.0)


@export(method=False)
@with_out(factory=True)
def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    if high is None or (size is None and isinstance(high, (tuple, list))):
        low, high, size = 0, low, high if size is None else size
    if size is None:
        raise TypeError("randint() missing 1 required positional argument: 'size'")
    dtype = dtype or dt.int64
    low, high = int(low), int(high)
    _check_random_range(low, high, dtype)
    return _new(_shape((size,), "randint"), dtype, device, requires_grad, "integer", generator, low,
                high - low)


def _check_random_range(low, high, dtype):
    """torch's checks for sampling integers in [low, high) into ``dtype``."""
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if dtype.is_floating_point:
        return
    lo, hi = _integer_bounds(dtype)
    name = dtype.name if dtype is not dt.bool else "bool"
    if low < lo or low > hi:
        raise RuntimeError(f"from is out of bounds for {name}")
    if high - 1 > hi or high - 1 < lo:
        raise RuntimeError(f"to - 1 is out of bounds for {name}")


def _integer_bounds(dtype):
    """(min, max) of the integers ``random_`` draws for ``dtype`` (floats: exact integers)."""
    if dtype is dt.bool:
        return 0, 1
    if dtype.is_floating_point:
        return -(1 << _DIGITS[dtype]), 1 << _DIGITS[dtype]
    info = np.iinfo(dtype.storage_np)
    return int(info.min), int(info.max)


@export(method=False)
@with_out(factory=True)
def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """On the host for either device (a permutation is a sort, not a per-element draw)."""
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    device = as_device(device)
    gen = _gen(generator, device)
    perm = gen._stream.permutation(n) if gen.device.type == "cpu" else gen._host_rng(n).permutation(n)
    return _emit(perm, (n,), dtype or dt.int64, device, requires_grad)


def _like_device(input, device):
    return device if device is not None else input.device


@export(method=False)
def rand_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    return rand(input.shape, dtype=dtype or input.dtype, device=_like_device(input, device),
                requires_grad=requires_grad, generator=generator)


@export(method=False)
def randn_like(input, *, dtype=None, device=None, requires_grad=False, generator=None):
    return randn(input.shape, dtype=dtype or input.dtype, device=_like_device(input, device),
                 requires_grad=requires_grad, generator=generator)


@export(method=False)
def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False, generator=None):
    return randint(low, high, input.shape, dtype=dtype or input.dtype, device=_like_device(input, device),
                   requires_grad=requires_grad, generator=generator)


def _any(mask):
    return bool(mask.any()) if isinstance(mask, Tensor) else bool(np.any(mask))


@export(method=False)
@with_out(factory=True)
def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        if _any(std < 0):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        from .ops._common import broadcast_shapes
        shape = broadcast_shapes(*(tuple(x.shape) for x in (mean, std) if isinstance(x, Tensor)))
        from .autograd.grad_mode import no_grad
        with no_grad():
            z = _new(shape, ref.dtype, ref.device, False, "normal", generator, 0.0, 1.0)
            return z * std + mean
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    shape = _shape((size,), "normal") if size is not None else ()
    return _new(shape, _float_dtype(dtype, "normal"), device, requires_grad, "normal", generator, mean, std)


def _check_probability(p, name):
    if not 0 <= p <= 1:
        raise RuntimeError(f"{name} expects p to be in [0, 1], but got p={p}")


def _bernoulli_tensor(out, probs, generator):
    """out = (u < probs) for a probability tensor: uniform draws, then one comparison."""
    if _any((probs < 0) | (probs > 1)):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    from .autograd.grad_mode import no_grad
    with no_grad():  # torch draws each uniform in the probabilities' type (float64: 53 bits)
        u_dtype = dt.float64 if probs.dtype is dt.float64 else dt.float32
        u = _new(out.shape, u_dtype, out.device, False, "uniform", generator, 0.0, 1.0)
        out.copy_(u < probs)
    return out


@export
def bernoulli(input, p=None, *, generator=None):
    from .ops.creation import empty_like
    out = empty_like(input, requires_grad=False)
    if p is None:
        return _bernoulli_tensor(out, input.detach(), generator)
    _check_probability(p, "bernoulli_")
    return _sample(out, "bernoulli", generator, float(p))


@export
def multinomial(input, num_samples, replacement=False, *, generator=None):
    """On the host for either device."""
    from .ops.conversion import to_host_array
    probs = to_host_array(input.detach()).astype(np.float64)
    rows = probs.reshape(-1, probs.shape[-1])
    rng = _gen(generator, input.device)._host_rng(rows.shape[0] * num_samples)
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
@method
def uniform_(self, a=0.0, b=1.0, *, generator=None):
    _float_dtype(self.dtype, "check_uniform_bounds")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    return _in_place(self, "uniform", generator, float(a), float(b))


@method
def normal_(self, mean=0.0, std=1.0, *, generator=None):
    _float_dtype(self.dtype, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _in_place(self, "normal", generator, float(mean), float(std))


_TO_DEFAULT = object()


@method
def random_(self, from_=None, to=_TO_DEFAULT, *, generator=None):
    """torch's overloads: ``random_()`` -> [0, max], ``random_(to)`` -> [0, to),
    ``random_(from, to)`` -> [from, to), ``random_(from, None)`` -> [from, max] (max: the
    dtype's largest value; 2**digits for floats, whose integers are exact up to there)."""
    if to is _TO_DEFAULT:
        from_, to = 0, from_
    lo, hi = _integer_bounds(self.dtype)
    if to is None:
        if not lo <= from_ <= hi:
            raise RuntimeError(f"from is out of bounds for {self.dtype.name}")
        return _in_place(self, "integer", generator, from_, hi - from_ + 1)
    _check_random_range(from_, to, self.dtype)
    return _in_place(self, "integer", generator, from_, to - from_)


@method
def bernoulli_(self, p=0.5, *, generator=None):
    if isinstance(p, Tensor):
        from .ops.elementwise import check_inplace
        check_inplace(self)
        return _bernoulli_tensor(self, p.detach(), generator)
    _check_probability(p, "bernoulli_")
    return _in_place(self, "bernoulli", generator, float(p))


@method
def exponential_(self, lambd=1.0, *, generator=None):
    if not self.dtype.is_floating_point:
        raise RuntimeError("Exponential distribution is a continuous probability distribution. dtype must be "
                           f"a floating point but you specified {_torch_name(self.dtype)}")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _in_place(self, "exponential", generator, float(lambd))


@method
def geometric_(self, p, *, generator=None):
    """Trials up to and including the first success, ``ceil(log(u) / log(1 - p))``, u uniform
    in (0, 1] (float64 draws, so float and integer tensors alike)."""
    if self.dtype is dt.bool:
        raise NotImplementedError("\"geometric_cpu\" not implemented for 'Bool'")
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    u = _unit_draws(self, generator)
    return _write_draws(self, (u.log() / np.log1p(-p)).ceil().clamp(min=1))


@method
def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    _float_dtype(self.dtype, "log_normal_cpu")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    z = _new(tuple(self.shape), dt.float64, self.device, False, "normal", generator, float(mean), float(std))
    return _write_draws(self, z.exp())


@method
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    if not self.dtype.is_floating_point:
        raise RuntimeError("Cauchy distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {_torch_name(self.dtype)}")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    u = _unit_draws(self, generator)
    return _write_draws(self, (np.pi * (u - 0.5)).tan() * sigma + median)


def _unit_draws(like, generator):
    """Float64 uniforms in (0, 1] of ``like``'s shape on its device (1 - u of [0, 1) draws)."""
    u = _new(tuple(like.shape), dt.float64, like.device, False, "uniform", generator, 0.0, 1.0)
    return 1 - u


def _write_draws(self, values):
    """Copy host-computed draws into ``self`` in place (a version bump, no autograd history)."""
    from .autograd.grad_mode import no_grad
    from .ops.elementwise import check_inplace
    check_inplace(self)
    with no_grad():
        self.copy_(values)
    return self


class _Poisson(Function):
    """Poisson draws; like torch, the gradient w.r.t. the rates is zero (PoissonBackward0)."""

    node_name = "PoissonBackward0"

    @staticmethod
    def forward(ctx, rates, generator):
        from .distributions._sampling import sample_poisson
        return sample_poisson(rates, generator)

    @staticmethod
    def backward(ctx, grad):
        from .ops.creation import zeros_like
        return zeros_like(grad), None


@export(method=False)
def poisson(input, generator=None):
    """``torch.poisson``: a Poisson draw per rate (methods in distributions/_sampling.py)."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{_torch_name(input.dtype)}'")
    if input.numel() and not bool((input >= 0).all()):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return _Poisson.apply(input, generator)


# ------------------------------------------------------------------ dropout
class _NativeDropout(Function):
    """(input * keep * scale, keep): on 'cuda' the mask is drawn in the kernel that applies it;
    the bool mask is kept for the backward, grad * keep * scale."""

    node_name = "NativeDropoutBackward0"

    @staticmethod
    def forward(ctx, input, p, train, generator):
        from .ops.creation import empty_like, ones_like
        if not train:
            out, keep, scale = input.clone(), ones_like(input, dtype=dt.bool), 1.0
        elif input.device.type == "cuda":
            from .ops._common import backend
            gen = _gen(generator, input.device)
            out, keep = backend(input).dropout(input, p, *gen._advance(input.numel()))
            scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
        else:
            keep = bernoulli(empty_like(input, dtype=dt.bool), 1.0 - p, generator=generator)
            scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
            out = input * keep * scale
        ctx.keep, ctx.scale = keep, scale
        return out, keep

    @staticmethod
    def backward(ctx, grad, _):
        return grad * ctx.keep * ctx.scale, None, None, None


@export(method=False)
def native_dropout(input, p, train):
    """``torch.native_dropout``: (output, bool mask), the fused dropout F.dropout uses on 'cuda'."""
    return _NativeDropout.apply(input, float(p), train is None or bool(train), None)
