"""``F.ctc_loss`` / ``torch.ctc_loss``: connectionist temporal classification (Graves et al.).

The targets of a batch become padded "extended" label rows ``l'`` (N, 2 * S + 1): a blank
between and around the labels. The forward variable alpha (N, 2 * S + 1) runs over the T
time steps as one batched update per step, in log space as torch's kernel computes it: each
position sums (log-sum-exp with the max taken out) itself, its left neighbour and, where the
label differs from the one two back, that one, plus the log probability of its label. A
sample's negative log likelihood is read at its own last step (the two final positions). The
backward (torch's ``CtcLossBackward0``) runs beta the other way, sums alpha * beta per class
(a scatter-add of exponentials with each step's max taken out) and gives torch's gradient,
which is the one with respect to the *unnormalised* activations of a log_softmax:
``exp(log_probs) - exp(log(sum alpha beta) + nll - log_probs)``, zero past a sample's length.
"""
from __future__ import annotations

import math

from .. import dtypes as _dt, ops
from ..autograd.function import Function
from ..ops.elementwise import not_implemented_for
from ._losses import _check_reduction

_NEG_INF = float("-inf")


def _log_sum_exp(*terms):
    """Elementwise log(sum(exp(terms))) with the max taken out (0 when all are -inf), torch's
    kernel's formula, so the values match it closely."""
    top = terms[0]
    for t in terms[1:]:
        top = ops.maximum(top, t)
    top = ops.where(top == _NEG_INF, 0, top)
    total = None
    for t in terms:
        e = (t - top).exp()
        total = e if total is None else total + e
    return total.log() + top


def _shifted(values, by, fill=_NEG_INF):
    """``values`` (N, L) moved ``by`` positions along dim 1 (right for positive), ``fill`` entering."""
    n, length = values.shape
    pad = ops.full((n, abs(by)), fill, dtype=values.dtype, device=values.device)
    if by > 0:
        return ops.cat([pad, values[:, :length - by]], 1)
    return ops.cat([values[:, -by:], pad], 1)


class _Alignment:
    """The per-batch quantities both recursions use (all on the log_probs' device)."""

    def __init__(self, log_probs, extended, skip, input_lengths, target_lengths):
        self.log_probs, self.extended, self.skip = log_probs, extended, skip
        self.input_lengths, self.target_lengths = input_lengths, target_lengths
        steps, batch, _ = log_probs.shape
        self.steps, self.batch, self.width = steps, batch, extended.shape[1]
        self.last = 2 * target_lengths  # the final blank's position per sample

    def emissions(self, t):
        """(N, 2S + 1) log probability at step ``t`` of each extended label."""
        return self.log_probs[t].gather(1, self.extended)

    def positions(self):
        return ops.arange(self.width, device=self.log_probs.device).unsqueeze(0)


def _alpha(al):
    """(T, N, 2S + 1) log alpha: at step 0 the first blank and the first label; at t > 0 each
    position from itself, its left neighbour and (``skip``) the one two back."""
    positions = al.positions()
    emit = al.emissions(0)
    start = (positions == 0) | ((positions == 1) & (al.target_lengths.unsqueeze(1) > 0))
    alpha = [ops.where(start, emit, _NEG_INF)]
    for t in range(1, al.steps):
        prev = alpha[-1]
        two_back = ops.where(al.skip, _shifted(prev, 2), _NEG_INF)
        alpha.append(_log_sum_exp(prev, _shifted(prev, 1), two_back) + al.emissions(t))
    return ops.stack(alpha)


def _at_positions(values, index):
    """values (N, L) read at one position per sample (N,); -inf where the index is negative."""
    picked = values.gather(1, index.clamp(min=0).unsqueeze(1)).squeeze(1)
    return ops.where(index >= 0, picked, _NEG_INF)


def _negative_log_likelihood(al, alpha):
    """(N,) -log p(target | input): alpha at each sample's last step, final blank or label. A
    sample of no steps has likelihood 1 for an empty target, else 0."""
    last_step = (al.input_lengths - 1).clamp(min=0)
    final = alpha.gather(0, last_step.view(1, -1, 1).expand(1, al.batch, al.width)).squeeze(0)
    ends = _log_sum_exp(_at_positions(final, al.last), _at_positions(final, al.last - 1))
    no_steps = al.input_lengths == 0
    ends = ops.where(no_steps, ops.where(al.target_lengths == 0, 0.0, _NEG_INF).to(ends.dtype), ends)
    return -ends


def _beta(al):
    """(T, N, 2S + 1) log beta, the backward variable: at each sample's last step the final
    blank and label, before it each position from itself, its right neighbour and the one two
    ahead (where that label differs), -inf after the last step."""
    positions = al.positions()
    final = (positions == al.last.unsqueeze(1)) | ((positions == al.last.unsqueeze(1) - 1)
                                                   & (al.target_lengths.unsqueeze(1) > 0))
    skip_ahead = _shifted(al.skip.to(_dt.uint8), -2, 0).bool()
    lengths = al.input_lengths.unsqueeze(1)
    beta = [None] * al.steps
    nxt = ops.full((al.batch, al.width), _NEG_INF, dtype=al.log_probs.dtype, device=al.log_probs.device)
    for t in range(al.steps - 1, -1, -1):
        emit = al.emissions(t)
        two_ahead = ops.where(skip_ahead, _shifted(nxt, -2), _NEG_INF)
        recursion = _log_sum_exp(nxt, _shifted(nxt, -1), two_ahead) + emit
        at_end = ops.where(final, emit, _NEG_INF)
        nxt = ops.where(lengths - 1 == t, at_end, ops.where(lengths - 1 > t, recursion, _NEG_INF))
        beta[t] = nxt
    return ops.stack(beta)


def _gradient(al, alpha, nll, grad_out, zero_infinity):
    """torch's gradient of the per-sample loss w.r.t. log_probs (see the module's docstring)."""
    log_alpha_beta = alpha + _beta(al)  # (T, N, 2S + 1)
    top = log_alpha_beta.amax(2, keepdim=True)
    top = ops.where(top == _NEG_INF, 0, top)
    index = al.extended.unsqueeze(0).expand(log_alpha_beta.shape)
    sums = ops.zeros(al.log_probs.shape, dtype=top.dtype, device=top.device)
    sums = sums.scatter_add(2, index, (log_alpha_beta - top).exp())
    per_class = sums.log() + top  # log sum of alpha * beta over the positions of each class
    lp = al.log_probs
    grad = lp.exp() - (per_class + nll.view(1, -1, 1) - lp).exp()
    steps = ops.arange(al.steps, device=lp.device).view(-1, 1, 1)
    keep = steps < al.input_lengths.view(1, -1, 1)
    if zero_infinity:
        keep = keep & (nll != math.inf).view(1, -1, 1)
    return ops.where(keep, grad * grad_out.view(1, -1, 1), 0)


class _CtcLoss(Function):
    """Per-sample CTC negative log likelihood (N,), with torch's node and gradient."""

    node_name = "CtcLossBackward0"

    @staticmethod
    def forward(ctx, log_probs, extended, skip, input_lengths, target_lengths, zero_infinity):
        al = _Alignment(log_probs.detach(), extended, skip, input_lengths, target_lengths)
        alpha = _alpha(al)
        nll = _negative_log_likelihood(al, alpha)
        ctx.saved = (al, alpha, nll, zero_infinity)
        return nll

    @staticmethod
    def backward(ctx, grad):
        al, alpha, nll, zero_infinity = ctx.saved
        return _gradient(al, alpha, nll, grad, zero_infinity), None, None, None, None, None


# ---------------------------------------------------------------------------- arguments
def _lengths(name, value, batch, device):
    """Lengths given as an integer tensor or a sequence of ints (not a bare int, as torch), as
    an int64 tensor of ``batch`` elements and their host values (for torch's range checks)."""
    from ..tensor import Tensor
    if isinstance(value, Tensor):
        if value.is_floating_point() or value.dtype is _dt.bool:
            raise RuntimeError(f"{name} must be integral")
        host = [int(v) for v in value.reshape(-1).tolist()]
    elif isinstance(value, (tuple, list)):
        host = [int(v) for v in value]
    else:
        raise TypeError(f"ctc_loss(): {name} must be a tuple of ints or a Tensor, not {type(value).__name__}")
    if len(host) != batch:
        raise RuntimeError(f"{name} must be of size batch_size")
    return ops.tensor(host, dtype=_dt.int64, device=device), host


def _check_dims(log_probs, targets):
    if log_probs.dim() != 3:
        raise RuntimeError(f"Expected 3-dimensional tensor, but got {log_probs.dim()}-dimensional tensor for "
                           "argument #1 'log_probs' (while checking arguments for ctc_loss_allocate_outputs)")
    if targets.dim() not in (1, 2):
        raise RuntimeError(f"Expected 1 to 2 dimensions, but got {targets.dim()}-dimensional tensor for "
                           "argument #2 'targets' (while checking arguments for ctc_loss_allocate_outputs)")


def _check_lengths(name, host, low, high=None):
    for v in host:
        if v < low:
            raise RuntimeError(f"Expected {name} to have value at least {low}, but got value {v} (while "
                               "checking arguments for ctc_loss_allocate_outputs)")
        if high is not None and v > high:
            raise RuntimeError(f"Expected {name} to have value at most {high}, but got value {v} (while "
                               "checking arguments for ctc_loss_allocate_outputs)")


def _padded_targets(targets, target_host, batch):
    """(N, max target length) int64 labels: a padded (N, S) target as it is, a concatenated
    1-D one split by the lengths; with torch's size checks."""
    longest = max(target_host, default=0)
    if targets.dim() == 2:
        if targets.shape[1] < longest:
            raise RuntimeError(f"Expected tensor to have size at least {longest} at dimension 1, but got "
                               f"size {targets.shape[1]} for argument #2 'targets' (while checking arguments "
                               "for ctc_loss_allocate_outputs)")
        return targets[:, :longest].to(_dt.int64)
    total = sum(target_host)
    if targets.shape[0] != total:
        raise RuntimeError(f"Expected tensor to have size {total} at dimension 0, but got size "
                           f"{targets.shape[0]} for argument #2 'targets' (while checking arguments for "
                           "ctc_loss_allocate_outputs)")
    starts = [sum(target_host[:i]) for i in range(batch)]
    index = [[min(s + j, max(total - 1, 0)) for j in range(longest)] for s in starts]
    flat = targets.to(_dt.int64)
    if total == 0:
        return ops.zeros((batch, longest), dtype=_dt.int64, device=targets.device)
    return flat[ops.tensor(index, dtype=_dt.int64, device=targets.device).reshape(-1)].reshape(batch, longest)


def _extended_labels(labels, target_lengths, blank):
    """(N, 2S + 1) labels with blanks around and between, and where a position may be reached
    from two back (a label differing from the previous label)."""
    batch, longest = labels.shape
    extended = ops.full((batch, 2 * longest + 1), blank, dtype=_dt.int64, device=labels.device)
    if longest:
        extended[:, 1::2] = labels
    odd = ops.arange(2 * longest + 1, device=labels.device) % 2 == 1
    skip = odd.unsqueeze(0) & (extended != _shifted(extended, 2, blank)) & (
        ops.arange(2 * longest + 1, device=labels.device) > 1).unsqueeze(0)
    within = ops.arange(2 * longest + 1, device=labels.device).unsqueeze(0) <= 2 * target_lengths.unsqueeze(1)
    return ops.where(within, extended, blank), skip


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """The CTC loss of (T, N, C) ``log_probs`` (or unbatched (T, C)) against ``targets``
    (N, S) padded or 1-D concatenated ((S,) unbatched), with each sample's input and target
    length; 'mean' divides each loss by its target length before averaging, as torch."""
    _check_reduction(reduction)
    unbatched = log_probs.dim() == 2
    if unbatched:
        log_probs, targets = log_probs.unsqueeze(1), targets.unsqueeze(0)
    _check_dims(log_probs, targets)
    steps, batch, classes = log_probs.shape
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    if isinstance(input_lengths, type(log_probs)) != isinstance(target_lengths, type(log_probs)):
        raise TypeError("ctc_loss(): input_lengths and target_lengths must both be Tensors or both tuples "
                        f"of ints, not {type(input_lengths).__name__} and {type(target_lengths).__name__}")
    input_t, input_host = _lengths("input_lengths", input_lengths, batch, log_probs.device)
    target_t, target_host = _lengths("target_lengths", target_lengths, batch, log_probs.device)
    if log_probs.numel() == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    _check_lengths("input_lengths", input_host, 0, steps)
    _check_lengths("target_lengths", target_host, 0)
    if log_probs.dtype not in (_dt.float32, _dt.float64):
        raise not_implemented_for("ctc_loss_cpu", log_probs.dtype)
    labels = _padded_targets(targets, target_host, batch)
    extended, skip = _extended_labels(labels, target_t, blank)
    loss = _CtcLoss.apply(log_probs, extended, skip, input_t, target_t, bool(zero_infinity))
    if zero_infinity:
        loss = ops.where(loss == math.inf, ops.zeros((), dtype=loss.dtype, device=loss.device), loss)
    if reduction == "mean":
        return (loss / target_t.clamp(min=1).to(loss.dtype)).mean()
    if reduction == "sum":
        return loss.sum()
    return loss.squeeze(0) if unbatched else loss


def ctc_loss_form(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0,
                  zero_infinity=False):
    """``torch.ctc_loss``: ATen's integer reduction (1 mean, 2 sum, else none; torch's Python
    binding defaults to 0, none)."""
    return ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
                    {1: "mean", 2: "sum"}.get(reduction, "none"), zero_infinity)
