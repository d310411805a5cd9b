"""BN014 tf1-bn-training: TF1 batch_normalization's training flag and its UPDATE_OPS."""
from __future__ import annotations

import pytest

from cliutil import bnlint, write
from lintutil import assert_findings

MISSING_AND_LITERAL_FLAGS = """
import tensorflow as tf

def network(images, is_training):
    x = tf.compat.v1.layers.conv2d(images, 32, 3, use_bias=False)
    x = tf.compat.v1.layers.batch_normalization(x, training=is_training)
    x = tf.compat.v1.layers.batch_normalization(x)  # expect: BN014 error
    x = tf.layers.batch_normalization(x, training=True)  # expect: BN014 error
    x = tf.keras.layers.BatchNormalization()(x)
    return tf.nn.relu(x)
"""

UPDATE_OPS_NEVER_RUN = """
import tensorflow as tf

images = tf.compat.v1.placeholder(tf.float32, [None, 32, 32, 3])
is_training = tf.compat.v1.placeholder_with_default(False, [])
x = tf.compat.v1.layers.conv2d(images, 32, 3, use_bias=False)
x = tf.compat.v1.layers.batch_normalization(x, training=is_training)
loss = tf.reduce_mean(x)
train_op = tf.compat.v1.train.AdamOptimizer(1e-3).minimize(loss)  # expect: BN014 error
"""

UPDATE_OPS_RUN = """
import tensorflow as tf

images = tf.compat.v1.placeholder(tf.float32, [None, 32, 32, 3])
is_training = tf.compat.v1.placeholder_with_default(False, [])
x = tf.compat.v1.layers.conv2d(images, 32, 3, use_bias=False)
x = tf.compat.v1.layers.batch_normalization(x, training=is_training)
loss = tf.reduce_mean(x)
update_ops = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
with tf.control_dependencies(update_ops):
    train_op = tf.compat.v1.train.AdamOptimizer(1e-3).minimize(loss)
"""

KERAS_ONLY = """
import tensorflow as tf

model = tf.keras.Sequential([tf.keras.layers.Dense(4), tf.keras.layers.BatchNormalization()])
loss = tf.reduce_mean(model(x))
train_op = tf.compat.v1.train.AdamOptimizer().minimize(loss)
"""


@pytest.mark.parametrize("source", [MISSING_AND_LITERAL_FLAGS, UPDATE_OPS_NEVER_RUN, UPDATE_OPS_RUN, KERAS_ONLY],
                         ids=["flags", "update-ops-missing", "update-ops-run", "keras-only"])
def test_findings(source):
    assert_findings(source, "BN014")


def test_a_flag_passed_in_is_fine_even_when_a_caller_passes_true():
    source = """
    import tensorflow as tf

    def network(x, is_training):
        return tf.compat.v1.layers.batch_normalization(x, training=is_training)

    logits = network(images, True)
    """
    assert_findings(source, "BN014")


def test_cli(tmp_path):
    model = write(tmp_path / "tf1.py", UPDATE_OPS_NEVER_RUN)
    run = bnlint("--select", "BN014", model, cwd=tmp_path)
    assert run.returncode == 1 and "tf1.py:9:12: error: BN014" in run.stdout
