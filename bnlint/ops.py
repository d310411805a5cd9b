"""The catalog of Keras layers bnlint understands, by canonical op name.

Frontends map every spelling (``Convolution2D``, ``MaxPool2D``, ``layers.add``,
``tf.nn.relu``) to one canonical name here, and rules ask this module what kind
of operation a node is. Knowing a layer's family is what lets a rule say "this
path only passes through ops that commute with a per-channel scale" without
naming fifty classes itself.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


class Family(enum.Enum):
    INPUT = "input"
    CONV = "conv"  # linear, fixes a data layout
    DENSE = "dense"  # linear on the last axis
    NORM = "norm"  # renormalizes its input
    ACTIVATION = "activation"
    DROPOUT = "dropout"
    POOL = "pool"
    GLOBAL_POOL = "global_pool"
    UPSAMPLE = "upsample"
    PAD = "pad"
    CROP = "crop"
    RESHAPE = "reshape"  # Flatten, Reshape, Permute
    MERGE = "merge"
    SCALE = "scale"  # a per-channel or scalar affine map with no other effect
    EMBEDDING = "embedding"
    RECURRENT = "recurrent"
    MASK = "mask"  # marks padded time steps for the layers after it (Masking)
    MODEL = "model"  # a whole sub-model whose insides are not traced
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class OpInfo:
    family: Family
    spatial_rank: int | None = None  # 1, 2 or 3 for conv/pool/upsample families
    transpose: bool = False  # Conv*Transpose: upsamples
    rate_argument: str | None = None  # dropout family: keyword holding the rate


def _spatial(names: dict[str, int], family: Family, **extra: object) -> dict[str, OpInfo]:
    return {name: OpInfo(family, rank, **extra) for name, rank in names.items()}  # type: ignore[arg-type]


_CONV = {
    "Conv1D": 1, "Conv2D": 2, "Conv3D": 3,
    "SeparableConv1D": 1, "SeparableConv2D": 2,
    "DepthwiseConv1D": 1, "DepthwiseConv2D": 2,
}
_CONV_TRANSPOSE = {"Conv1DTranspose": 1, "Conv2DTranspose": 2, "Conv3DTranspose": 3}
_POOL = {
    "MaxPooling1D": 1, "MaxPooling2D": 2, "MaxPooling3D": 3,
    "AveragePooling1D": 1, "AveragePooling2D": 2, "AveragePooling3D": 3,
}
_GLOBAL_POOL = {
    "GlobalAveragePooling1D": 1, "GlobalAveragePooling2D": 2, "GlobalAveragePooling3D": 3,
    "GlobalMaxPooling1D": 1, "GlobalMaxPooling2D": 2, "GlobalMaxPooling3D": 3,
}
_UPSAMPLE = {"UpSampling1D": 1, "UpSampling2D": 2, "UpSampling3D": 3}
_PAD = {"ZeroPadding1D": 1, "ZeroPadding2D": 2, "ZeroPadding3D": 3}
_CROP = {"Cropping1D": 1, "Cropping2D": 2, "Cropping3D": 3}

CATALOG: dict[str, OpInfo] = {
    "Input": OpInfo(Family.INPUT),
    **_spatial(_CONV, Family.CONV),
    **_spatial(_CONV_TRANSPOSE, Family.CONV, transpose=True),
    "Dense": OpInfo(Family.DENSE),
    "EinsumDense": OpInfo(Family.DENSE),
    "BatchNormalization": OpInfo(Family.NORM),
    "LayerNormalization": OpInfo(Family.NORM),
    "GroupNormalization": OpInfo(Family.NORM),
    "UnitNormalization": OpInfo(Family.NORM),
    "RMSNormalization": OpInfo(Family.NORM),
    "Activation": OpInfo(Family.ACTIVATION),
    "ReLU": OpInfo(Family.ACTIVATION),
    "LeakyReLU": OpInfo(Family.ACTIVATION),
    "PReLU": OpInfo(Family.ACTIVATION),
    "ELU": OpInfo(Family.ACTIVATION),
    "Softmax": OpInfo(Family.ACTIVATION),
    "ThresholdedReLU": OpInfo(Family.ACTIVATION),
    "Dropout": OpInfo(Family.DROPOUT, rate_argument="rate"),
    "SpatialDropout1D": OpInfo(Family.DROPOUT, 1, rate_argument="rate"),
    "SpatialDropout2D": OpInfo(Family.DROPOUT, 2, rate_argument="rate"),
    "SpatialDropout3D": OpInfo(Family.DROPOUT, 3, rate_argument="rate"),
    "GaussianDropout": OpInfo(Family.DROPOUT, rate_argument="rate"),
    "AlphaDropout": OpInfo(Family.DROPOUT, rate_argument="rate"),
    **_spatial(_POOL, Family.POOL),
    **_spatial(_GLOBAL_POOL, Family.GLOBAL_POOL),
    **_spatial(_UPSAMPLE, Family.UPSAMPLE),
    **_spatial(_PAD, Family.PAD),
    **_spatial(_CROP, Family.CROP),
    "Flatten": OpInfo(Family.RESHAPE),
    "Reshape": OpInfo(Family.RESHAPE),
    "Permute": OpInfo(Family.RESHAPE),
    "Concatenate": OpInfo(Family.MERGE),
    "Add": OpInfo(Family.MERGE),
    "Subtract": OpInfo(Family.MERGE),
    "Multiply": OpInfo(Family.MERGE),
    "Average": OpInfo(Family.MERGE),
    "Maximum": OpInfo(Family.MERGE),
    "Minimum": OpInfo(Family.MERGE),
    "Dot": OpInfo(Family.MERGE),
    "Scale": OpInfo(Family.SCALE),
    "Rescaling": OpInfo(Family.SCALE),
    "Embedding": OpInfo(Family.EMBEDDING),
    "LSTM": OpInfo(Family.RECURRENT),
    "GRU": OpInfo(Family.RECURRENT),
    "SimpleRNN": OpInfo(Family.RECURRENT),
    "Bidirectional": OpInfo(Family.RECURRENT),
    "RNN": OpInfo(Family.RECURRENT),
    "Masking": OpInfo(Family.MASK),
    "Model": OpInfo(Family.MODEL),
    "Unknown": OpInfo(Family.UNKNOWN),
}

# Older and alternative spellings of the same layers.
ALIASES: dict[str, str] = {
    "Convolution1D": "Conv1D", "Convolution2D": "Conv2D", "Convolution3D": "Conv3D",
    "SeparableConvolution1D": "SeparableConv1D", "SeparableConvolution2D": "SeparableConv2D",
    "Conv2DTranspose": "Conv2DTranspose", "Deconvolution2D": "Conv2DTranspose",
    "Convolution2DTranspose": "Conv2DTranspose", "Deconvolution3D": "Conv3DTranspose",
    "Convolution3DTranspose": "Conv3DTranspose", "Convolution1DTranspose": "Conv1DTranspose",
    "MaxPool1D": "MaxPooling1D", "MaxPool2D": "MaxPooling2D", "MaxPool3D": "MaxPooling3D",
    "AvgPool1D": "AveragePooling1D", "AvgPool2D": "AveragePooling2D", "AvgPool3D": "AveragePooling3D",
    "GlobalAvgPool1D": "GlobalAveragePooling1D", "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalAvgPool3D": "GlobalAveragePooling3D", "GlobalMaxPool1D": "GlobalMaxPooling1D",
    "GlobalMaxPool2D": "GlobalMaxPooling2D", "GlobalMaxPool3D": "GlobalMaxPooling3D",
    "BatchNormalizationV1": "BatchNormalization", "BatchNormalizationV2": "BatchNormalization",
    "SyncBatchNormalization": "BatchNormalization",
    "InputLayer": "Input",
    "CuDNNLSTM": "LSTM", "CuDNNGRU": "GRU",
}

# Functional merge helpers (``layers.concatenate([a, b])``) and their layer.
MERGE_FUNCTIONS: dict[str, str] = {
    "concatenate": "Concatenate", "add": "Add", "subtract": "Subtract",
    "multiply": "Multiply", "average": "Average", "maximum": "Maximum",
    "minimum": "Minimum", "dot": "Dot",
}

# Activation functions, by the name their ``activation=`` string or function has.
POSITIVELY_HOMOGENEOUS_ACTIVATIONS = frozenset({"relu", "linear", "leaky_relu", "prelu"})
KNOWN_ACTIVATIONS = frozenset({
    "relu", "relu6", "linear", "leaky_relu", "prelu", "elu", "selu", "sigmoid",
    "hard_sigmoid", "tanh", "softmax", "log_softmax", "softplus", "softsign", "gelu",
    "swish", "silu", "hard_swish", "hard_silu", "mish", "exponential", "crelu",
})


def canonical(name: str) -> str | None:
    """The canonical op name for a Keras layer class name, or None if it is not one."""
    name = ALIASES.get(name, name)
    return name if name in CATALOG else None


def info(op: str) -> OpInfo:
    return CATALOG.get(op, CATALOG["Unknown"])


def family(op: str) -> Family:
    return info(op).family
