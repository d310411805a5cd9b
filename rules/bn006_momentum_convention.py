"""BN006 momentum-convention: a Keras momentum below 0.5, the PyTorch convention pasted into Keras."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint.analysis import batch_norm_layers, swapped_name
from bnlint.config import Settings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Severity
from bnlint.graph import LayerGraph, LayerNode
from bnlint.rule import Example, Rule

_THRESHOLD = 0.5


class MomentumConvention(Rule):
    code = "BN006"
    name = "momentum-convention"
    summary = "BatchNormalization momentum below 0.5: the PyTorch convention, which Keras reads the other way round."
    severity = Severity.ERROR
    fix_safety = "unsafe"
    doc = """
## What it does
Finds a `BatchNormalization` whose `momentum` is known to be below 0.5, whether it
is written in the call, a module constant, a helper's parameter, a
`functools.partial`, a `**bn_params` dict or a class attribute set from a default.

## Why is this bad?
The two frameworks mean opposite things by `momentum`. Keras updates the moving
statistics as `moving = moving * momentum + batch * (1 - momentum)` (default 0.99);
PyTorch as `running = running * (1 - momentum) + batch * momentum` (default 0.1).
PyTorch's 0.1 pasted into Keras keeps only 10% of the history at each step: the
statistics used at inference are those of the last few batches, and evaluation
accuracy jumps from one batch to the next. The Keras equivalent of PyTorch's 0.1
is 0.9. Values such as 0.9, 0.99 or 0.997 are the Keras convention and are not
reported, nor is `momentum=0` (moving statistics of the last batch), which is no
framework's default and is set on purpose, as in tests of the update rule.

## Fix safety
The fix writes `momentum=1 - m` (0.1 becomes 0.9) in the reported call. It is
unsafe: it changes how the model trains, and a momentum this low may have been
meant (a model retrained on a shifted domain). It is offered only where the call
itself writes the value as a literal; a value that reaches the call through a
name is left to the author, who knows where it is set.

## References
- Keras API, `BatchNormalization`: "momentum: Momentum for the moving average."
  and the update rule `moving_mean = moving_mean * momentum + mean(batch) * (1 - momentum)`.
- PyTorch, `torch.nn.BatchNorm2d`: "This momentum argument is different from one used
  in optimizer classes and the conventional notion of momentum."
- pytorch/examples issue #289; pix2pix-tensorflow issue #126 (a 0.1 momentum ported
  the wrong way round).
"""
    bad = Example("""
from keras import layers

def conv_bn(x, filters, bn_momentum=0.1):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=bn_momentum)(x)
    return layers.ReLU()(x)
""", expect=1)
    good = Example("""
from keras import layers

def conv_bn(x, filters, bn_momentum=0.9):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=bn_momentum)(x)
    return layers.ReLU()(x)
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        for bn in batch_norm_layers(graph):
            momentum = bn.arg("momentum")
            if momentum is None or not momentum.known or not _is_number(momentum.constant):
                continue
            value = momentum.constant
            if value >= _THRESHOLD or value == 0 or swapped_name("momentum", momentum) is not None:
                # 0 is "use the last batch", set on purpose (unit tests of the update rule), and in
                # neither convention a default; a momentum fed from an epsilon's name is BN019's finding.
                continue
            keras_value = _complement(value)
            via = _via(momentum.expression, momentum.names, value)
            message = (f"BatchNormalization momentum={value:g}{via} keeps {value * 100:g}% of the moving statistics "
                       f"per step: Keras's momentum weighs the old average (PyTorch's {value:g} is Keras's "
                       f"{keras_value:g})")
            yield Finding(bn.origin, message, fix=_fix(bn, momentum.expression, keras_value))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _complement(value: float) -> float:
    return round(1 - value, 10)


def _via(expression: str, names: tuple[str, ...], value: float) -> str:
    if _is_literal(expression) or not names:
        return ""
    return f" (through `{names[0]}`)" if len(set(names)) == 1 else \
        f" (through {', '.join(f'`{n}`' for n in dict.fromkeys(names))})"


def _is_literal(expression: str) -> bool:
    try:
        float(expression)
    except ValueError:
        return False
    return True


def _fix(bn: LayerNode, expression: str, keras_value: float) -> Fix | None:
    """Only a literal written in the reported call is rewritten: a name may be set for other uses too."""
    if not _is_literal(expression):
        return None
    return Fix(f"Set `momentum={keras_value:g}`", Applicability.UNSAFE,
               (Edit("set-keyword", bn.origin, keyword="momentum", value=f"{keras_value:g}"),))
