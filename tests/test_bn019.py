"""BN019 swapped-bn-arguments: names that say a value was meant for another BN argument."""
from __future__ import annotations

import pytest

from bnlint.analysis import named_for
from cliutil import bnlint, write
from fixutil import fixed_text
from lintutil import assert_findings, graphs, lint

FEATURE_PYRAMID = """
import keras

class FeaturePyramid(keras.layers.Layer):
    def __init__(self, batch_norm_momentum=0.99, batch_norm_epsilon=0.001, use_batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.batch_norm_momentum = batch_norm_momentum
        self.batch_norm_epsilon = batch_norm_epsilon
        self.use_batch_norm = use_batch_norm

    def build(self, input_shapes):
        self.lateral_norms = {}
        if self.use_batch_norm:
            for level in input_shapes:
                self.lateral_norms[level] = keras.layers.BatchNormalization(  # expect: BN019 error
                    momentum=self.batch_norm_epsilon,
                    epsilon=self.batch_norm_epsilon,
                )

    def call(self, inputs):
        return {level: self.lateral_norms[level](x) for level, x in inputs.items()}
"""

FUNCTIONAL_PARAMETERS = """
import keras
from keras import layers

def build(bn_momentum=0.99, bn_epsilon=1e-3, bn_axis=-1):
    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(16, 3, use_bias=False)(inputs)
    x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, epsilon=bn_epsilon)(x)
    x = layers.BatchNormalization(epsilon=bn_momentum)(x)  # expect: BN019 error
    x = layers.BatchNormalization(axis=bn_momentum)(x)  # expect: BN019 error
    x = layers.BatchNormalization(momentum=bn_epsilon)(x)  # expect: BN019 error
    return keras.Model(inputs, x)
"""

HELPER_CALL_SITE = """
import keras
from keras import layers

def conv_bn(x, filters, eps):
    x = layers.Conv2D(filters, 3, use_bias=False)(x)
    return layers.BatchNormalization(epsilon=eps)(x)  # expect: BN019 error

def build(bn_momentum=0.99, bn_eps=1e-3):
    inputs = keras.Input((32, 32, 3))
    x = conv_bn(inputs, 16, bn_momentum)
    return keras.Model(inputs, x)
"""

HELPER_CALL_SITE_RIGHT = """
import keras
from keras import layers

def conv_bn(x, filters, momentum, eps):
    x = layers.Conv2D(filters, 3, use_bias=False)(x)
    return layers.BatchNormalization(momentum=momentum, epsilon=eps)(x)

def build(bn_momentum=0.99, bn_eps=1e-3, batch_norm_decay=0.997):
    inputs = keras.Input((32, 32, 3))
    x = conv_bn(inputs, 16, bn_momentum, bn_eps)
    x = conv_bn(x, 16, momentum=batch_norm_decay, eps=bn_eps)
    return keras.Model(inputs, x)
"""

SEQUENTIAL_CONSTANTS = """
import keras
from keras import layers

BN_EPS = 1e-3
BN_MOMENTUM = 0.99
CHANNEL_AXIS = -1
WEIGHT_DECAY = 1e-4

model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(32, 3, use_bias=False),
    layers.BatchNormalization(axis=CHANNEL_AXIS, momentum=BN_MOMENTUM, epsilon=BN_EPS),
    layers.BatchNormalization(momentum=BN_EPS, epsilon=BN_EPS),  # expect: BN019 error
    layers.BatchNormalization(epsilon=WEIGHT_DECAY),
    layers.BatchNormalization(momentum=momentum_eps),
])
"""


@pytest.mark.parametrize("source", [FEATURE_PYRAMID, FUNCTIONAL_PARAMETERS, HELPER_CALL_SITE, HELPER_CALL_SITE_RIGHT,
                                    SEQUENTIAL_CONSTANTS],
                         ids=["subclassed-unapplied", "functional", "helper-call-site", "helper-right", "sequential"])
def test_findings(source):
    assert_findings(source, "BN019")


def test_a_swapped_momentum_is_one_finding_not_also_bn006():
    codes = [d.code for d in lint(SEQUENTIAL_CONSTANTS, "BN006", "BN019")]
    assert codes == ["BN019"]


def test_names_are_kept_for_known_values_and_through_helpers():
    [graph] = graphs(HELPER_CALL_SITE)
    [bn] = [n for n in graph.nodes if n.op == "BatchNormalization"]
    epsilon = bn.args["epsilon"]
    assert epsilon.known and epsilon.constant == 0.99
    assert epsilon.expression == "eps"
    assert epsilon.names == ("eps", "bn_momentum")


def test_attribute_names_survive_a_known_value():
    source = """
    import keras

    class Block(keras.layers.Layer):
        def __init__(self, batch_norm_epsilon=0.001):
            super().__init__()
            self.batch_norm_epsilon = batch_norm_epsilon
            self.norm = keras.layers.BatchNormalization(momentum=self.batch_norm_epsilon)

        def call(self, x):
            return self.norm(x)
    """
    [graph] = graphs(source)
    [bn] = [n for n in graph.nodes if n.op == "BatchNormalization"]
    momentum = bn.args["momentum"]
    assert (momentum.known, momentum.constant) == (True, 0.001)
    assert momentum.expression == "self.batch_norm_epsilon"
    assert momentum.names[0] == "batch_norm_epsilon"


def test_name_words():
    assert named_for("batch_norm_epsilon") == {"epsilon"}
    assert named_for("bnEps") == {"epsilon"}
    assert named_for("BN_MOMENTUM") == {"momentum"}
    assert named_for("batch_norm_decay") == {"momentum"}
    assert named_for("weight_decay") == set()
    assert named_for("channel_axis") == {"axis"}
    assert named_for("filters") == set()


def test_fix_uses_the_intended_name_when_it_is_bound():
    fixed = fixed_text(FEATURE_PYRAMID, unsafe=False, select=["BN019"])
    assert "momentum=self.batch_norm_momentum,\n" in fixed
    assert "epsilon=self.batch_norm_epsilon,\n" in fixed
    fixed = fixed_text(FUNCTIONAL_PARAMETERS, unsafe=False, select=["BN019"])
    assert "layers.BatchNormalization(epsilon=bn_epsilon)(x)" in fixed
    assert "layers.BatchNormalization(axis=bn_axis)(x)" in fixed
    assert "layers.BatchNormalization(momentum=bn_momentum)(x)" in fixed


def test_no_fix_where_the_slip_is_at_a_call_site_or_the_name_is_not_bound():
    source = """
    from keras import layers

    def block(x, bn_epsilon):
        return layers.BatchNormalization(momentum=bn_epsilon)(x)
    """
    [finding] = lint(source, "BN019")
    assert finding.fix is None  # no ``bn_momentum`` is bound there to use instead
    [finding] = lint(HELPER_CALL_SITE, "BN019")
    assert finding.fix is None and "(through `eps`)" in finding.message


def test_cli_fixes_with_fix(tmp_path):
    model = write(tmp_path / "fpn.py", FEATURE_PYRAMID)
    run = bnlint("--select", "BN019", model, cwd=tmp_path)
    assert run.returncode == 1 and "error: BN019" in run.stdout and "[*]" in run.stdout
    run = bnlint("--select", "BN019", "--fix", model, cwd=tmp_path)
    assert run.returncode == 0, run.stdout
    assert "momentum=self.batch_norm_momentum" in model.read_text()
    assert bnlint("--select", "BN019", model, cwd=tmp_path).returncode == 0
