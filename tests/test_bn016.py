"""BN016 epsilon-port: PyTorch's epsilon where the code shows a port (opt-in)."""
from __future__ import annotations

import pytest

from bnlint.api import lint_source, select_rules
from bnlint.config import Settings
from lintutil import assert_findings

SAME_CALL = """
from keras import layers

def conv_bn(x):
    x = layers.Conv2D(16, 3, use_bias=False)(x)
    x = layers.BatchNormalization(epsilon=1e-5, momentum=0.1)(x)  # expect: BN016 info
    return layers.BatchNormalization(epsilon=1e-5, momentum=0.9)(x)
"""

COMMENT = """
# A Keras port of the PyTorch reference implementation.
import keras
from keras import layers

model = keras.Sequential([
    keras.Input((32, 32, 3)),
    layers.Conv2D(16, 3, use_bias=False),
    layers.BatchNormalization(epsilon=1e-5),  # expect: BN016 info
    layers.Conv2D(16, 3, use_bias=False),
    layers.BatchNormalization(epsilon=1.001e-5),
    layers.BatchNormalization(epsilon=1e-3),
])
"""

PORT_THAT_LOADS_PYTORCH_WEIGHTS = """
# Ported from PyTorch; the weights are converted from the original checkpoint.
import torch
from keras import layers

def conv_bn(x):
    x = layers.Conv2D(16, 3, use_bias=False)(x)
    return layers.BatchNormalization(epsilon=1e-5, momentum=0.1)(x)

state = torch.load("resnet18.pth")
"""

NO_EVIDENCE = """
import tensorflow as tf

class Block(tf.keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.norm = tf.keras.layers.BatchNormalization(epsilon=1e-5)

    def call(self, x):
        return self.norm(x)
"""


@pytest.mark.parametrize("source", [SAME_CALL, COMMENT, PORT_THAT_LOADS_PYTORCH_WEIGHTS, NO_EVIDENCE],
                         ids=["same-call", "comment", "loads-pytorch-weights", "no-evidence"])
def test_findings(source):
    assert_findings(source, "BN016")


def test_off_by_default():
    settings = Settings()
    result = lint_source("m.py", SAME_CALL.encode(), settings, select_rules(settings))
    assert "BN016" not in {d.code for d in result.diagnostics}
    assert "BN006" in {d.code for d in result.diagnostics}


def test_a_port_matching_timm_weights_keeps_their_epsilon():
    # A backbone written to load weights converted from a PyTorch model zoo says so, and needs 1e-5.
    source = """
    # Matches the timm ResNet so that its converted presets load; torch pads differently.
    from keras import layers

    def stem(x):
        x = layers.Conv2D(64, 7, strides=2, use_bias=False)(x)
        return layers.BatchNormalization(epsilon=1e-5)(x)
    """
    assert_findings(source, "BN016")
