"""``--fix`` keeps what a file is, keeps every comment, settles what it can and says what it could not."""
from __future__ import annotations

import os
import stat
import sys

import libcst as cst
import pytest
from cliutil import AXIS_MODEL, bnlint, write
from fixutil import fix

from bnlint import fixer
from bnlint.api import fix_file, select_rules
from bnlint.config import Settings
from bnlint.diagnostics import Applicability, Edit, Finding, Fix, Severity
from bnlint.fixer import fix_source
from bnlint.rule import Example, Rule

FIXED_LINE = b"BatchNormalization(axis=1)"


def test_a_symlinked_file_is_fixed_through_the_link(tmp_path):
    target = write(tmp_path / "real" / "model.py", AXIS_MODEL)
    link = tmp_path / "model.py"
    link.symlink_to(target)
    assert bnlint("--fix", "--no-cache", "model.py", cwd=tmp_path).returncode in (0, 1)
    assert link.is_symlink() and FIXED_LINE in target.read_bytes()


def test_hard_links_stay_one_file(tmp_path):
    path = write(tmp_path / "model.py", AXIS_MODEL)
    twin = tmp_path / "twin.txt"
    os.link(path, twin)
    bnlint("--fix", "--no-cache", "model.py", cwd=tmp_path)
    assert os.stat(path).st_ino == os.stat(twin).st_ino and os.stat(path).st_nlink == 2
    assert FIXED_LINE in twin.read_bytes()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file away needs root")
def test_owner_group_and_mode_are_kept(tmp_path):
    path = write(tmp_path / "model.py", AXIS_MODEL)
    os.chown(path, 65534, 65534)
    os.chmod(path, 0o604)
    bnlint("--fix", "--no-cache", "model.py", cwd=tmp_path)
    info = os.stat(path)
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (65534, 65534, 0o604)
    assert FIXED_LINE in path.read_bytes()


NEWER_SYNTAX = ["type Shape = tuple[int, ...]\n"] if sys.version_info < (3, 12) else []


@pytest.mark.parametrize("extra", [*NEWER_SYNTAX, "f(a=1, a=2)\n"])
def test_a_file_this_python_cannot_compile_is_refused_for_what_it_is(extra):
    outcome = fix(AXIS_MODEL + extra, dedent=False)
    assert not outcome.changed
    assert "not valid Python" in outcome.problem and "broken the syntax" not in outcome.problem
    assert all("fix_refused" in d.extra for d in outcome.remaining if d.fix is not None)


def test_cr_only_line_ends_keep_the_final_newline():
    data = AXIS_MODEL.replace("\n", "\r").encode()
    outcome = fix(data)
    assert outcome.changed and outcome.fixed.endswith(b"\r") and b"\n" not in outcome.fixed
    assert FIXED_LINE in outcome.fixed


def test_the_loser_of_a_fix_race_reports_what_is_on_disk_now(tmp_path, monkeypatch):
    path = write(tmp_path / "model.py", AXIS_MODEL)
    real = fixer.fix_source
    fixed_meanwhile = AXIS_MODEL.replace("BatchNormalization()", "BatchNormalization(axis=1)")

    def another_run_wins(*args, **kwargs):
        outcome = real(*args, **kwargs)
        path.write_text(fixed_meanwhile)  # another bnlint --fix wrote first
        return outcome

    monkeypatch.setattr(fixer, "fix_source", another_run_wins)
    outcome = fix_file(path, Settings(), select_rules(Settings()))
    assert "changed on disk" in outcome.problem and path.read_text() == fixed_meanwhile
    assert "BN001" not in [d.code for d in outcome.remaining]


COMMENTED = '''\
from keras import layers


def encoder(inputs):
    c1 = layers.Conv2D(16, 3, padding="same",
                       activation="relu",  # the stem's activation
                       )(inputs)
    p1 = layers.MaxPooling2D()(c1)
    c2 = layers.Conv2D(32, 3, padding="same", activation="relu",  # second stage
                       )(p1)
    p2 = layers.MaxPooling2D()(c2)
    b = layers.Conv2D(64, 3, padding="same")(p2)
    b = layers.BatchNormalization()(b)
    u2 = layers.UpSampling2D()(b)
    d2 = layers.Conv2D(32, 3, padding="same")(layers.Concatenate()([u2, c2]))
    d2 = layers.BatchNormalization()(d2)
    u1 = layers.UpSampling2D()(d2)
    d1 = layers.Conv2D(16, 3, padding="same")(layers.Concatenate()([u1, c1]))
    return layers.BatchNormalization()(d1)
'''


def comments(data: bytes) -> list[str]:
    import io
    import tokenize

    return sorted(t.string for t in tokenize.tokenize(io.BytesIO(data).readline) if t.type == tokenize.COMMENT)


def test_the_comment_on_a_split_out_activation_survives():
    outcome = fix(COMMENTED, dedent=False)
    assert outcome.changed and b'Activation("relu")' in outcome.fixed
    assert comments(outcome.fixed) == comments(COMMENTED.encode())


class _Flip(Rule):
    """Sets momentum to ``to`` on every BN whose momentum is ``when``: two of these undo each other."""

    severity = Severity.WARNING
    fix_safety = "safe"
    doc = "test"
    bad = good = Example("", 0)

    def __init__(self, code: str, when: float | None, to: str) -> None:
        self.code, self.name, self.summary, self.when, self.to = code, f"flip-{code}", "flip", when, to

    def check(self, graph, settings):
        for node in graph.by_op("BatchNormalization"):
            if node.known("momentum") == self.when:
                edit = Edit("set-keyword", node.origin, "momentum", self.to)
                yield Finding(node.origin, "flip", fix=Fix("flip", Applicability.SAFE, (edit,)))


def test_fixes_that_undo_each_other_keep_the_passes_that_settled():
    rules = [*select_rules(Settings()), _Flip("BN801", None, "0.5"), _Flip("BN802", 0.5, "0.7"),
             _Flip("BN803", 0.7, "0.5")]
    outcome = fix_source("model.py", AXIS_MODEL.encode(), Settings(), rules, unsafe=True)
    assert outcome.changed and FIXED_LINE[:-1] in outcome.fixed  # the axis fix settled and was applied
    cst.parse_module(outcome.fixed)
    assert "undo each other" in outcome.problem
    flips = [d for d in outcome.remaining if d.code in ("BN802", "BN803")]
    assert flips and all("undo each other" in d.extra["fix_refused"] for d in flips)
    again = fix_source("model.py", outcome.fixed, Settings(), rules, unsafe=True)
    assert again.fixed in (outcome.fixed, again.fixed) and "undo each other" in (again.problem or "")


FIRST_ITEM_REMOVED = '''\
from tensorflow.keras import layers
from tensorflow import keras


model = keras.Sequential([
    layers.Dropout(0.5),  # regularise early
    layers.BatchNormalization(scale=False),
    layers.Dropout(rate=0.3),  # and late
    layers.MaxPooling2D(),
    layers.Dense(8, activation="relu"),  # head
])
'''


def test_the_comment_of_a_removed_first_list_item_survives():
    outcome = fix(FIRST_ITEM_REMOVED, dedent=False)
    assert outcome.changed and b"Dropout(0.5)" not in outcome.fixed
    assert comments(outcome.fixed) == comments(FIRST_ITEM_REMOVED.encode())
