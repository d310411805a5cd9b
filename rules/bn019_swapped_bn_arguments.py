"""BN019 swapped-bn-arguments: a BN argument fed from a name that belongs to another argument."""
from __future__ import annotations

import re
from collections.abc import Container, Iterator

from bnlint.analysis import BN_ARGUMENT_WORDS, batch_norm_layers, swapped_name
from bnlint.config import Settings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Severity
from bnlint.graph import LayerGraph, LayerNode, Value
from bnlint.rule import Example, Rule


class SwappedBnArguments(Rule):
    code = "BN019"
    name = "swapped-bn-arguments"
    summary = "A BatchNormalization argument is fed from a name that belongs to another of its arguments."
    severity = Severity.ERROR
    fix_safety = "safe"
    doc = """
## What it does
Finds a `BatchNormalization` argument whose value comes from a name made for a
different BN argument: `momentum=self.batch_norm_epsilon`, `epsilon=bn_momentum`,
`axis=momentum`. The names are followed through helper parameters and attributes:
`def block(x, eps): BatchNormalization(epsilon=eps)` called as
`block(x, bn_momentum)` passes a momentum as the epsilon.

## Why is this bad?
It is a copy-paste slip that no test catches: the model builds and trains. An
epsilon of 0.001 given as the momentum makes the moving statistics forget their
history at every step (see BN006), so inference runs on the statistics of the last
batch; a momentum of 0.99 given as the epsilon flattens every activation. A
popular model library shipped its feature pyramid with
`momentum=self.batch_norm_epsilon` for both of its BN layers. A name that mentions
both arguments (`momentum_eps`) is ambiguous and not reported.

## Fix safety
Where the call itself spells the wrong name and the evidently intended one is bound
at that point (`self.batch_norm_momentum` beside `self.batch_norm_epsilon`), the fix
uses it. It is safe: it edits only that argument, to the name its author wrote for
it. A name that reaches the call through a helper's parameter is reported without a
fix: the slip is at the call site, which the message names.

## References
- Keras API, `BatchNormalization`: the meaning of `axis`, `momentum`, `epsilon`,
  `center` and `scale`.
"""
    bad = Example("""
import keras

class FeaturePyramid(keras.layers.Layer):
    def __init__(self, batch_norm_momentum=0.99, batch_norm_epsilon=0.001, **kwargs):
        super().__init__(**kwargs)
        self.batch_norm_momentum = batch_norm_momentum
        self.batch_norm_epsilon = batch_norm_epsilon
        self.norm = keras.layers.BatchNormalization(
            momentum=self.batch_norm_epsilon,
            epsilon=self.batch_norm_epsilon,
        )

    def call(self, x):
        return self.norm(x)
""", expect=1)
    good = Example("""
import keras

class FeaturePyramid(keras.layers.Layer):
    def __init__(self, batch_norm_momentum=0.99, batch_norm_epsilon=0.001, **kwargs):
        super().__init__(**kwargs)
        self.batch_norm_momentum = batch_norm_momentum
        self.batch_norm_epsilon = batch_norm_epsilon
        self.norm = keras.layers.BatchNormalization(
            momentum=self.batch_norm_momentum,
            epsilon=self.batch_norm_epsilon,
        )

    def call(self, x):
        return self.norm(x)
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        for bn in batch_norm_layers(graph):
            for argument in BN_ARGUMENT_WORDS:
                value = bn.arg(argument)
                if value is None or not value.names:
                    continue
                swapped = swapped_name(argument, value)
                if swapped is None:
                    continue
                name, other = swapped
                own = value.names[0]
                where = "" if name == own else f" (through `{own}`)"
                message = (f"BatchNormalization {argument}= is fed from `{name}`{where}, a name for its "
                           f"{other}")
                yield Finding(bn.origin, message, fix=_fix(bn, argument, value, name, other))
                break  # one finding per layer: its other arguments are often the same slip's twin


def _fix(bn: LayerNode, argument: str, value: Value, name: str, other: str) -> Fix | None:
    if value.names[0] != name or not value.expression.endswith(name):
        return None
    intended = _intended(value.expression, name, other, argument, bn.scope_names)
    if intended is None:
        return None
    return Fix(f"Use `{intended}` for `{argument}=`", Applicability.SAFE,
               (Edit("set-keyword", bn.origin, keyword=argument, value=intended),))


def _intended(expression: str, name: str, other: str, argument: str, bound: Container[str]) -> str | None:
    """``self.batch_norm_epsilon`` as ``self.batch_norm_momentum``, when that name is bound where the layer is built."""
    prefix = expression[: len(expression) - len(name)]
    for wrong in BN_ARGUMENT_WORDS[other]:
        for right in BN_ARGUMENT_WORDS[argument]:
            pattern = re.compile(rf"(?<![A-Za-z]){wrong}(?![a-z])", re.IGNORECASE)
            if not pattern.search(name):
                continue
            candidate = pattern.sub(lambda m, word=right: word.upper() if m.group(0).isupper() else word, name)
            spelled = prefix + candidate
            if spelled in bound:
                return spelled
    return None
