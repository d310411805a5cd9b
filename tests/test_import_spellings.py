"""Every import spelling of Keras reaches every rule, positives and negatives alike."""
from __future__ import annotations

import pytest

from lintutil import findings

# import line, then how the snippet spells: module prefix for layers, BN class.
SPELLINGS = {
    "import-keras": ("import keras", "keras.layers.", "BatchNormalization"),
    "from-keras-import-layers": ("from keras import layers", "layers.", "BatchNormalization"),
    "from-tensorflow-import-keras": ("from tensorflow import keras", "keras.layers.", "BatchNormalization"),
    "tf-keras": ("import tensorflow as tf", "tf.keras.layers.", "BatchNormalization"),
    "tf-keras-layers-module": ("from tensorflow.keras import layers as tfl", "tfl.", "BatchNormalization"),
    "keras-layers-as-KL": ("import keras.layers as KL", "KL.", "BatchNormalization"),
    "star": ("from keras.layers import *", "", "BatchNormalization"),
    "tf-star": ("from tensorflow.keras.layers import *", "", "BatchNormalization"),
    "tf-keras-package": ("import tf_keras", "tf_keras.layers.", "BatchNormalization"),
    "sync": ("from keras import layers", "layers.", "SyncBatchNormalization"),
    "synchronized": ("from keras import layers", "layers.", "BatchNormalization"),
}


LAYERS = ("Conv2D", "Dense", "Dropout", "ReLU", "Activation", "MaxPooling2D", "UpSampling2D", "Concatenate")


def render(key: str, body: list[str]) -> str:
    """A ``block(x)`` function whose ``<Layer>`` and ``<BN args>`` placeholders use the spelling ``key``."""
    import_line, prefix, bn = SPELLINGS[key]
    out = [import_line, "", "", "def block(x):"]
    for text in body:
        for name in LAYERS:
            text = text.replace(f"<{name}>", f"{prefix}{name}")
        while "<BN" in text:
            start = text.index("<BN")
            end = text.index(">", start)
            args = [a for a in (text[start + 3:end].strip(),) if a]
            if key == "synchronized":
                args.insert(0, "synchronized=True")
            text = f"{text[:start]}{prefix}{bn}({', '.join(args)}){text[end + 1:]}"
        out.append("    " + text)
    return "\n".join(out) + "\n"


KEYS = list(SPELLINGS)


@pytest.mark.parametrize("key", KEYS)
def test_bn001(key):
    bad = render(key, ['x = <Conv2D>(8, 3, data_format="channels_first")(x)', "return <BN>(x)"])
    good = render(key, ['x = <Conv2D>(8, 3, data_format="channels_first")(x)', "return <BN axis=1>(x)"])
    assert findings(bad, "BN001") == [("BN001", 6, 12, "error")]
    assert findings(good, "BN001") == []


@pytest.mark.parametrize("key", KEYS)
def test_bn020(key):
    bad = render(key, ["x = <BN>(<Conv2D>(8, 3)(x))", "x = <ReLU>()(x)", "return <Conv2D>(8, 3)(x)"])
    good = render(key, ["x = <BN scale=False>(<Conv2D>(8, 3)(x))", "x = <ReLU>()(x)", "return <Conv2D>(8, 3)(x)"])
    assert findings(bad, "BN020") == [("BN020", 5, 9, "info")]
    assert findings(good, "BN020") == []


@pytest.mark.parametrize("key", KEYS)
def test_bn003(key):
    bad = render(key, ["x = <Dropout>(0.5)(x)", "x = <Conv2D>(8, 3)(x)", "return <BN>(x)"])
    good = render(key, ["x = <Conv2D>(8, 3)(x)", "x = <BN>(x)", "return <Dropout>(0.5)(x)"])
    assert findings(bad, "BN003") == [("BN003", 5, 9, "warning")]
    assert findings(good, "BN003") == []


@pytest.mark.parametrize("key", KEYS)
def test_bn004(key):
    body = [
        "c1 = <Conv2D>(8, 3, padding='same')(x)",
        "c1 = <Activation>('relu')(<BN>(c1))",
        "c2 = <Conv2D>(16, 3, padding='same', activation='relu')(<MaxPooling2D>()(c1))",
        "b = <Conv2D>(32, 3, padding='same')(<MaxPooling2D>()(c2))",
        "m2 = <Concatenate>()([<UpSampling2D>()(b), c2])",
        "return <Concatenate>()([<UpSampling2D>()(m2), c1])",
    ]
    fixed = list(body)
    fixed[2] = "c2 = <Activation>('relu')(<BN>(<Conv2D>(16, 3, padding='same')(<MaxPooling2D>()(c1))))"
    assert findings(render(key, body), "BN004") == [("BN004", 7, 10, "warning")]
    assert findings(render(key, fixed), "BN004") == []


def test_bn_imported_under_an_alias():
    source = """
    from tensorflow.keras.layers import BatchNormalization as BN, Conv2D, Dropout, ReLU

    def block(x):
        x = Dropout(0.3)(x)  # BN003
        x = Conv2D(8, 3, data_format="channels_first")(x)
        x = BN()(x)  # BN001
        x = BN(axis=1)(Conv2D(8, 3, data_format="channels_first")(x))  # BN020, and BN005 at the conv
        x = ReLU()(x)
        return Conv2D(8, 3, data_format="channels_first")(x)
    """
    assert findings(source) == [("BN003", 5, 9, "warning"), ("BN001", 7, 9, "error"), ("BN020", 8, 9, "info"),
                                ("BN005", 8, 20, "info")]


def test_conditional_import_of_the_same_api():
    source = """
    import os

    if os.environ.get("USE_TF_KERAS"):
        from tensorflow.keras import layers
    else:
        from keras import layers

    def block(x):
        x = layers.Conv2D(8, 3, data_format="channels_first")(x)
        return layers.BatchNormalization()(x)
    """
    assert findings(source, "BN001") == [("BN001", 11, 12, "error")]
