"""``CTCLoss``: the connectionist temporal classification loss (``nn/_ctc.py``)."""
from __future__ import annotations

from .._ctc import ctc_loss
from .loss import _Loss


class CTCLoss(_Loss):
    """``forward(log_probs, targets, input_lengths, target_lengths)``: ``F.ctc_loss`` with this
    module's ``blank``, ``reduction`` and ``zero_infinity``."""

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction=reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                        self.zero_infinity)
