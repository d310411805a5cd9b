"""BN012 bn-in-recurrence: BatchNormalization on an RNN cell's recurrent state, or on padded sequences."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint.analysis import batch_norm_layers
from bnlint.config import Settings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Severity
from bnlint.graph import LayerGraph, LayerNode
from bnlint.ops import Family
from bnlint.rule import Example, Rule
from bnlint.weights import shape_changing_fix

# BatchNormalization arguments that LayerNormalization does not take: the fix drops them.
_BN_ONLY = ("momentum", "moving_mean_initializer", "moving_variance_initializer", "renorm", "renorm_clipping",
            "renorm_momentum", "fused", "virtual_batch_size", "adjustment", "synchronized")
# Layers that pass a sequence's mask on to the next layer (Keras 2 and 3 alike).
_CARRIES_MASK = {Family.DROPOUT, Family.ACTIVATION, Family.DENSE, Family.NORM, Family.MERGE}


class BnInRecurrence(Rule):
    code = "BN012"
    name = "bn-in-recurrence"
    summary = "BatchNormalization normalizes an RNN cell's recurrent state, or a padded sequence on an old Keras."
    severity = Severity.WARNING
    fix_safety = "unsafe"
    doc = """
## What it does
Finds a `BatchNormalization` inside a custom RNN cell that normalizes the recurrent
state or anything computed from it. A cell is a layer class with a `state_size` and a
`call(inputs, states)` that `keras.layers.RNN` runs once per time step; the BN is
reported where `__init__` constructs it (warning). A BN on the step's `inputs` alone,
before they meet the state, is not reported.

Also finds, at `info` severity, a BN applied to a padded sequence — the output of a
`Masking` layer or of an `Embedding(mask_zero=True)`, directly or through recurrent
layers with `return_sequences=True`, dense layers, dropout and activations — in code
whose imports show a Keras before 2.9 (`keras.layers.recurrent`,
`keras.layers.embeddings`, `from keras.layers.normalization import
BatchNormalization`, TensorFlow's own copy `tensorflow.python.keras`).

## Why is this bad?
A cell's layers are shared by every time step, so one BN keeps one pair of moving
statistics for all of them, while the distribution of the hidden state changes from
step to step (it starts from zeros). Cooijmans et al. made batch normalization work in
an LSTM only with separate statistics for each time step, and Laurent et al. found
that normalizing the hidden-to-hidden transition did not help at all; Keras's shared
BN has neither. Layer normalization (Ba et al.) normalizes each sample over its
features, with the same computation at training and inference and at every step, and
was proposed for recurrent networks for this reason. The input-to-hidden path is what
Laurent et al. normalized successfully, best over the whole sequence (a BN on the 3-D
input before the RNN layer), so a BN on the cell's `inputs` is left alone.

Keras's BN took no mask before Keras 2.12: on a padded sequence, the zeros (or the
embedding of index 0) at the padded steps entered its batch mean and variance, so the
statistics depended on how much padding a batch had. Keras 2.12 and later, `tf_keras`,
and Keras 3 leave masked steps out (checked with Keras 3.15 and tf_keras 2.21), so code
whose imports do not pin an older Keras is not reported.

## Fix safety
Unsafe: the fix constructs `LayerNormalization` instead of the cell's BN, which changes
the model and its weights (no moving statistics). It drops the arguments LN lacks
(`momentum`, `moving_*_initializer`, `renorm*`, `fused`, ...) and is refused where the
call passes more than its first argument by position or spreads `**kwargs`. A padded
sequence gets no automatic fix: on such a Keras, LayerNormalization or an upgrade to
Keras 2.12+ are both right, and the author chooses.

## References
- J. L. Ba, J. R. Kiros, G. E. Hinton, "Layer Normalization", arXiv:1607.06450, 2016.
- C. Laurent, G. Pereyra, P. Brakel, Y. Zhang, Y. Bengio, "Batch Normalized Recurrent
  Neural Networks", ICASSP 2016.
- T. Cooijmans, N. Ballas, C. Laurent, Ç. Gülçehre, A. Courville, "Recurrent Batch
  Normalization", ICLR 2017 (section 3: statistics per time step).
- Keras guide "Understanding masking & padding"; `BatchNormalization` call argument
  `mask` (Keras 2.12+, Keras 3).
"""
    bad = Example("""
import tensorflow as tf
from tensorflow import keras


class NormalizedCell(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.state_size = units
        self.kernel = keras.layers.Dense(units)
        self.recurrent = keras.layers.Dense(units, use_bias=False)
        self.norm = keras.layers.BatchNormalization()

    def call(self, inputs, states, training=None):
        h = self.kernel(inputs) + self.recurrent(states[0])
        h = tf.tanh(self.norm(h, training=training))
        return h, [h]


layer = keras.layers.RNN(NormalizedCell(64))
""", expect=1)
    good = Example("""
import tensorflow as tf
from tensorflow import keras


class NormalizedCell(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.state_size = units
        self.kernel = keras.layers.Dense(units)
        self.recurrent = keras.layers.Dense(units, use_bias=False)
        self.norm = keras.layers.LayerNormalization()

    def call(self, inputs, states, training=None):
        h = self.kernel(inputs) + self.recurrent(states[0])
        h = tf.tanh(self.norm(h))
        return h, [h]


layer = keras.layers.RNN(NormalizedCell(64))
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        fed = _fed_by_state(graph)
        for bn in batch_norm_layers(graph):
            if bn.id in fed:
                state = graph.node(fed[bn.id])
                message = (f"{bn.label} in the RNN cell `{graph.entry}` normalizes a value computed from the "
                           f"previous step's state (`{state.label}`): one set of moving statistics serves every "
                           "time step while the state's distribution changes from step to step; "
                           "use LayerNormalization")
                fix, note = shape_changing_fix(_layer_norm_fix(bn), graph.facts)
                yield Finding(bn.origin, message + note, fix=fix, fix_right_in_every_use=True)
                continue
            old_keras = graph.facts.old_keras_import
            source = _mask_source(graph, bn) if old_keras and bn.id >= 0 else None
            if source is not None:
                yield Finding(bn.origin, f"{bn.label} normalizes a padded sequence (masked by {{0}}) in code for "
                                         f"an old Keras (it imports `{old_keras}`), whose BatchNormalization takes "
                                         "no mask: the padded time steps enter its batch mean and variance; use "
                                         "LayerNormalization, or Keras 2.12 or later",
                              severity=Severity.INFO, related=((source.origin, source.label),))


def _fed_by_state(graph: LayerGraph) -> dict[int, int]:
    """Every node computed from an RNN cell's previous-step state: node id -> the state input's id."""
    reached: dict[int, int] = {}
    stack = [(node, node.id) for node in graph.nodes if node.recurrent_state]
    while stack:
        node, state = stack.pop()
        for successor in graph.successors(node):
            if successor.id not in reached:
                reached[successor.id] = state
                stack.append((successor, state))
    return reached


def _mask_source(graph: LayerGraph, bn: LayerNode) -> LayerNode | None:
    """The Masking layer or ``mask_zero`` Embedding whose mask the BN's input still carries, if any."""
    stack = graph.predecessors(bn)
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if node.id in seen:
            continue
        seen.add(node.id)
        if node.op == "Masking" or node.op == "Embedding" and node.known("mask_zero") is True:
            return node
        if node.family is Family.RECURRENT and node.known("return_sequences") is not True:
            continue  # the last step's output alone: no time steps left to pad
        if node.family in _CARRIES_MASK or node.family is Family.RECURRENT:
            stack.extend(graph.predecessors(node))
    return None


def _layer_norm_fix(bn: LayerNode) -> Fix:
    edits = [Edit("replace-layer", bn.origin, value="LayerNormalization")]
    edits += [Edit("remove-keyword", bn.origin, keyword=name) for name in _BN_ONLY if name in bn.args]
    return Fix("Use `LayerNormalization`", Applicability.UNSAFE, tuple(edits))
