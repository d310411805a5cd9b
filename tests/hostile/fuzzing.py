"""Generated Keras model files, their mutations and random Python, and the properties every one must keep.

Shared by the CI fuzz test (a small run) and ``benchmarks/fuzz.py`` (a large one).
Models come in every style bnlint reads (Sequential list, ``model.add``,
functional, helper functions, subclassed layers, U-Net skips) with the
arguments the rules look at and comments on the lines and arguments fixes
touch; mutations damage them (cut, duplicated or swapped lines, stray
brackets, deep nesting, odd line ends); ``hypothesmith`` writes programs the
grammar allows that no person would.
"""
from __future__ import annotations

import io
import re
import time
import tokenize
from collections import Counter
from dataclasses import dataclass, field

import libcst as cst
from hypothesis import strategies as st

from bnlint.api import lint_data, select_rules
from bnlint.config import Settings
from bnlint.fixer import fix_source
from bnlint.frontend import budget

FORMATS = ["", ', data_format="channels_first"', ', data_format="channels_last"']
ACTIVATIONS = ["", ', activation="relu"', ', activation="relu",  # act', ", activation=None"]
BN_ARGS = ["", "axis=1", "axis=-1", "momentum=0.99", "center=False", "scale=False", "axis=3, momentum=0.9"]
COMMENTS = ["", "  # note", "  # BatchNormalization here", "  # noqa"]


@st.composite
def layer(draw: st.DrawFn, spelled: str = "layers.") -> str:
    kind = draw(st.sampled_from(["conv", "bn", "dropout", "act", "dense", "pool"]))
    if kind == "conv":
        return (f"{spelled}Conv2D({draw(st.sampled_from([8, 16, 32]))}, 3{draw(st.sampled_from(FORMATS))}"
                f"{draw(st.sampled_from(ACTIVATIONS))}{draw(st.sampled_from(['', ', use_bias=False']))})")
    if kind == "bn":
        return f"{spelled}BatchNormalization({draw(st.sampled_from(BN_ARGS))})"
    if kind == "dropout":
        return f"{spelled}Dropout({draw(st.sampled_from(['0.1', '0.5', 'rate=0.3']))})"
    if kind == "act":
        return f"{spelled}Activation({draw(st.sampled_from(['relu', 'sigmoid', 'tanh']))!r})"
    if kind == "dense":
        return f"{spelled}Dense({draw(st.sampled_from([8, 64]))}{draw(st.sampled_from(ACTIVATIONS))})"
    return f"{spelled}MaxPooling2D()"


def _comment(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(COMMENTS))


@st.composite
def model_source(draw: st.DrawFn) -> str:
    """One model file in one of the styles bnlint reads."""
    header = draw(st.sampled_from([
        "from keras import layers\nimport keras\n",
        "from tensorflow.keras import layers\nfrom tensorflow import keras\n",
        "import tensorflow as tf\nlayers = tf.keras.layers\nkeras = tf.keras\n",
    ]))
    if draw(st.booleans()):
        header += 'keras.backend.set_image_data_format("channels_first")\n'
    chain = draw(st.lists(layer(), min_size=1, max_size=8))
    style = draw(st.sampled_from(["sequential", "add", "functional", "helper", "subclass", "unet"]))
    if style == "sequential":
        items = "".join(f"    {item},{_comment(draw)}\n" for item in chain)
        body = f"model = keras.Sequential([\n{items}])\n"
    elif style == "add":
        body = "model = keras.Sequential()\n" + "".join(f"model.add({item}){_comment(draw)}\n" for item in chain)
    elif style == "functional":
        lines = "".join(f"    x = {item}(x){_comment(draw)}\n" for item in chain)
        body = f"def build(inputs):\n    x = inputs\n{lines}    return keras.Model(inputs, x)\n"
    elif style == "helper":
        lines = "".join(f"    x = {item}(x){_comment(draw)}\n" for item in chain)
        calls = "".join(f"    x = block(x){_comment(draw)}\n" for _ in range(draw(st.integers(1, 3))))
        body = f"def block(x):\n{lines}    return x\n\n\ndef build(inputs):\n    x = inputs\n{calls}    return x\n"
    elif style == "subclass":
        made = "".join(f"        self.l{i} = {item}{_comment(draw)}\n" for i, item in enumerate(chain))
        used = "".join(f"        x = self.l{i}(x)\n" for i in range(len(chain)))
        body = (f"class Net(keras.Model):\n    def __init__(self):\n        super().__init__()\n{made}\n"
                f"    def call(self, x):\n{used}        return x\n")
    else:
        stage = "".join(f"    c = {item}(c){_comment(draw)}\n" for item in chain)
        body = (f"def build(inputs):\n    c = inputs\n{stage}    skip = c\n    p = layers.MaxPooling2D()(c)\n"
                "    b = layers.Conv2D(32, 3, padding=\"same\")(p)\n    b = layers.BatchNormalization()(b)\n"
                "    u = layers.UpSampling2D()(b)\n    m = layers.Concatenate()([u, skip])\n"
                "    d = layers.Conv2D(16, 3, padding=\"same\")(m)\n    return layers.BatchNormalization()(d)\n")
    return f"{header}\n\n{body}"


@st.composite
def mutated_source(draw: st.DrawFn) -> bytes:
    """A model file damaged the way real files and hostile ones are."""
    text = draw(model_source())
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["cut", "duplicate", "swap", "bracket", "truncate", "nest", "line-ends", "bytes"]))
        at = draw(st.integers(0, max(len(lines) - 1, 0)))
        if how == "cut" and lines:
            del lines[at]
        elif how == "duplicate" and lines:
            lines.insert(at, lines[at])
        elif how == "swap" and len(lines) > 1:
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif how == "bracket":
            lines.insert(at, draw(st.sampled_from(["(", ")", "[", "]]", "{"])) + "\n")
        elif how == "truncate":
            joined = "".join(lines)
            lines = joined[:draw(st.integers(0, len(joined)))].splitlines(keepends=True)
        elif how == "nest":
            depth = draw(st.sampled_from([50, 500, 5000]))
            lines.insert(at, "y = " + "(" * depth + "1" + ")" * depth + "\n")
        elif how == "line-ends":
            newline = draw(st.sampled_from(["\r", "\r\n"]))
            lines = [line.replace("\n", newline) for line in lines]
        else:
            lines.insert(at, draw(st.binary(max_size=20)).decode("latin-1") + "\n")
    return "".join(lines).encode("utf-8", "surrogateescape")


def python_programs() -> st.SearchStrategy[bytes]:
    """Programs ``hypothesmith`` writes from Python's grammar, with a BN import so every rule looks at them."""
    import hypothesmith

    prefix = "from keras.layers import BatchNormalization\n"
    return hypothesmith.from_grammar().map(lambda code: (prefix + code).encode("utf-8", "surrogatepass"))


# ---------------------------------------------------------------------- properties

SETTINGS = Settings()
RULES = select_rules(SETTINGS)
SLACK_SECONDS = 10.0  # past the file budget: one parse and the rules after the last budget check


@dataclass
class Check:
    """What checking one generated file found; ``failures`` is empty when every property held."""

    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def comments(data: bytes) -> Counter[str]:
    """The file's comments, or an empty count when Python's tokenizer cannot read it.

    A fix that removes an argument or list item joins its trailing comment to a
    neighbour's (``# mine  # moved``), so each ``#`` part counts on its own.
    """
    try:
        tokens = [t.string for t in tokenize.tokenize(io.BytesIO(data).readline) if t.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError, ValueError):
        return Counter()
    return Counter(part.rstrip() for token in tokens for part in re.split(r"\s+(?=#)", token))


def check_file(data: bytes) -> Check:
    """Lint and fix ``data`` twice: no exception, the budget held, the fix parses, settles, and keeps comments."""
    check = Check()
    started = time.monotonic()
    try:
        linted = lint_data("generated.py", data, SETTINGS, RULES)
        if any(d.code == "E900" for d in linted.diagnostics) or linted.error:
            check.failures.append(f"internal error while linting: {linted.error}")
        first = fix_source("generated.py", data, SETTINGS, RULES, unsafe=True)
        if first.error:
            check.failures.append(f"internal error while fixing: {first.error}")
        if first.changed:
            try:
                cst.parse_module(first.fixed)
                compile(first.fixed, "generated.py", "exec", dont_inherit=True)
            except Exception as error:  # noqa: BLE001 - any failure to parse is the finding
                check.failures.append(f"fixed text does not parse: {type(error).__name__}: {error}")
            lost = comments(data) - comments(first.fixed)
            if lost:
                check.failures.append(f"comments lost by the fix: {sorted(lost)}")
            second = fix_source("generated.py", first.fixed, SETTINGS, RULES, unsafe=True)
            if second.changed:
                check.failures.append("a second --fix changed the file again")
    except Exception as error:  # noqa: BLE001 - an escaping exception is the failure this checks for
        check.failures.append(f"exception escaped: {type(error).__name__}: {error}")
    check.seconds = time.monotonic() - started
    if check.seconds > 3 * (budget.FILE_SECONDS + SLACK_SECONDS):  # three analyses: lint, fix, fix again
        check.failures.append(f"took {check.seconds:.1f} s, past its budget")
    return check
