"""``gradcheck``/``gradgradcheck``: analytical gradients against finite differences.

Both Jacobians are laid out like torch's (one row per input element, one column per
output element) so a mismatch prints the same two matrices torch would.
"""
from __future__ import annotations

import warnings

import numpy as np


class GradcheckError(RuntimeError):
    """Raised by gradcheck when the analytical and numerical gradients disagree."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _is_tensor(x):
    from ..tensor import Tensor
    return isinstance(x, Tensor)


def _float_outputs(outputs):
    return [(j, o) for j, o in enumerate(outputs) if _is_tensor(o) and o.dtype.is_floating_point]


def _numerical_jacobians(func, inputs, diff, eps):
    """{(input index, output index): ndarray [n_in, n_out]} by central differences."""
    jac = {}
    for i in diff:
        x = inputs[i]
        base = x.detach().cpu().numpy().astype(np.float64)
        flat = base.reshape(-1)
        for k in range(flat.size):
            orig = flat[k]
            values = []
            for delta in (eps, -eps):
                flat[k] = orig + delta
                values.append(_evaluate(func, inputs, i, base))
            flat[k] = orig
            for j, (plus, minus) in enumerate(zip(*values)):
                if plus is None:
                    continue
                column = ((plus - minus) / (2 * eps)).reshape(-1)
                jac.setdefault((i, j), np.zeros((flat.size, column.size)))[k] = column
    return jac


def _evaluate(func, inputs, i, values):
    """func's outputs as float64 arrays (None for non-float outputs) with input i replaced."""
    from ..ops.creation import tensor
    x = inputs[i]
    perturbed = tensor(values, dtype=x.dtype, device=x.device).requires_grad_(x.requires_grad)
    args = inputs[:i] + (perturbed,) + inputs[i + 1:]
    return [o.detach().cpu().double().numpy() if _is_tensor(o) and o.dtype.is_floating_point else None
            for o in _as_tuple(func(*args))]


def _analytical_jacobians(outputs, inputs, diff):
    """{(input index, output index): ndarray [n_in, n_out]} from one backward per output element."""
    from . import grad
    from ..ops.creation import zeros_like
    jac = {}
    targets = [inputs[i] for i in diff]
    for j, out in _float_outputs(outputs):
        n_out = out.numel()
        for i in diff:
            jac[(i, j)] = np.zeros((inputs[i].numel(), n_out))
        if not out.requires_grad:
            continue
        for m in range(n_out):
            seed = zeros_like(out)
            seed.view(-1)[m] = 1
            grads = grad(out, targets, seed, retain_graph=True, allow_unused=True)
            for i, g in zip(diff, grads):
                if g is not None:
                    jac[(i, j)][:, m] = g.detach().cpu().double().numpy().reshape(-1)
    return jac


def _fail(message, raise_exception):
    if raise_exception:
        raise GradcheckError(message)
    return False


def _as_printed(matrix, like):
    """A Jacobian as torch prints it: a tensor of the input's dtype, on its device."""
    from ..ops.creation import tensor
    return tensor(matrix, dtype=like.dtype, device=like.device)


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True,
              fast_mode=False, masked=None):
    """True if ``func``'s gradients w.r.t. the inputs that require grad match finite
    differences (``|analytical - numerical| <= atol + rtol * |numerical|``)."""
    if check_forward_ad or check_batched_grad or check_batched_forward_grad:
        raise NotImplementedError("tritensor's gradcheck checks backward mode only")
    inputs = _as_tuple(inputs)
    diff = [i for i, x in enumerate(inputs) if _is_tensor(x) and x.requires_grad]
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of "
                         "the them have requires_grad=True.")
    for i in diff:
        if inputs[i].dtype.name != "float64":
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point or "
                          "complex. This check will likely fail if all the inputs are not of double "
                          "precision floating point or complex.", UserWarning, stacklevel=2)
    outputs = _as_tuple(func(*inputs))
    numerical = _numerical_jacobians(func, inputs, diff, eps)
    analytical = _analytical_jacobians(outputs, inputs, diff)
    like = inputs[diff[0]]
    for j, out in _float_outputs(outputs):
        for i in diff:
            a, n = analytical[(i, j)], numerical[(i, j)]
            if not out.requires_grad and np.any(n != 0):
                return _fail(f"Numerical gradient for function expected to be zero, but got:\n"
                             f"{_as_printed(n, like)}", raise_exception)
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                return _fail(f"Jacobian mismatch for output {j} with respect to input {i},\n"
                             f"numerical:{_as_printed(n, like)}\nanalytical:{_as_printed(a, like)}\n",
                             raise_exception)
    again = _analytical_jacobians(outputs, inputs, diff)
    for key, a in analytical.items():
        if np.abs(again[key] - a).max(initial=0.0) > nondet_tol:
            return _fail("Backward is not reentrant, i.e., running backward with same input and "
                         "grad_output multiple times gives different values, although analytical "
                         "gradient matches numerical gradient. The tolerance for nondeterminism was "
                         f"{nondet_tol}.", raise_exception)
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """gradcheck of the map (inputs, grad_outputs) -> gradients: checks second derivatives."""
    from . import grad
    from ..ops.creation import tensor
    inputs = _as_tuple(inputs)
    outputs = [o for _, o in _float_outputs(_as_tuple(func(*inputs))) if o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype, device=o.device,
                                    requires_grad=True) for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)
    diff = [i for i, x in enumerate(inputs) if _is_tensor(x) and x.requires_grad]

    def first_derivative(*args):
        outs = [o for _, o in _float_outputs(_as_tuple(func(*args[:n]))) if o.requires_grad]
        grads = grad(outs, [args[i] for i in diff], args[n:], create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol)
