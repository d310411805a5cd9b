"""What a dotted name means in the Keras / TensorFlow API.

The frontend resolves names from the file's own import statements (never by
importing anything) to a dotted path such as ``tensorflow.keras.layers.Conv2D``,
and this module says what that path is: a layer class, a merge function, an
activation, ``Input``, ``Sequential``, a data-format setter, and so on.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from bnlint import ops

KERAS_ROOTS = ("keras", "tensorflow", "tf_keras", "tf", "keras_core", "tensorflow_addons")


@dataclass(frozen=True)
class ApiEntry:
    kind: str  # layer | merge | activation | input | sequential | model | set_format |
    #            get_format | application | tf1_layer | partial | weight | concat | load_model
    op: str = ""
    label: str = ""


# TF1 functional layers: ``tf.layers.conv2d(x, ...)`` applies the layer at once.
_TF1_LAYERS = {
    "batch_normalization": "BatchNormalization", "conv1d": "Conv1D", "conv2d": "Conv2D",
    "conv3d": "Conv3D", "conv2d_transpose": "Conv2DTranspose", "separable_conv2d": "SeparableConv2D",
    "dense": "Dense", "dropout": "Dropout", "max_pooling2d": "MaxPooling2D",
    "average_pooling2d": "AveragePooling2D", "flatten": "Flatten",
}

_ACTIVATION_FUNCTIONS = {
    "relu": "relu", "relu6": "relu6", "leaky_relu": "leaky_relu", "elu": "elu", "selu": "selu",
    "sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax", "gelu": "gelu", "swish": "swish",
    "silu": "silu", "hard_sigmoid": "hard_sigmoid", "hard_swish": "hard_swish", "softplus": "softplus",
    "mish": "mish", "log_softmax": "log_softmax", "crelu": "crelu",
}


def is_keras_path(qualname: str) -> bool:
    root = qualname.split(".", 1)[0]
    return root in KERAS_ROOTS or qualname.startswith(".") or ".keras" in qualname


# The interpreter asks for every call and attribute it meets, mostly the same few dozen names;
# the answer depends on the name alone and an entry is immutable, so it is kept.
@functools.lru_cache(maxsize=4096)
def resolve(qualname: str) -> ApiEntry | None:
    parts = qualname.split(".")
    last = parts[-1]
    keras_path = is_keras_path(qualname)
    if qualname in ("functools.partial", "partial"):
        return ApiEntry("partial")
    if last in ("add_weight", "add_variable", "Variable"):
        return ApiEntry("weight")
    if last in ("set_image_data_format",):
        return ApiEntry("set_format")
    if last == "image_data_format" and keras_path:
        return ApiEntry("get_format")
    if last in ("load_model",) and keras_path:
        return ApiEntry("load_model")
    if last in ("Input",) and (keras_path or len(parts) == 1):
        return ApiEntry("input", "Input", last)
    if last == "Sequential":
        return ApiEntry("sequential", label=last)
    if last in ("Model", "Functional") and (keras_path or len(parts) == 1):
        return ApiEntry("model", label=last)
    if "applications" in parts and last[:1].isupper():
        return ApiEntry("application", "Model", last)
    if last == "Lambda":
        return ApiEntry("lambda_layer", label=last)
    op = ops.canonical(last)
    if op is not None and last[:1].isupper():
        return ApiEntry("layer", op, last)
    if not keras_path:
        return None
    if last in ("concat",) or (last == "concatenate" and "ops" in parts):
        return ApiEntry("concat", "Concatenate", last)
    if last in ops.MERGE_FUNCTIONS and ("layers" in parts or "math" in parts or len(parts) <= 2):
        return ApiEntry("merge", ops.MERGE_FUNCTIONS[last], last)
    if last in _ACTIVATION_FUNCTIONS and (
        "nn" in parts or "activations" in parts or "ops" in parts or "math" in parts
    ):
        return ApiEntry("activation", "Activation", _ACTIVATION_FUNCTIONS[last])
    if last in _TF1_LAYERS and "layers" in parts:
        return ApiEntry("tf1_layer", _TF1_LAYERS[last], last)
    return None


def same_api(first: str, second: str) -> bool:
    """Two import paths of the same Keras object (``tensorflow.keras.layers.X``, ``keras.layers.X``)."""
    if first.rsplit(".", 1)[-1] != second.rsplit(".", 1)[-1]:
        return False
    entry = resolve(first)
    return entry is not None and entry == resolve(second) or \
        is_keras_path(first) and is_keras_path(second) and first.count(".") > 0 and second.count(".") > 0


def activation_name(value: object) -> str | None:
    """The canonical activation name of an ``activation=`` constant or function path."""
    if value is None:
        return "linear"
    if isinstance(value, str):
        last = value.rsplit(".", 1)[-1].lower()
        return _ACTIVATION_FUNCTIONS.get(last, last)
    return None
