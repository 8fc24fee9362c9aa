"""``AdaptiveLogSoftmaxWithLoss`` (Grave et al., "Efficient softmax approximation for GPUs").

The classes are split by ``cutoffs`` into a frequent "shortlist" and clusters of rarer ones.
The head scores the shortlist classes plus one entry per cluster; cluster i's tail projects
the input down by ``div_value ** (i + 1)`` and scores its members. A class's log probability
is its head entry's (shortlist) or its cluster's head entry's plus its log probability within
the cluster, so the forward only evaluates the tails of the clusters the targets fall in.
"""
from __future__ import annotations

from collections import namedtuple

from ... import dtypes as _dt, ops
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


def _check_cutoffs(cutoffs, n_classes):
    if len(cutoffs) == 0:
        raise ValueError("cutoffs should be a sequence of length larger than 0")
    increasing = all(a < b for a, b in zip(cutoffs, cutoffs[1:]))
    if not increasing or cutoffs[0] <= 0 or cutoffs[-1] > n_classes - 1 or any(int(c) != c for c in cutoffs):
        raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an increasing "
                         "order, where each value is between 1 and n_classes-1")


class AdaptiveLogSoftmaxWithLoss(Module):
    """``forward(input, target)`` -> (output: each target's log probability, loss: their
    negative mean); ``log_prob(input)`` the full (N, n_classes) log probabilities and
    ``predict(input)`` their argmax."""

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False, device=None,
                 dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        _check_cutoffs(cutoffs, n_classes)
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        factory = {"device": device, "dtype": dtype}
        self.head = Linear(in_features, self.head_size, bias=head_bias, **factory)
        self.tail = ModuleList()
        for i, (low, high) in enumerate(zip(self.cutoffs, self.cutoffs[1:])):
            hidden = int(in_features // (div_value ** (i + 1)))
            self.tail.append(Sequential(Linear(in_features, hidden, bias=False, **factory),
                                        Linear(hidden, high - low, bias=False, **factory)))

    def reset_parameters(self):
        for layer in self.modules():
            if isinstance(layer, Linear):
                layer.reset_parameters()

    def _check(self, input, target):
        if target.dim() == 1:
            if input.shape[0] != target.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch dimension.")
            if input.dim() != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with size "
                                   f"{tuple(input.shape)}")
        elif target.dim() == 0:
            if input.dim() != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with size "
                                   f"{tuple(input.shape)}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")

    def forward(self, input_, target_):
        self._check(input_, target_)
        batched = target_.dim() > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        if target.numel() and bool(((target < 0) | (target >= self.n_classes)).any()):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                               f"[{int(target.min())}, {int(target.max())}] were found. ")
        # the head entry each row reads: its class (shortlist) or its cluster's entry
        head_entry = target.clone()
        within = ops.zeros(target.shape[0], dtype=input.dtype, device=input.device)
        for i, (low, high) in enumerate(zip(self.cutoffs, self.cutoffs[1:])):  # the clusters
            rows = ((target >= low) & (target < high)).nonzero().reshape(-1)
            if rows.numel() == 0:
                continue
            head_entry = head_entry.index_fill(0, rows, self.shortlist_size + i)
            cluster = self.tail[i](input.index_select(0, rows)).log_softmax(1)
            member = (target.index_select(0, rows) - low).unsqueeze(1)
            within = within.index_copy(0, rows, cluster.gather(1, member).squeeze(1))
        head = self.head(input).log_softmax(1)
        output = within + head.gather(1, head_entry.unsqueeze(1)).reshape(-1)
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _full_log_prob(self, input, head_output):
        """(N, n_classes): the shortlist's head log probabilities, then per cluster its head
        entry's plus its members' within the cluster."""
        head = head_output.log_softmax(1)
        out = ops.empty((head_output.shape[0], self.n_classes), dtype=head.dtype, device=head.device)
        out[:, :self.shortlist_size] = head[:, :self.shortlist_size]
        for i, (low, high) in enumerate(zip(self.cutoffs, self.cutoffs[1:])):
            cluster = self.tail[i](input).log_softmax(1)
            out[:, low:high] = cluster + head[:, self.shortlist_size + i].unsqueeze(1)
        return out

    def log_prob(self, input):
        return self._full_log_prob(input, self.head(input))

    def predict(self, input):
        """The most likely class per row. A cluster member's log probability never exceeds
        its cluster's head entry, so this is the argmax over the full log probabilities."""
        return self.log_prob(input).argmax(1).to(_dt.int64)
