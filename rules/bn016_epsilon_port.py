"""BN016 epsilon-port: PyTorch's BN epsilon in Keras code that shows it was ported."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint.analysis import batch_norm_layers
from bnlint.config import Settings
from bnlint.diagnostics import Finding, Severity
from bnlint.graph import LayerGraph, LayerNode
from bnlint.rule import Example, Rule

_PYTORCH_EPSILON = 1e-5
_PYTORCH_MOMENTUM = 0.1


class EpsilonPort(Rule):
    code = "BN016"
    name = "epsilon-port"
    summary = "BatchNormalization keeps PyTorch's epsilon of 1e-5 in code ported to Keras."
    severity = Severity.INFO
    enabled_by_default = False
    fix_safety = "none"
    doc = """
## What it does
Finds `BatchNormalization(epsilon=1e-5)` — PyTorch's default — in Keras code that
shows it was ported: `momentum=0.1` (PyTorch's default) in the same call, or a
comment in the file naming PyTorch, torch or Caffe. A port that loads weights
converted from PyTorch or Caffe (`.pth`, `torch.load`, `load_state_dict`,
`.caffemodel`) needs the epsilon those weights were trained with and is not
reported. Off by default: the difference is small, and a deliberate 1e-5 (Keras's
own ResNet uses 1.001e-5) is common.

## Why is this bad?
Keras's default epsilon is 1e-3, PyTorch's 1e-5. Copied along with a port it is
usually harmless, but where the port is trained from scratch in Keras it is a
silent divergence from the Keras recipes the rest of the code follows, and it
often travels with its companion mistake, PyTorch's `momentum=0.1` (BN006).

## Fix safety
No automatic fix: which epsilon is right depends on where the weights come from,
which only the author knows.

## References
- Keras API, `BatchNormalization` (`epsilon=1e-3`); PyTorch, `torch.nn.BatchNorm2d`
  (`eps=1e-05`, `momentum=0.1`).
"""
    bad = Example("""
from keras import layers

def conv_bn(x, filters):
    x = layers.Conv2D(filters, 3, use_bias=False)(x)
    return layers.BatchNormalization(epsilon=1e-5, momentum=0.1)(x)
""", expect=1)
    good = Example("""
from keras import layers

def conv_bn(x, filters):
    x = layers.Conv2D(filters, 3, use_bias=False)(x)
    return layers.BatchNormalization(epsilon=1e-3, momentum=0.9)(x)
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        training = graph.facts.training
        if training.loads_ported_weights:
            return
        for bn in batch_norm_layers(graph):
            epsilon = bn.known("epsilon")
            if not isinstance(epsilon, float) or abs(epsilon - _PYTORCH_EPSILON) > 1e-12:
                continue
            evidence = "`momentum=0.1` beside it" if _pytorch_momentum(bn) else training.port_evidence
            if evidence:
                yield Finding(bn.origin, f"epsilon=1e-5 is PyTorch's default (Keras's is 1e-3), and this code "
                                         f"was ported ({evidence})")


def _pytorch_momentum(bn: LayerNode) -> bool:
    momentum = bn.known("momentum")
    return isinstance(momentum, float) and abs(momentum - _PYTORCH_MOMENTUM) < 1e-12
