"""BN014 tf1-bn-training: TF1 batch_normalization that never trains, or whose moving statistics never update."""
from __future__ import annotations

from collections.abc import Iterator

from bnlint.analysis import batch_norm_layers
from bnlint.config import Settings
from bnlint.diagnostics import Finding, Severity
from bnlint.graph import LayerGraph, LayerNode
from bnlint.rule import Example, Rule

# The label the frontend gives the TF1 functional layer (``tf.layers.batch_normalization``).
_TF1_FUNCTION = "batch_normalization"


class Tf1BnTraining(Rule):
    code = "BN014"
    name = "tf1-bn-training"
    summary = "TF1 batch_normalization without training=, with a literal training=True, or with UPDATE_OPS never run."
    severity = Severity.ERROR
    fix_safety = "none"
    tokens = (b"batch_normalization",)
    doc = """
## What it does
In TF1 graph code (`tf.compat.v1.layers.batch_normalization`,
`tf.layers.batch_normalization`), finds:
1. a call without `training=`: its default is `False`, so the layer normalizes with
   its moving statistics, which start at 0 and 1 and are never updated;
2. a call with a literal `training=True`: the graph then also uses batch statistics
   at inference, and predictions depend on the rest of the batch;
3. a train op (`optimizer.minimize(...)`) in a module that never runs the update
   ops, i.e. never reads `tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)`
   into a `control_dependencies` block: the moving mean and variance stay at their
   initial values, and the model trained well evaluates badly.

## Why is this bad?
TF1's `batch_normalization` puts its moving-average updates in the `UPDATE_OPS`
collection instead of running them; its documentation says they "need to be executed
alongside the train_op". It is one of the most reported TF1 pitfalls
(tensorflow/tensorflow#11965, #1122): accuracy is fine while training and collapses
at evaluation. Keras layers (`tf.keras.layers.BatchNormalization`) are BN015's.

## Fix safety
No automatic fix: the cure depends on how the training flag is passed around
(usually a `tf.compat.v1.placeholder_with_default(False, [])`) and on where the train
op is built:

```python
update_ops = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
with tf.control_dependencies(update_ops):
    train_op = optimizer.minimize(loss)
```

## References
- TensorFlow API, `tf.compat.v1.layers.batch_normalization`, the note on `UPDATE_OPS`.
- tensorflow/tensorflow issue #11965.
"""
    bad = Example("""
import tensorflow as tf

def network(images, is_training):
    x = tf.compat.v1.layers.conv2d(images, 32, 3, use_bias=False)
    x = tf.compat.v1.layers.batch_normalization(x)
    return tf.nn.relu(x)
""", expect=1)
    good = Example("""
import tensorflow as tf

def network(images, is_training):
    x = tf.compat.v1.layers.conv2d(images, 32, 3, use_bias=False)
    x = tf.compat.v1.layers.batch_normalization(x, training=is_training)
    return tf.nn.relu(x)
""", expect=0)

    def check(self, graph: LayerGraph, settings: Settings) -> Iterator[Finding]:
        tf1 = [bn for bn in batch_norm_layers(graph) if bn.label == _TF1_FUNCTION]
        for bn in tf1:
            message = _training_problem(bn)
            if message is not None:
                yield Finding(bn.origin, message)
        training = graph.facts.training
        if tf1 and not training.collects_update_ops:
            for train_op in training.train_ops:
                yield Finding(train_op, "this train op does not run the UPDATE_OPS of the module's TF1 "
                                        "batch_normalization layers: their moving statistics never update (run it "
                                        "under `tf.control_dependencies(tf.compat.v1.get_collection(UPDATE_OPS))`)")


def _training_problem(bn: LayerNode) -> str | None:
    training = bn.arg("training")
    if training is None:
        if bn.unknown_kwargs:
            return None
        return ("batch_normalization without `training=` runs in inference mode, also while training: it "
                "normalizes with moving statistics that never update")
    if training.expression == "True":
        return ("batch_normalization with a literal `training=True` uses batch statistics at inference too: "
                "pass a flag that is False when evaluating")
    return None
