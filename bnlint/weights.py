"""The weights-aware downgrade of shape-changing fixes."""
from __future__ import annotations

from bnlint.diagnostics import Applicability, Fix
from bnlint.graph import ModuleFacts

CHECKPOINT_NOTE = " (this file loads pretrained weights: after the fix, existing checkpoints no longer load)"


def shape_changing_fix(fix: Fix, facts: ModuleFacts) -> tuple[Fix, str]:
    """A fix that changes a parameter's shape or count is unsafe where the file loads weights."""
    if not facts.loads_pretrained_weights:
        return fix, ""
    return Fix(fix.title, Applicability.UNSAFE, fix.edits), CHECKPOINT_NOTE
