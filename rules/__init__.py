"""The rule catalog: one module per rule, installed as ``bnlint.rules``."""
from __future__ import annotations

from bnlint.rule import Rule

from .bn001_axis_mismatch import AxisMismatch
from .bn002_redundant_scale import RedundantScale
from .bn003_dropout_variance_shift import DropoutVarianceShift
from .bn004_unet_encoder_missing_bn import UnetEncoderMissingBn
from .bn020_absorbable_scale import AbsorbableScale

ALL_RULES: tuple[Rule, ...] = (AxisMismatch(), RedundantScale(), DropoutVarianceShift(), UnetEncoderMissingBn(),
                              AbsorbableScale())
BY_CODE: dict[str, Rule] = {rule.code: rule for rule in ALL_RULES}
