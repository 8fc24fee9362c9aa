"""Fused multi-tensor optimizer-step kernels (CPU, Numba).

One launch updates every parameter of a parameter group (of one dtype): the launch gets a
*table of addresses* rather than the tensors themselves, like CUDA's ``multi_tensor_apply``:

- ``addrs``   int64 ``(5, n_tensors)``: the data address of each tensor's param (row 0),
  grad (row 1) and up to three state tensors (rows 2-4); rows an optimizer does not use
  repeat the param address and are never touched.
- ``sizes``   int64 ``(n_tensors,)``: element counts (every tensor is contiguous here).
- ``work``    int64 ``(n_items, 3)``: (tensor, start, stop) blocks; the host splits this
  list across its threads, so big tensors are shared out and small ones batched.
- ``hp``      the group's hyper-parameters, already cast to the parameter dtype, so the
  arithmetic is the very float32 (or float64) arithmetic of the unfused tensor-op path.
- ``pt``      ``(n_tensors, k)`` per-tensor scalars in the parameter dtype (bias
  corrections, Adagrad's decayed lr, SGD's "first step" flag, NAdam's momentum-cache step
  sizes, RAdam's rectification and whether it applies yet, ASGD's step size and averaging
  weight): they depend on each
  tensor's own step count, so changing lr or stepping never recompiles anything.
- ``flags``   int64 switches (maximize, amsgrad, nesterov ...), read once per block.

Each element's param, grad and state values are read once and written once. The update
functions mirror the tensor-op reference path op by op (same formulas, same rounding
points: a state is written and read back where the reference stores a tensor), so the
fused result is bit-identical to it. Compiled per dtype, ``cache=True``, ``nogil=True``.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic

from . import elementwise as _elementwise
from ._specialize import specialize

inline = numba.njit(inline="always", cache=True)

#: rows of the address table
SLOTS = 5


@intrinsic
def _address_as_pointer(typingctx, address, like):
    """An int64 address as a typed data pointer (the dtype taken from the ``like`` array)."""
    sig = types.CPointer(like.dtype)(address, like)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(signature.return_type))
    return sig, codegen


@inline
def _coupled_grad(g, p, maximize, has_wd, weight_decay):
    """The gradient the update sees: negated to maximize, plus L2 weight decay (torch's order)."""
    if maximize:
        g = -g
    if has_wd:
        g = g + weight_decay * p
    return g


_clamp = inline(_elementwise.clamp)  # the reference ``clamp_``'s NaN rules


@inline
def _lerp(a, b, w):
    # the reference ``lerp`` kernel's formula (torch's): exact at both ends
    return a + w * (b - a) if abs(w) < 0.5 else b - (b - a) * (1 - w)


@inline
def _maximum(a, b):
    if a != a:
        return a
    if b != b:
        return b
    return a if a > b else b


@inline
def _adam_grad(g, p, maximize, has_wd, decoupled, weight_decay, decay):
    """The Adam family's (gradient, param): negated to maximize, then weight decay, L2 into
    the gradient or decoupled (AdamW's: ``decay`` = 1 - lr * weight_decay) into the param."""
    if maximize:
        g = -g
    if has_wd:
        if decoupled:
            p = p * decay
        else:
            g = g + weight_decay * p
    return g, p


@inline
def _adam_moments(exp_avg, exp_avg_sq, j, g, one_minus_beta1, beta2, one_minus_beta2):
    """Element ``j`` of Adam's running averages of g and g * g, updated; their new values."""
    exp_avg[j] = _lerp(exp_avg[j], g, one_minus_beta1)
    v = exp_avg_sq[j] * beta2
    v = v + one_minus_beta2 * g * g
    exp_avg_sq[j] = v
    return exp_avg[j], v


def _multi_tensor_template(addrs, sizes, work, hp, pt, flags, like):
    for w in range(work.shape[0]):
        i = work[w, 0]
        n = sizes[i]
        lo, hi = work[w, 1], work[w, 2]
        # slices indexed from 0 (no negative-index wrap-around), so the loops vectorise
        p = numba.carray(_address_as_pointer(addrs[0, i], like), n)[lo:hi]
        g = numba.carray(_address_as_pointer(addrs[1, i], like), n)[lo:hi]
        s0 = numba.carray(_address_as_pointer(addrs[2, i], like), n)[lo:hi]
        s1 = numba.carray(_address_as_pointer(addrs[3, i], like), n)[lo:hi]
        s2 = numba.carray(_address_as_pointer(addrs[4, i], like), n)[lo:hi]
        update(p, g, s0, s1, s2, hp, pt[i], flags)  # noqa: F821


# ---------------------------------------------------------------- update rules
# hp / pt / flags layouts are defined next to each optimizer's ``_fused_args``.

def sgd_update(p, g, buf, s1, s2, hp, pt, flags):
    lr_neg, weight_decay, momentum, one_minus_dampening = hp[0], hp[1], hp[2], hp[3]
    maximize, has_wd, has_momentum, nesterov = flags[0], flags[1], flags[2], flags[3]
    first = pt[0] != 0
    for j in range(p.shape[0]):
        gj = _coupled_grad(g[j], p[j], maximize, has_wd, weight_decay)
        if has_momentum:
            if first:
                bj = gj
            else:
                bj = buf[j] * momentum
                bj = bj + one_minus_dampening * gj
            buf[j] = bj
            if nesterov:
                gj = gj + momentum * bj
            else:
                gj = bj
        p[j] = p[j] + lr_neg * gj


def adam_update(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, hp, pt, flags):
    weight_decay, decay, one_minus_beta1, beta2, one_minus_beta2, eps = \
        hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    step_size_neg, bias_correction2_sqrt = pt[0], pt[1]
    maximize, has_wd, decoupled, amsgrad = flags[0], flags[1], flags[2], flags[3]
    for j in range(p.shape[0]):
        gj, pj = _adam_grad(g[j], p[j], maximize, has_wd, decoupled, weight_decay, decay)
        m, v = _adam_moments(exp_avg, exp_avg_sq, j, gj, one_minus_beta1, beta2, one_minus_beta2)
        if amsgrad:
            v = _maximum(max_exp_avg_sq[j], v)
            max_exp_avg_sq[j] = v
        denom = np.sqrt(v) / bias_correction2_sqrt + eps
        p[j] = pj + step_size_neg * m / denom


def adamax_update(p, g, exp_avg, exp_inf, s2, hp, pt, flags):
    weight_decay, one_minus_beta1, beta2, eps = hp[0], hp[2], hp[3], hp[5]
    clr_neg = pt[0]
    maximize, has_wd = flags[0], flags[1]
    for j in range(p.shape[0]):
        gj = _coupled_grad(g[j], p[j], maximize, has_wd, weight_decay)
        exp_avg[j] = _lerp(exp_avg[j], gj, one_minus_beta1)
        u = _maximum(exp_inf[j] * beta2, np.abs(gj) + eps)  # the infinity norm
        exp_inf[j] = u
        p[j] = p[j] + clr_neg * exp_avg[j] / u


def nadam_update(p, g, exp_avg, exp_avg_sq, s2, hp, pt, flags):
    weight_decay, decay, one_minus_beta1, beta2, one_minus_beta2, eps = \
        hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    bias_correction2, grad_coef, avg_coef = pt[0], pt[1], pt[2]
    maximize, has_wd, decoupled = flags[0], flags[1], flags[2]
    for j in range(p.shape[0]):
        gj, pj = _adam_grad(g[j], p[j], maximize, has_wd, decoupled, weight_decay, decay)
        m, v = _adam_moments(exp_avg, exp_avg_sq, j, gj, one_minus_beta1, beta2, one_minus_beta2)
        denom = np.sqrt(v / bias_correction2) + eps
        pj = pj + grad_coef * gj / denom  # the momentum-cached (Nesterov) gradient term
        p[j] = pj + avg_coef * m / denom


def radam_update(p, g, exp_avg, exp_avg_sq, s2, hp, pt, flags):
    weight_decay, decay, one_minus_beta1, beta2, one_minus_beta2, eps, lr = \
        hp[0], hp[1], hp[2], hp[3], hp[4], hp[5], hp[6]
    bias_correction1, bias_correction2_sqrt, rect, rectified = pt[0], pt[1], pt[2], pt[3] != 0
    maximize, has_wd, decoupled = flags[0], flags[1], flags[2]
    for j in range(p.shape[0]):
        gj, pj = _adam_grad(g[j], p[j], maximize, has_wd, decoupled, weight_decay, decay)
        m, v = _adam_moments(exp_avg, exp_avg_sq, j, gj, one_minus_beta1, beta2, one_minus_beta2)
        u = m / bias_correction1
        u = u * lr
        if rectified:  # the variance is tractable (rho_t > 5): adaptive step, rectified
            u = u * (np.reciprocal(np.sqrt(v) + eps) * bias_correction2_sqrt)
            u = u * rect
        p[j] = pj - u


def rmsprop_update(p, g, square_avg, momentum_buffer, grad_avg, hp, pt, flags):
    lr_neg, weight_decay, alpha, one_minus_alpha, eps, momentum = \
        hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    maximize, has_wd, centered, has_momentum = flags[0], flags[1], flags[2], flags[3]
    for j in range(p.shape[0]):
        gj = _coupled_grad(g[j], p[j], maximize, has_wd, weight_decay)
        sq = square_avg[j] * alpha
        sq = sq + one_minus_alpha * gj * gj
        square_avg[j] = sq
        if centered:
            grad_avg[j] = _lerp(grad_avg[j], gj, one_minus_alpha)
            ga = grad_avg[j]
            avg = np.sqrt(sq + -ga * ga)
        else:
            avg = np.sqrt(sq)
        avg = avg + eps
        if has_momentum:
            b = momentum_buffer[j] * momentum
            b = b + gj / avg
            momentum_buffer[j] = b
            p[j] = p[j] + lr_neg * b
        else:
            p[j] = p[j] + lr_neg * gj / avg


def adagrad_update(p, g, state_sum, s1, s2, hp, pt, flags):
    weight_decay, eps = hp[0], hp[1]
    clr_neg = pt[0]
    maximize, has_wd = flags[0], flags[1]
    for j in range(p.shape[0]):
        gj = _coupled_grad(g[j], p[j], maximize, has_wd, weight_decay)
        s = state_sum[j] + gj * gj
        state_sum[j] = s
        p[j] = p[j] + clr_neg * gj / (np.sqrt(s) + eps)


def adadelta_update(p, g, square_avg, acc_delta, s2, hp, pt, flags):
    lr_neg, weight_decay, rho, one_minus_rho, eps = hp[0], hp[1], hp[2], hp[3], hp[4]
    maximize, has_wd = flags[0], flags[1]
    for j in range(p.shape[0]):
        gj = _coupled_grad(g[j], p[j], maximize, has_wd, weight_decay)
        sq = square_avg[j] * rho
        sq = sq + one_minus_rho * gj * gj
        square_avg[j] = sq
        std = np.sqrt(sq + eps)
        delta = np.sqrt(acc_delta[j] + eps)
        delta = delta / std
        delta = delta * gj
        acc = acc_delta[j] * rho
        acc_delta[j] = acc + one_minus_rho * delta * delta
        p[j] = p[j] + lr_neg * delta


def asgd_update(p, g, ax, s1, s2, hp, pt, flags):
    weight_decay = hp[0]
    decay, eta_neg, mu, averaging = pt[0], pt[1], pt[2], pt[3] != 0
    maximize, has_wd = flags[0], flags[1]
    for j in range(p.shape[0]):
        gj = _coupled_grad(g[j], p[j], maximize, has_wd, weight_decay)
        pj = p[j] * decay
        pj = pj + eta_neg * gj
        p[j] = pj
        if averaging:  # from step t0 on: ax += mu * (p - ax)
            ax[j] = ax[j] + (pj - ax[j]) * mu
        else:
            ax[j] = pj


def rprop_update(p, g, prev, step_size, s2, hp, pt, flags):
    etaminus, etaplus, step_size_min, step_size_max, one = hp[0], hp[1], hp[2], hp[3], hp[4]
    maximize = flags[0]
    for j in range(p.shape[0]):
        gj = -g[j] if maximize else g[j]
        direction = gj * prev[j]  # NaN (sign 0 in torch) counts as zero
        factor = etaplus if direction > 0 else (etaminus if direction < 0 else one)
        s = _clamp(step_size[j] * factor, step_size_min, step_size_max)
        step_size[j] = s
        if factor == etaminus:  # the sign flipped: no move, and the next step sees zero
            gj = one - one  # +0, as torch's masked assignment writes
        prev[j] = gj
        p[j] = p[j] - (s if gj > 0 else (-s if gj < 0 else s * 0))  # p - sign(g) * s


_KERNELS = {}

UPDATES = {"sgd": sgd_update, "adam": adam_update, "rmsprop": rmsprop_update,
           "adagrad": adagrad_update, "adadelta": adadelta_update, "adamax": adamax_update,
           "nadam": nadam_update, "radam": radam_update, "asgd": asgd_update, "rprop": rprop_update}


def step_kernel(name: str):
    """The jitted multi-tensor launch for optimizer ``name`` (see the module docstring)."""
    kernel = _KERNELS.get(name)
    if kernel is None:
        # error_model='numpy': IEEE division (no ZeroDivisionError check), so loops vectorise
        kernel = _KERNELS[name] = specialize(_multi_tensor_template, name, {"error_model": "numpy"},
                                             update=inline(UPDATES[name]))
    return kernel


# ---------------------------------------------------------------- GradScaler
def _unscale_template(addrs, sizes, work, inv_scale, found_inf, like):
    """grads *= inv_scale over the address table (row 0); found_inf[0] = 1 if any is inf/nan."""
    found = False
    for w in range(work.shape[0]):
        i = work[w, 0]
        g = numba.carray(_address_as_pointer(addrs[0, i], like), sizes[i])[work[w, 1]:work[w, 2]]
        for j in range(g.shape[0]):
            v = g[j]
            found |= not np.isfinite(v)
            g[j] = v * inv_scale
    if found:
        found_inf[0] = 1.0


def unscale_kernel():
    """The jitted launch of GradScaler's fused non-finite check and unscale."""
    kernel = _KERNELS.get("unscale")
    if kernel is None:
        kernel = _KERNELS["unscale"] = specialize(_unscale_template, "unscale", {"error_model": "numpy"})
    return kernel
