"""Fused multi-tensor optimizer-step kernels (device 'cuda', Triton).

The GPU twin of ``kernels/numba/optim.py``: one launch updates every parameter of a
param group (of one dtype), whatever their number and sizes, like CUDA's
``multi_tensor_apply``. The launch reads a small device table instead of the tensors:

- ``work``  int64 ``(n_items, 3)``: (tensor, start, stop) chunks; one program per chunk,
  so the grid is the number of chunks and big tensors are shared between programs.
- ``addrs`` int64 ``(5, n_tensors)``: data addresses of param (row 0), grad (row 1) and up
  to three state tensors (rows 2-4), turned into typed pointers in the kernel
  (``tl.load(addrs + k).to(tl.pointer_type(DTYPE))``, an ``inttoptr`` on a GPU; the
  interpreter's pointers are host addresses, so the same cast works there).
- ``hp``    the group's hyper-parameters in the parameter dtype, ``pt`` the
  ``(n_tensors, kp)`` per-tensor scalars (bias corrections, Adagrad's decayed lr, SGD's
  first-step flag, NAdam's step sizes, RAdam's rectification and whether it applies yet,
  ASGD's step size and averaging weight). Both are runtime data: a new lr or step count
  never recompiles.
  The option switches (maximize, amsgrad, nesterov ...) are constexprs, so each
  combination compiles once and carries no dead branches.

Memory pattern: a program walks its chunk in ``BLOCK``-wide contiguous slices (coalesced);
full slices go unmasked, so when every address is 16-byte aligned (``ALIGNED``, checked on
the host) they compile to 128-bit vector loads and stores; only a tensor's tail is masked.
Each element's param, grad and state values are loaded once and stored once, and every
update loads all the slots it reads before it stores any: the slots' pointers come from a
table, so the compiler cannot prove they do not alias, and keeps a load that follows a store
behind it (e.g. Adam's second moment would wait for the first moment's update: two memory
round trips per slice instead of one; tests/test_optim_cuda.py checks the order in the PTX).
The update functions follow the Numba ones step for step, but are built from the
'cuda' reference path's own scalar functions (``elementwise.lerp``, ``addcmul``,
``addcdiv`` ..., IEEE ``div_rn``/``sqrt_rn`` for fp32), so each rounding point is the
reference's: under the interpreter the fused step equals ``foreach=False`` bit for bit.
(The two devices' references differ in one place, as torch's do: CUDA's ``addcdiv`` is
``a + v * (b / c)``, the CPU's ``a + v * b / c``.) Every kernel compiles with ``enable_fp_fusion=False``
(``launch.COMPILE_OPTIONS``), the reference's too, so a GPU rounds every ``a * b + c``
exactly as the interpreter does instead of contracting it into an FMA.

The host helpers at the bottom pack the tables into one device buffer (one upload per
launch) and launch through ``launch.launch``. CI runs them in the interpreter, and
tests/test_optim_cuda.py compiles them for sm_90 and checks the PTX for FMAs, IEEE division
and vector accesses; an H200 ran them in sessions 4 and 10 (docs/performance.md).
"""
from __future__ import annotations

import numpy as np
import triton
import triton.language as tl

from ... import dtypes as dt
from ...backends import cuda_memory as _mem
from ...backends.cuda_memory import KernelPointer, allocate, interpreting, upload
from .elementwise import _div, _sqrt, add_alpha, addcdiv, addcmul, cast_to, clamp, lerp, maximum, sign
from .launch import launch

#: elements per program (a chunk of the work list) on a GPU: small enough to fill the GPU
GPU_CHUNK = 1 << 14
#: the interpreter runs each program as a Python iteration: fewer, bigger chunks
INTERPRETER_CHUNK = 1 << 16
#: elements a program touches per loop iteration on a GPU: 8 warps x 4 elements per thread,
#: so each slot is one 128-bit access per thread and every slot's load is issued before the
#: arithmetic starts (with 8 elements per thread ptxas interleaves the later slots' loads with
#: the first ones' arithmetic to stay at 64 registers: sm_90 SASS, Adam)
GPU_BLOCK = 1024
GPU_WARPS = 8


# ---------------------------------------------------------------- helpers
@triton.jit
def _coupled_grad(g, p, MAXIMIZE: tl.constexpr, HAS_WD: tl.constexpr, weight_decay):
    """The gradient the update sees: negated to maximize, plus L2 weight decay (torch's order)."""
    if MAXIMIZE:
        g = -g
    if HAS_WD:
        g = g + weight_decay * p
    return g


@triton.jit
def _ld(ptr, offs, mask, hp):
    """A slice of a slot, in the compute dtype (hp's: float32 for 16-bit params)."""
    return tl.load(ptr + offs, mask=mask).to(hp.dtype.element_ty)


@triton.jit
def _st(ptr, offs, value, mask):
    """Store a slice of a slot, rounded once to the slot's dtype."""
    tl.store(ptr + offs, cast_to(value, ptr.dtype.element_ty), mask=mask)


@triton.jit
def _adam_grad(g, p, hp, MAXIMIZE: tl.constexpr, HAS_WD: tl.constexpr, DECOUPLED: tl.constexpr):
    """The Adam family's (gradient, param): negated to maximize, then weight decay, L2 into the
    gradient or decoupled (AdamW's) into the param; hp = (wd, 1 - lr * wd, ...)."""
    if MAXIMIZE:
        g = -g
    if HAS_WD:
        if DECOUPLED:
            p = p * tl.load(hp + 1)
        else:
            g = g + tl.load(hp) * p
    return g, p


@triton.jit
def _adam_moments(m_ptr, v_ptr, offs, mask, g, hp):
    """Adam's running averages of g and g * g over one slice, both loaded, then updated and
    stored; their new values. hp = (wd, 1 - lr * wd, 1 - beta1, beta2, 1 - beta2, ...)."""
    m = _ld(m_ptr, offs, mask, hp)
    v = _ld(v_ptr, offs, mask, hp)
    m = lerp(m, g, tl.load(hp + 2))
    v = addcmul(v * tl.load(hp + 3), g, g, tl.load(hp + 4))
    _st(m_ptr, offs, m, mask)
    _st(v_ptr, offs, v, mask)
    return m, v


# ---------------------------------------------------------------- update rules
# Arguments: the five slot pointers, offsets and mask of one slice, the hp table, this
# tensor's row of pt, and four constexpr switches. hp / pt / flag layouts are defined next
# to each optimizer's ``_fused_args``.
@triton.jit
def sgd_update(p_ptr, g_ptr, buf_ptr, s1, s2, offs, mask, hp, pt,
               MAXIMIZE: tl.constexpr, HAS_WD: tl.constexpr, MOMENTUM: tl.constexpr,
               NESTEROV: tl.constexpr):
    lr_neg = tl.load(hp)
    p = _ld(p_ptr, offs, mask, hp)
    g = _coupled_grad(_ld(g_ptr, offs, mask, hp), p, MAXIMIZE, HAS_WD, tl.load(hp + 1))
    if MOMENTUM:
        momentum = tl.load(hp + 2)
        if tl.load(pt) != 0:  # first step: the buffer starts as the gradient (and is not read)
            b = g
        else:
            b = _ld(buf_ptr, offs, mask, hp) * momentum
            b = b + tl.load(hp + 3) * g
        _st(buf_ptr, offs, b, mask)
        if NESTEROV:
            g = g + momentum * b
        else:
            g = b
    _st(p_ptr, offs, p + lr_neg * g, mask)


@triton.jit
def adam_update(p_ptr, g_ptr, m_ptr, v_ptr, vmax_ptr, offs, mask, hp, pt,
                MAXIMIZE: tl.constexpr, HAS_WD: tl.constexpr, DECOUPLED: tl.constexpr,
                AMSGRAD: tl.constexpr):
    g, p = _adam_grad(_ld(g_ptr, offs, mask, hp), _ld(p_ptr, offs, mask, hp), hp, MAXIMIZE, HAS_WD,
                      DECOUPLED)
    if AMSGRAD:  # loaded with the other slots, before any store
        v_max = _ld(vmax_ptr, offs, mask, hp)
    m, v = _adam_moments(m_ptr, v_ptr, offs, mask, g, hp)
    if AMSGRAD:  # the step uses the largest second moment so far
        v = maximum(v_max, v)
        _st(vmax_ptr, offs, v, mask)
    denom = _div(_sqrt(v), tl.load(pt + 1)) + tl.load(hp + 5)
    _st(p_ptr, offs, addcdiv(p, m, denom, tl.load(pt)), mask)


@triton.jit
def adamax_update(p_ptr, g_ptr, m_ptr, u_ptr, s2, offs, mask, hp, pt,
                  MAXIMIZE: tl.constexpr, HAS_WD: tl.constexpr, F2: tl.constexpr, F3: tl.constexpr):
    p = _ld(p_ptr, offs, mask, hp)
    g = _coupled_grad(_ld(g_ptr, offs, mask, hp), p, MAXIMIZE, HAS_WD, tl.load(hp))
    m, u = _ld(m_ptr, offs, mask, hp), _ld(u_ptr, offs, mask, hp)
    m = lerp(m, g, tl.load(hp + 2))
    u = maximum(u * tl.load(hp + 3), tl.abs(g) + tl.load(hp + 5))  # infinity norm: max(beta2 u, |g| + eps)
    _st(m_ptr, offs, m, mask)
    _st(u_ptr, offs, u, mask)
    _st(p_ptr, offs, addcdiv(p, m, u, tl.load(pt)), mask)


@triton.jit
def nadam_update(p_ptr, g_ptr, m_ptr, v_ptr, s2, offs, mask, hp, pt,
                 MAXIMIZE: tl.constexpr, HAS_WD: tl.constexpr, DECOUPLED: tl.constexpr, F3: tl.constexpr):
    g, p = _adam_grad(_ld(g_ptr, offs, mask, hp), _ld(p_ptr, offs, mask, hp), hp, MAXIMIZE, HAS_WD,
                      DECOUPLED)
    m, v = _adam_moments(m_ptr, v_ptr, offs, mask, g, hp)
    denom = _sqrt(_div(v, tl.load(pt))) + tl.load(hp + 5)
    p = addcdiv(p, g, denom, tl.load(pt + 1))  # the momentum-cached (Nesterov) gradient term
    _st(p_ptr, offs, addcdiv(p, m, denom, tl.load(pt + 2)), mask)


@triton.jit
def radam_update(p_ptr, g_ptr, m_ptr, v_ptr, s2, offs, mask, hp, pt,
                 MAXIMIZE: tl.constexpr, HAS_WD: tl.constexpr, DECOUPLED: tl.constexpr, F3: tl.constexpr):
    g, p = _adam_grad(_ld(g_ptr, offs, mask, hp), _ld(p_ptr, offs, mask, hp), hp, MAXIMIZE, HAS_WD,
                      DECOUPLED)
    m, v = _adam_moments(m_ptr, v_ptr, offs, mask, g, hp)
    u = _div(m, tl.load(pt)) * tl.load(hp + 6)
    if tl.load(pt + 3) != 0:  # the variance is tractable (rho_t > 5): adaptive step, rectified
        u = u * (_div(1.0, _sqrt(v) + tl.load(hp + 5)) * tl.load(pt + 1))
        u = u * tl.load(pt + 2)
    _st(p_ptr, offs, p - u, mask)


@triton.jit
def rmsprop_update(p_ptr, g_ptr, sq_ptr, buf_ptr, ga_ptr, offs, mask, hp, pt,
                   MAXIMIZE: tl.constexpr, HAS_WD: tl.constexpr, CENTERED: tl.constexpr,
                   MOMENTUM: tl.constexpr):
    lr_neg, one_minus_alpha, eps = tl.load(hp), tl.load(hp + 3), tl.load(hp + 4)
    p = _ld(p_ptr, offs, mask, hp)
    g = _coupled_grad(_ld(g_ptr, offs, mask, hp), p, MAXIMIZE, HAS_WD, tl.load(hp + 1))
    sq = _ld(sq_ptr, offs, mask, hp)
    if CENTERED:
        ga = _ld(ga_ptr, offs, mask, hp)
    if MOMENTUM:
        b = _ld(buf_ptr, offs, mask, hp)
    sq = addcmul(sq * tl.load(hp + 2), g, g, one_minus_alpha)
    _st(sq_ptr, offs, sq, mask)
    if CENTERED:
        ga = lerp(ga, g, one_minus_alpha)
        _st(ga_ptr, offs, ga, mask)
        avg = _sqrt(addcmul(sq, ga, ga, -1.0))
    else:
        avg = _sqrt(sq)
    avg = avg + eps
    if MOMENTUM:
        b = b * tl.load(hp + 5) + _div(g, avg)
        _st(buf_ptr, offs, b, mask)
        p = p + lr_neg * b
    else:
        p = addcdiv(p, g, avg, lr_neg)
    _st(p_ptr, offs, p, mask)


@triton.jit
def adagrad_update(p_ptr, g_ptr, sum_ptr, s1, s2, offs, mask, hp, pt,
                   MAXIMIZE: tl.constexpr, HAS_WD: tl.constexpr, F2: tl.constexpr, F3: tl.constexpr):
    p = _ld(p_ptr, offs, mask, hp)
    g = _coupled_grad(_ld(g_ptr, offs, mask, hp), p, MAXIMIZE, HAS_WD, tl.load(hp))
    s = addcmul(_ld(sum_ptr, offs, mask, hp), g, g, 1.0)
    _st(sum_ptr, offs, s, mask)
    _st(p_ptr, offs, addcdiv(p, g, _sqrt(s) + tl.load(hp + 1), tl.load(pt)), mask)


@triton.jit
def adadelta_update(p_ptr, g_ptr, sq_ptr, acc_ptr, s2, offs, mask, hp, pt,
                    MAXIMIZE: tl.constexpr, HAS_WD: tl.constexpr, F2: tl.constexpr, F3: tl.constexpr):
    rho, one_minus_rho, eps = tl.load(hp + 2), tl.load(hp + 3), tl.load(hp + 4)
    p = _ld(p_ptr, offs, mask, hp)
    g = _coupled_grad(_ld(g_ptr, offs, mask, hp), p, MAXIMIZE, HAS_WD, tl.load(hp + 1))
    sq, acc = _ld(sq_ptr, offs, mask, hp), _ld(acc_ptr, offs, mask, hp)
    sq = addcmul(sq * rho, g, g, one_minus_rho)
    _st(sq_ptr, offs, sq, mask)
    delta = _div(_sqrt(acc + eps), _sqrt(sq + eps))
    delta = delta * g
    acc = acc * rho
    _st(acc_ptr, offs, addcmul(acc, delta, delta, one_minus_rho), mask)
    _st(p_ptr, offs, p + tl.load(hp) * delta, mask)


@triton.jit
def asgd_update(p_ptr, g_ptr, ax_ptr, s1, s2, offs, mask, hp, pt,
                MAXIMIZE: tl.constexpr, HAS_WD: tl.constexpr, F2: tl.constexpr, F3: tl.constexpr):
    p = _ld(p_ptr, offs, mask, hp)
    g = _coupled_grad(_ld(g_ptr, offs, mask, hp), p, MAXIMIZE, HAS_WD, tl.load(hp))
    ax = _ld(ax_ptr, offs, mask, hp)  # read before t0 too (then ignored)
    p = add_alpha(p * tl.load(pt), g, tl.load(pt + 1))  # decay, then the gradient step
    _st(p_ptr, offs, p, mask)
    if tl.load(pt + 3) != 0:  # from step t0 on: ax += mu * (p - ax)
        _st(ax_ptr, offs, ax + (p - ax) * tl.load(pt + 2), mask)
    else:
        _st(ax_ptr, offs, p, mask)


@triton.jit
def rprop_update(p_ptr, g_ptr, prev_ptr, size_ptr, s2, offs, mask, hp, pt,
                 MAXIMIZE: tl.constexpr, F1: tl.constexpr, F2: tl.constexpr, F3: tl.constexpr):
    etaminus, etaplus, one = tl.load(hp), tl.load(hp + 1), tl.load(hp + 4)
    p, g = _ld(p_ptr, offs, mask, hp), _ld(g_ptr, offs, mask, hp)
    prev, size = _ld(prev_ptr, offs, mask, hp), _ld(size_ptr, offs, mask, hp)
    if MAXIMIZE:
        g = -g
    direction = g * prev  # NaN (sign 0 in torch) counts as zero
    factor = tl.where(direction > 0, etaplus, tl.where(direction < 0, etaminus, one))
    size = clamp(size * factor, tl.load(hp + 2), tl.load(hp + 3))
    _st(size_ptr, offs, size, mask)
    g = tl.where(factor == etaminus, one - one, g)  # the sign flipped: no move, next step sees +0
    _st(prev_ptr, offs, g, mask)
    _st(p_ptr, offs, addcmul(p, sign(g), size, -1.0), mask)


UPDATES = {"sgd": sgd_update, "adam": adam_update, "rmsprop": rmsprop_update,
           "adagrad": adagrad_update, "adadelta": adadelta_update, "adamax": adamax_update,
           "nadam": nadam_update, "radam": radam_update, "asgd": asgd_update, "rprop": rprop_update}


# ---------------------------------------------------------------- kernels
@triton.jit
def _work_item(work):
    """(tensor, start, stop) of this program's chunk; chunk starts are multiples of 16."""
    w = tl.program_id(0).to(tl.int64)
    return tl.load(work + 3 * w), tl.multiple_of(tl.load(work + 3 * w + 1), 16), tl.load(work + 3 * w + 2)


@triton.jit
def _slot(addrs, row, n_tensors, i, DTYPE: tl.constexpr, ALIGNED: tl.constexpr):
    """Row ``row`` of tensor ``i``'s addresses as a typed pointer (16-byte aligned if
    ``ALIGNED``, which lets full slices use vector loads)."""
    ptr = tl.load(addrs + row * n_tensors + i).to(tl.pointer_type(DTYPE))
    if ALIGNED:
        ptr = tl.multiple_of(ptr, 16)
    return ptr


@triton.jit
def step_kernel(work, addrs, hp, pt, n_tensors, kp, UPDATE: tl.constexpr,
                F0: tl.constexpr, F1: tl.constexpr, F2: tl.constexpr, F3: tl.constexpr,
                DTYPE: tl.constexpr, ALIGNED: tl.constexpr, BLOCK: tl.constexpr):
    """``DTYPE``: the tensors' dtype; the update computes in hp's (the same, or float32 for
    16-bit tensors, each value rounded once when stored, as torch's fused kernels do)."""
    i, lo, hi = _work_item(work)
    p = _slot(addrs, 0, n_tensors, i, DTYPE, ALIGNED)
    g = _slot(addrs, 1, n_tensors, i, DTYPE, ALIGNED)
    s0 = _slot(addrs, 2, n_tensors, i, DTYPE, ALIGNED)
    s1 = _slot(addrs, 3, n_tensors, i, DTYPE, ALIGNED)
    s2 = _slot(addrs, 4, n_tensors, i, DTYPE, ALIGNED)
    pt = pt + i * kp
    for start in range(lo, hi, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        if start + BLOCK <= hi:  # a full slice: no mask, so aligned loads vectorise
            UPDATE(p, g, s0, s1, s2, offs, None, hp, pt, F0, F1, F2, F3)
        else:
            UPDATE(p, g, s0, s1, s2, offs, offs < hi, hp, pt, F0, F1, F2, F3)


@triton.jit
def _unscale_slice(g_ptr, offs, mask, other, inv_scale, DTYPE: tl.constexpr):
    """Scale one slice in place; the number of inf/NaN values in it."""
    v = tl.load(g_ptr + offs, mask=mask, other=other)
    if DTYPE != tl.float64:
        v = v.to(tl.float32)  # 16-bit grads are scaled in fp32, as torch's opmath does
    tl.store(g_ptr + offs, cast_to(v * inv_scale, DTYPE), mask=mask)
    return tl.sum(tl.where(v - v != 0, 1, 0))  # inf - inf and NaN - NaN are NaN


@triton.jit
def unscale_kernel(work, addrs, inv_scale, found_inf, DTYPE: tl.constexpr, ALIGNED: tl.constexpr,
                   BLOCK: tl.constexpr):
    """grads *= inv_scale over the table (row 0); found_inf = 1 if any value is inf/NaN.

    Every program that sees one stores the same 1.0, so no atomics are needed."""
    i, lo, hi = _work_item(work)
    g = _slot(addrs, 0, 0, i, DTYPE, ALIGNED)
    bad = 0
    for start in range(lo, hi, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        if start + BLOCK <= hi:
            bad += _unscale_slice(g, offs, None, None, inv_scale, DTYPE)
        else:  # masked-off lanes read 0.0: finite
            bad += _unscale_slice(g, offs, offs < hi, 0.0, inv_scale, DTYPE)
    if bad > 0:
        tl.store(found_inf, 1.0)


# ---------------------------------------------------------------- host side
_TL_NAME = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64"}
_TL_DTYPES = {dt.float16: tl.float16, dt.bfloat16: tl.bfloat16, dt.float32: tl.float32,
              dt.float64: tl.float64}


#: (device, stream, work list and address table bytes, scalar shapes) -> (pointers into the
#: device buffer holding them, whether every address is 16-byte aligned)
_TABLES = {}
_MAX_TABLES = 64


def _device_tables(device, work, addrs, scalars=()):
    """Pointers to the work list, the address table and each of ``scalars`` (float arrays of
    one dtype: hp, pt) in one device buffer, and whether every address is 16-byte aligned.

    A training loop launches with the same tables step after step (the caching allocator
    hands a step's tensors the same few blocks), so the buffer is kept per tables and stream
    and only the scalars are uploaded into it again: one host-to-device copy per launch and
    no allocation. The copy is ordered after the stream's previous launches, which read the
    buffer."""
    stream = (_mem._cuda or _mem._import_cuda())._stream_handle(device.index or 0)
    key = (device, stream, work.tobytes(), addrs.tobytes(), *[a.shape for a in scalars],
           scalars[0].dtype if scalars else None)
    entry = _TABLES.get(key)
    if entry is None:
        if len(_TABLES) >= _MAX_TABLES:
            _TABLES.clear()
        arrays = [work.reshape(-1), addrs.reshape(-1), *[a.reshape(-1) for a in scalars]]
        storage = allocate(sum(a.nbytes for a in arrays), device)
        upload(storage, 0, np.concatenate([a.view(np.uint8) for a in arrays]))
        pointers, offset = [], 0
        for a in arrays:
            name = "int64" if a.dtype == np.int64 else _TL_NAME[a.dtype]
            pointers.append(KernelPointer(storage, offset, name))
            offset += a.nbytes
        entry = _TABLES[key] = (pointers, _aligned(addrs))
    elif scalars:
        first = entry[0][2]
        upload(first.storage, first.offset, np.concatenate([a.reshape(-1) for a in scalars]))
    return entry


def _aligned(addrs) -> bool:
    """Whether every address is 16-byte aligned (fresh allocations are; views may not be)."""
    return not (addrs & 15).any()


def chunk():
    """Elements per program, for the host's work list."""
    return INTERPRETER_CHUNK if interpreting() else GPU_CHUNK


def _block(work):
    """The loop width: ``GPU_BLOCK`` on a GPU; the longest chunk (a power of two) when
    interpreting, so each program is one vectorised numpy pass."""
    if not interpreting():
        return GPU_BLOCK
    longest = int((work[:, 2] - work[:, 1]).max()) if work.shape[0] else 1
    return max(16, 1 << (max(longest, 1) - 1).bit_length())


def multi_tensor_step(name, addrs, work, hp, pt, flags, device, dtype):
    """Launch optimizer ``name``'s update over the address table ``addrs`` (one launch).

    ``flags`` are the optimizer's switches (up to four), compiled in as constexprs; ``dtype``
    is the tensors' (hp and pt hold the compute dtype's values)."""
    if work.shape[0] == 0:
        return
    (work_p, addrs_p, hp_p, pt_p), aligned = _device_tables(device, work, addrs, (hp, pt))
    f = [bool(x) for x in flags] + [False] * (4 - len(flags))
    launch(step_kernel, (work.shape[0],), work_p, addrs_p, hp_p, pt_p, addrs.shape[1], pt.shape[1],
           UPDATES[name], *f, _TL_DTYPES[dtype], aligned, _block(work), num_warps=GPU_WARPS)


def multi_tensor_unscale(addrs, work, inv_scale, found_inf, dtype):
    """GradScaler's fused step: grads of ``dtype`` (row 0 of ``addrs``) *= inv_scale,
    flagging inf/NaN into ``found_inf`` (a float32 device scalar tensor); one launch."""
    if work.shape[0] == 0:
        return
    device = found_inf.device
    (work_p, addrs_p), aligned = _device_tables(device, work, addrs)
    flag = KernelPointer(found_inf._storage, found_inf._offset * 4, "float32")
    launch(unscale_kernel, (work.shape[0],), work_p, addrs_p, float(inv_scale), flag,
           _TL_DTYPES[dtype], aligned, _block(work))
