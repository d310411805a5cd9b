"""The rule catalog: one module per rule, installed as ``bnlint.rules``."""
from __future__ import annotations

from bnlint.rule import Rule

from .bn001_axis_mismatch import AxisMismatch
from .bn002_redundant_scale import RedundantScale
from .bn003_dropout_variance_shift import DropoutVarianceShift
from .bn004_unet_encoder_missing_bn import UnetEncoderMissingBn
from .bn005_bias_before_bn import BiasBeforeBn
from .bn006_momentum_convention import MomentumConvention
from .bn007_frozen_base_training import FrozenBaseTraining
from .bn008_activation_order import ActivationOrder
from .bn009_small_batch import SmallBatch
from .bn010_bn_on_output import BnOnOutput
from .bn011_stacked_normalization import StackedNormalization
from .bn012_bn_in_recurrence import BnInRecurrence
from .bn013_bn_as_input_standardization import BnAsInputStandardization
from .bn014_tf1_bn_training import Tf1BnTraining
from .bn015_training_flag import TrainingFlag
from .bn016_epsilon_port import EpsilonPort
from .bn017_missing_normalization import MissingNormalization
from .bn018_bn_in_gp_critic import BnInGpCritic
from .bn019_swapped_bn_arguments import SwappedBnArguments
from .bn020_absorbable_scale import AbsorbableScale
from .bn901_built_axis_mismatch import BuiltAxisMismatch
from .bn902_unchecked_rank import UncheckedRank
from .bn903_unseen_bn_layer import UnseenBnLayer
from .bn904_not_built import NotBuilt

ALL_RULES: tuple[Rule, ...] = (AxisMismatch(), RedundantScale(), DropoutVarianceShift(), UnetEncoderMissingBn(),
                              BiasBeforeBn(), MomentumConvention(), FrozenBaseTraining(), ActivationOrder(),
                              SmallBatch(), BnOnOutput(), StackedNormalization(), BnInRecurrence(),
                              BnAsInputStandardization(), Tf1BnTraining(), TrainingFlag(), EpsilonPort(),
                              MissingNormalization(), BnInGpCritic(), SwappedBnArguments(), AbsorbableScale())
# Rules only ``--dynamic`` reports, from the built model: no static check, never in a static run's rule list.
DYNAMIC_RULES: tuple[Rule, ...] = (BuiltAxisMismatch(), UncheckedRank(), UnseenBnLayer(), NotBuilt())
# Every rule a user can select, list and read about.
CATALOG: tuple[Rule, ...] = ALL_RULES + DYNAMIC_RULES
BY_CODE: dict[str, Rule] = {rule.code: rule for rule in CATALOG}
