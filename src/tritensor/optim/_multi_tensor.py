"""Host side of the fused optimizer step: one kernel launch per param group and dtype.

Design: parameters stay the user's tensor objects in their own storages (nothing is
re-homed into a flat buffer, so tied weights, views and ``.data`` keep working). Each
step gathers a *table of data addresses* (param, grad, state tensors) and sizes, splits
the elements into fixed-size blocks, and hands the whole table to one launch: Numba on
the CPU (``tritensor.kernels.numba.optim``, the backend's thread pool shares the blocks
out), Triton on 'cuda' (``tritensor.kernels.triton.optim``, one program per block). The
table is built the same way for both (``_launch``); only the ``run`` step differs. A
tensor that is not contiguous (or a grad of another dtype) goes in as a contiguous copy
that is written back afterwards, so the kernels only ever see flat memory. 16-bit params
are updated in float32 and rounded once per value (torch's fused kernels' opmath): the
Triton kernels convert as they load and store; on the CPU, whose Numba kernels take
float32/float64 only, the group's tensors go in as float32 copies rounded back afterwards.

``state['step']`` is a CPU tensor (as in torch without ``capturable``), so the per-tensor
bias corrections are computed on the host without waiting for the GPU; a 'cuda' step
(loaded with ``fused=True``) is read back, which synchronises.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from .. import ops as _ops
from ..backends import cpu
from ..kernels.numba import optim as kernels
from ..tensor import _contiguous_strides

#: elements per work block: big tensors are shared between threads block by block
BLOCK = 1 << 16

#: the dtypes the CPU's Numba kernels read and write
KERNEL_DTYPES = {_dt.float32: np.dtype(np.float32), _dt.float64: np.dtype(np.float64)}
LIKE = {d: np.empty(0, d) for d in KERNEL_DTYPES.values()}
#: param dtype -> the dtype an update computes in (that of hp and pt): 16-bit params are
#: updated in float32 and each value rounded once when stored, as torch's fused kernels do
COMPUTE_DTYPES = {_dt.float32: _dt.float32, _dt.float64: _dt.float64, _dt.float16: _dt.float32,
                  _dt.bfloat16: _dt.float32}
#: devices whose kernels read and write 16-bit tensors themselves; on the others (the CPU)
#: a 16-bit group's tensors go in as float32 copies, rounded back after the launch
CONVERTING_DEVICES = {"cuda"}


def use_fused(group) -> bool:
    """torch's switches: ``fused=None`` and ``foreach=None`` mean our fused kernel.

    ``foreach=True`` is a multi-tensor request too, served by the same launch;
    ``foreach=False`` (or ``fused=False``) selects the single-tensor reference path.
    """
    fused, foreach = group.get("fused"), group.get("foreach")
    if fused:
        return True
    if fused is None:
        return foreach is not False
    return bool(foreach)


def fused_step(opt, group, params, states):
    """Update ``params`` (all with grads) of one group: one launch per (device, dtype)."""
    buckets: dict = {}
    for p, state in zip(params, states):
        buckets.setdefault((p.device, p.dtype), []).append((p, state))
    for (device, dtype), items in buckets.items():
        run = RUNNERS.get(device.type)
        if run is None or not _launch(opt, group, items, dtype, run):
            for p, state in items:
                opt._single_tensor(p, p.grad, state, group)


def advance_step(state) -> float:
    """``state['step'] += 1`` in place (a 0-d tensor, as torch keeps it); the new value."""
    step_t = state["step"]
    if step_t.device.type != "cpu":
        step_t += 1
        return step_t.item()
    flat = cpu.flat_of(step_t)
    value = flat[0] = flat[0] + 1
    step_t._bump_version()
    return float(value)


def scale_scalar(t, factor) -> float:
    """``t *= factor`` in place on a 0-d state tensor (NAdam's ``mu_product``), rounded to its
    dtype as the tensor op rounds; the new value. On the CPU (where torch keeps it) this is
    host arithmetic; on another device (a checkpoint loaded there) it is read back, a sync."""
    if t.device.type != "cpu":
        t.mul_(factor)
        return t.item()
    flat = cpu.flat_of(t)
    value = flat[0] = flat[0] * flat.dtype.type(factor)
    t._bump_version()
    return float(value)


def assign_scalar(t, value) -> None:
    """``t.copy_(torch.as_tensor(value))`` on a 0-d state tensor (ASGD's ``eta`` and ``mu``):
    the Python float is rounded to the default dtype (the tensor ``as_tensor`` makes), then to
    ``t``'s. Host arithmetic for a float32/float64 tensor on the CPU; elsewhere (a checkpoint
    loaded onto another device or a 16-bit param) a small copy."""
    default = _dt.get_default_dtype()
    if t.device.type == "cpu" and t.dtype in KERNEL_DTYPES and default in KERNEL_DTYPES:
        cpu.flat_of(t)[0] = KERNEL_DTYPES[default].type(value)
        t._bump_version()
        return
    t.copy_(_ops.as_tensor(value))


class Table:
    """The address table of one launch, plus the copies to write back afterwards."""

    def __init__(self, n, dtype, rows=kernels.SLOTS, param_dtype=None):
        self.addrs = np.empty((rows, n), np.int64)
        self.sizes = np.empty(n, np.int64)
        self.dtype = dtype  # of the memory the kernel sees
        self.param_dtype = param_dtype or dtype  # of the tensors it updates (staged if not dtype)
        self.staged = []   # (destination tensor, contiguous copy)
        self.keep = []     # read-only copies that must outlive the launch

    def address(self, t, shape, writable, what):
        """The data address of ``t`` (or of a contiguous copy of the table's dtype)."""
        if t._shape == shape and t.dtype is self.dtype and t._stride == _contiguous_strides(shape):
            return t._storage.data_ptr() + t._offset * t.dtype.itemsize  # the common case, checked first
        if t._shape != shape:
            raise RuntimeError(f"{what} has shape {list(t._shape)} but its parameter has shape "
                               f"{list(shape)}")
        if t.dtype is not self.dtype:
            if writable and t.dtype is not self.param_dtype:
                raise RuntimeError(f"{what} has dtype {t.dtype} but its parameter has dtype "
                                   f"{self.param_dtype}")
            converted = t.to(self.dtype)
            converted = converted if converted.is_contiguous() else converted.contiguous()
            (self.staged.append((t, converted)) if writable else self.keep.append(converted))
            return converted.data_ptr()
        if not t.is_contiguous():
            copy = t.contiguous()
            (self.staged.append((t, copy)) if writable else self.keep.append(copy))
            t = copy
        return t.data_ptr()

    def write_back(self):
        """Copy the staged contiguous copies back into their (strided) tensors."""
        for dst, copy in self.staged:
            dst.copy_(copy)


def _launch(opt, group, items, dtype, run) -> bool:
    """One launch over ``items`` [(param, state)]; False if ``dtype`` has no kernel.

    Builds the address table and the scalars, then ``run(name, table, hp, pt, flags,
    device)`` launches the device's kernel."""
    compute = COMPUTE_DTYPES.get(dtype)
    if compute is None:
        return False
    np_dtype = compute.compute_np
    slots = opt._state_slots(group)
    hp_values, flag_values = opt._fused_args(group)
    n = len(items)
    converting = items[0][0].device.type in CONVERTING_DEVICES
    table = Table(n, dtype if converting else compute, param_dtype=dtype)
    address = table.address
    columns = []
    for p, state in items:  # every check first (address raises), so a failed call changes nothing
        shape = p._shape
        column = [0] * kernels.SLOTS  # param, grad, then the optimizer's state tensors
        column[0] = address(p, shape, True, "parameter")
        column[1] = address(p.grad, shape, False, "gradient")
        for k, key in enumerate(slots):
            t = state.get(key)
            if t is not None:
                column[2 + k] = address(t, shape, True, f"state '{key}'")
        columns.append(column)
    rows, bumped = [], []
    for (p, state), column in zip(items, columns):
        rows.append(opt._prepare_fused(group, p, state))  # advances the step, creates missing state
        bumped.append(p)
        for k, key in enumerate(slots):
            t = state.get(key)
            if t is not None:
                if not column[2 + k]:
                    column[2 + k] = address(t, p._shape, True, f"state '{key}'")
                bumped.append(t)
    table.addrs[...] = np.array(columns, np.int64).T  # one conversion, not one per entry
    table.sizes[...] = [p.numel() for p, _ in items]
    hp = np.array(hp_values, np_dtype)
    pt = np.array(rows, np_dtype).reshape(n, -1)
    run(opt._kernel, table, hp, pt, flag_values, items[0][0].device)
    table.write_back()
    for t in bumped:
        t._bump_version()
    return True


def _run_cpu(name, table, hp, pt, flags, device):
    run_launch(kernels.step_kernel(name), table.addrs, table.sizes, hp, pt, np.array(flags, np.int64),
               LIKE[hp.dtype])


def _run_cuda(name, table, hp, pt, flags, device):
    from ..kernels.triton import optim as triton_kernels  # triton is imported only when used
    work = _cached_work_blocks(table.sizes, triton_kernels.chunk())
    triton_kernels.multi_tensor_step(name, table.addrs, work, hp, pt, flags, device, table.dtype)


_WORK = {}


def _cached_work_blocks(sizes, block):
    """``_work_blocks``, kept per (sizes, block): a group's sizes are the same every step."""
    key = (sizes.tobytes(), block)
    work = _WORK.get(key)
    if work is None:
        if len(_WORK) > 256:
            _WORK.clear()
        work = _WORK[key] = _work_blocks(sizes, block)
        work.flags.writeable = False
    return work


#: device type -> run(name, table, hp, pt, flags, device): how a device launches the fused
#: step over a built table (see ``_launch``)
RUNNERS = {"cpu": _run_cpu, "cuda": _run_cuda}


def _work_blocks(sizes, block=None):
    """(tensor, start, stop) rows covering every tensor in blocks of at most ``block``
    (default ``BLOCK``)."""
    block = block or BLOCK
    index = np.arange(sizes.shape[0], dtype=np.int64)
    if sizes.shape[0] == 0 or sizes.max() <= block:
        return np.stack([index, np.zeros_like(sizes), sizes], axis=1)
    counts = (sizes + block - 1) // block
    tensor = np.repeat(index, counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    start = (np.arange(tensor.shape[0], dtype=np.int64) - first) * block
    stop = np.minimum(start + block, sizes[tensor])
    return np.stack([tensor, start, stop], axis=1)


def run_launch(kernel, addrs, sizes, *args):
    """``kernel(addrs, sizes, work, *args)``, the work blocks shared out over the CPU threads."""
    work, chunks = _cpu_plan(sizes)
    if chunks is None:
        kernel(addrs, sizes, work, *args)
        return
    cpu.run_chunks(lambda a, b: kernel(addrs, sizes, work[a:b], *args), chunks)


_CPU_PLANS = {}


def _cpu_plan(sizes):
    """(work blocks, contiguous runs of them with about the same number of elements per CPU
    thread or None for one run), kept per (sizes, threads): a group's sizes are the same
    every step, and working them out with numpy each time cost more than a small step."""
    key = (sizes.tobytes(), cpu.NUM_THREADS)
    plan = _CPU_PLANS.get(key)
    if plan is not None:
        return plan
    work = _work_blocks(sizes)
    work.flags.writeable = False
    total = int(sizes.sum())
    chunks = None
    if total >= cpu.PARALLEL_MIN_ELEMENTS and cpu.NUM_THREADS > 1 and work.shape[0] > 1:
        ends = np.cumsum(work[:, 2] - work[:, 1])
        cuts = np.searchsorted(ends, np.arange(1, cpu.NUM_THREADS) * (total / cpu.NUM_THREADS))
        bounds = [0, *sorted(set(int(c) + 1 for c in cuts)), work.shape[0]]
        chunks = [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]
    if len(_CPU_PLANS) > 256:
        _CPU_PLANS.clear()
    plan = _CPU_PLANS[key] = (work, chunks)
    return plan
