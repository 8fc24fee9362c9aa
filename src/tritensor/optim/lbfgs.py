"""L-BFGS (torch.optim.LBFGS): quasi-Newton steps from a short history of gradient changes,
optionally with a strong-Wolfe line search. All parameters are one flat vector; the scalars
(step lengths, slopes, curvatures) stay 0-d tensors of the parameters' dtype wherever torch's
do, so float32 runs round as torch's."""

from __future__ import annotations

from .. import ops as _ops
from ..autograd import grad_mode
from .optimizer import Optimizer

__all__ = ["LBFGS"]


def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clamped to
    ``bounds`` (default: the two points); their midpoint when the cubic has no minimum."""
    low, high = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square < 0:
        return (low + high) / 2.0
    d2 = d2_square.sqrt() if hasattr(d2_square, "sqrt") else d2_square**0.5
    if x1 <= x2:
        position = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        position = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(position, low), high)


def _as_float(x):
    return x.item() if hasattr(x, "item") else x


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step length along ``d`` meeting the strong Wolfe conditions: bracket, then zoom with
    cubic interpolation (as torch's port of minFunc). Returns (loss, grad, t, evaluations)."""
    d_norm = d.abs().max()
    f_new, g_new = evaluate(t)
    evaluations, gtd_new = 1, g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g.clone(), gtd
    done, ls_iter = False, 0
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket = [(t_prev, f_prev, g_prev, gtd_prev), (t, f_new, g_new.clone(), gtd_new)]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, done = [(t, f_new, g_new, gtd_new)], True
            break
        if gtd_new >= 0:
            bracket = [(t_prev, f_prev, g_prev, gtd_prev), (t, f_new, g_new.clone(), gtd_new)]
            break
        step_min, step_max = t + 0.01 * (t - t_prev), t * 10
        t_prev, f_prev, g_prev, gtd_prev, t = (
            t,
            f_new,
            g_new.clone(),
            gtd_new,
            _cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(step_min, step_max)),
        )
        f_new, g_new = evaluate(t)
        evaluations, gtd_new, ls_iter = evaluations + 1, g_new.dot(d), ls_iter + 1
    if ls_iter == max_ls:
        bracket = [(0.0, f, g, None), (t, f_new, g_new, None)]

    # zoom: shrink the bracket [low, high] until a point satisfies both conditions
    insufficient_progress = False
    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    while not done and ls_iter < max_ls:
        (a, f_a, _, gtd_a), (b, f_b, _, gtd_b) = bracket
        if abs(b - a) * d_norm < tolerance_change:
            break
        t = _cubic_minimum(a, f_a, gtd_a, b, f_b, gtd_b)
        top, bottom = max(a, b), min(a, b)
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:  # too close to an end: move inside, or note it
            if insufficient_progress or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evaluations, gtd_new, ls_iter = evaluations + 1, g_new.dot(d), ls_iter + 1
        if f_new > f + c1 * t * gtd or f_new >= bracket[low][1]:
            bracket[high] = (t, f_new, g_new.clone(), gtd_new)
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = (t, f_new, g_new.clone(), gtd_new)
    t, f_new, g_new, _ = bracket[low]
    return f_new, g_new, t, evaluations


class LBFGS(Optimizer):
    """torch's L-BFGS: one param group; ``step(closure)`` runs up to ``max_iter`` iterations."""

    def __init__(
        self,
        params,
        lr=1,
        max_iter=20,
        max_eval=None,
        tolerance_grad=1e-7,
        tolerance_change=1e-9,
        history_size=100,
        line_search_fn=None,
    ):
        if isinstance(lr, (int, float)) and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _flat_grad(self):
        return _ops.cat(
            [(p.grad if p.grad is not None else _ops.zeros_like(p)).reshape(-1) for p in self._params]
        )

    def _add_to_params(self, step_size, direction):
        offset = 0
        for p in self._params:
            n = p.numel()
            p.add_(direction[offset : offset + n].view_as(p), alpha=_as_float(step_size))
            offset += n

    def _evaluate_at(self, closure, start, t, d):
        """(loss, flat gradient) at ``start + t * d``; the parameters are put back after."""
        self._add_to_params(t, d)
        with grad_mode.enable_grad():
            loss = float(closure())
        grad = self._flat_grad()
        for p, value in zip(self._params, start):
            p.copy_(value)
        return loss, grad

    def step(self, closure):
        if closure is None:
            raise RuntimeError("LBFGS requires a closure that reevaluates the model and returns the loss")
        with grad_mode.no_grad():
            return self._step(closure)

    def _step(self, closure):
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with grad_mode.enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        evaluations = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if _as_float(flat_grad.abs().max()) <= tolerance_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_steps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag, prev_flat_grad, prev_loss = (
            state.get("H_diag"),
            state.get("prev_flat_grad"),
            state.get("prev_loss"),
        )
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d, old_dirs, old_steps, ro, h_diag = flat_grad.neg(), [], [], [], 1
            else:
                d = self._direction(
                    flat_grad, prev_flat_grad, d, t, old_dirs, old_steps, ro, history_size, state, h_diag
                )
                h_diag = state["H_diag"]
            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.clone()
            else:
                prev_flat_grad.copy_(flat_grad)
            prev_loss = loss
            if state["n_iter"] == 1:  # a first step no longer than 1 in the gradient's L1 norm
                inverse = 1.0 / flat_grad.abs().sum()
                t = (inverse if _as_float(inverse) < 1.0 else 1.0) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:  # not a descent direction
                break

            added = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                start = [p.clone() for p in self._params]
                loss, flat_grad, t, added = _strong_wolfe(
                    lambda step: self._evaluate_at(closure, start, step, d), t, d, loss, flat_grad, gtd
                )
                self._add_to_params(t, d)
                converged = _as_float(flat_grad.abs().max()) <= tolerance_grad
            else:
                self._add_to_params(t, d)
                converged = False
                if n_iter != max_iter:  # the last iteration's loss is the next step's business
                    with grad_mode.enable_grad():
                        loss = float(closure())
                    flat_grad = self._flat_grad()
                    converged = _as_float(flat_grad.abs().max()) <= tolerance_grad
                    added = 1
            evaluations += added
            state["func_evals"] += added
            if (
                n_iter == max_iter
                or evaluations >= max_eval
                or converged
                or _as_float((d * t).abs().max()) <= tolerance_change
                or abs(loss - prev_loss) < tolerance_change
            ):
                break

        state.update(
            {
                "d": d,
                "t": t,
                "old_dirs": old_dirs,
                "old_stps": old_steps,
                "ro": ro,
                "H_diag": h_diag,
                "prev_flat_grad": prev_flat_grad,
                "prev_loss": prev_loss,
            }
        )
        return orig_loss

    @staticmethod
    def _direction(flat_grad, prev_flat_grad, d, t, old_dirs, old_steps, ro, history_size, state, h_diag):
        """The two-loop recursion: ``-H grad`` with ``H`` the inverse Hessian estimate from the
        stored (gradient change, step) pairs; a pair is kept only when its curvature is positive."""
        y = flat_grad - prev_flat_grad
        s = d * t
        ys = y.dot(s)
        if _as_float(ys) > 1e-10:
            if len(old_dirs) == history_size:
                old_dirs.pop(0)
                old_steps.pop(0)
                ro.pop(0)
            old_dirs.append(y)
            old_steps.append(s)
            ro.append(1.0 / ys)
            h_diag = ys / y.dot(y)
        state["H_diag"] = h_diag
        alphas = [None] * len(old_dirs)
        q = flat_grad.neg()
        for i in range(len(old_dirs) - 1, -1, -1):
            alphas[i] = old_steps[i].dot(q) * ro[i]
            q.add_(old_dirs[i], alpha=-_as_float(alphas[i]))
        r = q * h_diag
        for i in range(len(old_dirs)):
            beta = old_dirs[i].dot(r) * ro[i]
            r.add_(old_steps[i], alpha=_as_float(alphas[i] - beta))
        return r
