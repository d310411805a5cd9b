"""Static findings against the built model: confirmed, refuted or not built; and what only a build shows.

A static finding and a built layer meet at the source position that constructed
the layer. BN001 is judged by shapes: the built input shape of the BN and the
data format of the nearest upstream layer that has one give the channel axis,
and the finding stands when the normalized axis is another. The topology rules
(BN002, BN003, BN004, BN020) are judged by the tensor flow around the finding:
the finding stands when every static edge it rests on (those touching its line
or a line next to it) is an edge of the built model and the built model feeds
the reported layer into nothing the static graph did not see. An edge into a
layer whose input tensor no recorded layer made (a raw TensorFlow call inside a
subclassed model's ``call``) is left out: the build cannot see it either way.
The other rules report on a layer's arguments: the finding stands when the
built layer got the values the static pass read (Keras's own ``get_config()``),
and falls when it got others; with no argument to compare, by topology.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from bnlint.diagnostics import Diagnostic, Severity
from bnlint.dynamic.built_view import BnApplication, BuiltView
from bnlint.dynamic.static_view import StaticView
from bnlint.rules import BY_CODE

CONFIRMED, REFUTED, NOT_BUILT = "confirmed", "refuted", "not-built"
_SHAPE_RULES = {"BN001"}
_TOPOLOGY_RULES = {"BN002", "BN003", "BN004", "BN020"}


def judge(diagnostics: Iterable[Diagnostic], static: StaticView | None, built: BuiltView,
          device: str) -> list[Diagnostic]:
    """The static diagnostics, each one the build can judge carrying its verdict and reason."""
    judged = []
    for d in diagnostics:
        if not _about_a_layer(d.code):
            judged.append(d)
            continue
        verdict, reason = _verdict(d, static, built)
        extra = {**d.extra, "dynamic_reason": reason, "dynamic_device": device}
        judged.append(replace(d, dynamic=verdict, extra=extra))
    return judged


def _about_a_layer(code: str) -> bool:
    """A static rule's finding (not a file problem, a suppression comment, or a build-only rule)."""
    rule = BY_CODE.get(code)
    return rule is not None and not getattr(rule, "dynamic_only", False)


def _verdict(d: Diagnostic, static: StaticView | None, built: BuiltView) -> tuple[str, str]:
    if built.failed:
        return NOT_BUILT, built.report.get("reason", "")
    anchors = [(d.line, d.column)]
    if static is not None:
        anchors += static.argument_targets.get((d.line, d.column), [])
    layers = [i for line, column in anchors for i in built.built_at(line, column)]
    if not layers:
        return NOT_BUILT, _why_not_built(d.line, built)
    if d.code in _SHAPE_RULES:
        return _axis_verdict([a for i in layers for a in built.bn_applications(i)])
    if d.code not in _TOPOLOGY_RULES and static is not None:
        found = _argument_verdict([n for line, column in anchors for n in static.at(line, column) if not n.implicit],
                                  [built.layers[i] for i in layers])
        if found is not None:
            return found
    return _topology_verdict({line for line, _ in anchors}, static, built)


def _why_not_built(line: int, built: BuiltView) -> str:
    builder = built.builder_around(line)
    if builder is not None and builder["status"] == "not-built":
        return builder["reason"]
    if builder is not None and builder["status"] == "built":
        return f"{builder['name']} was built, but its model does not use this layer"
    if builder is not None and builder["kind"] == "class" and builder["reason"] == "not a keras.Model subclass":
        return f"{builder['name']} is a layer, not a model, and no model the file builds uses it"
    return "no model the file builds uses this layer"


def _axis_verdict(applications: list[BnApplication]) -> tuple[str, str]:
    if not applications:
        return NOT_BUILT, "the layer was built without a known input shape"
    wrong = next((a for a in applications if not a.matches), None)
    if wrong is not None:
        return CONFIRMED, (f"built on {wrong.describe()}: normalizes axis {wrong.axis} (size {wrong.size(wrong.axis)}), "
                           f"the channel axis is {wrong.channel_axis} (size {wrong.size(wrong.channel_axis)})")
    right = applications[0]
    return REFUTED, (f"built on {right.describe()}: axis {right.axis} is the channel axis "
                     f"(size {right.size(right.axis)})")


def _argument_verdict(nodes: list, layers: list[dict]) -> tuple[str, str] | None:
    """Do the built layers hold the argument values the static pass read? None when nothing compares."""
    compared = []
    for node in nodes:
        for name, value in node.args.items():
            if not value.known or not isinstance(value.constant, (int, float, str, bool, tuple, list)):
                continue
            for layer in layers:
                config = layer.get("config", {})
                if name not in config:
                    continue
                if not _same(value.constant, config[name]):
                    return REFUTED, (f"the built {layer['class']} has {name}={config[name]!r}, "
                                     f"the static pass read {value.constant!r}")
                compared.append(f"{name}={config[name]!r}")
    if not compared:
        return None
    return CONFIRMED, f"the built layer has {', '.join(sorted(set(compared)))}, as the static pass read"


def _same(static: object, built: object) -> bool:
    """Equal as Keras means them: ``3`` and ``[3, 3]`` are one kernel size, ``(1,)`` and ``1`` one axis."""
    if isinstance(static, tuple):
        static = list(static)
    if isinstance(built, list) and not isinstance(static, list) and built and all(b == built[0] for b in built):
        built = built[0]
    if isinstance(static, list) and not isinstance(built, list) and static and all(v == static[0] for v in static):
        static = static[0]
    if isinstance(static, float) or isinstance(built, float):
        try:
            return abs(float(static) - float(built)) <= 1e-9 * max(1.0, abs(float(built)))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
    if isinstance(static, str) and isinstance(built, str):
        return static.lower() == built.lower()
    return static == built


def _topology_verdict(lines: set[int], static: StaticView | None, built: BuiltView) -> tuple[str, str]:
    if static is None:
        return NOT_BUILT, "the file does not parse"
    rests_on = static.neighbourhood(lines)
    # An edge into a layer whose input the build could not trace can be neither confirmed nor refuted.
    missing = sorted(e for e in rests_on - built.line_edges if e[1] not in built.untraced_lines)
    if missing:
        a, b = missing[0]
        return REFUTED, f"in the built model no tensor flows from line {a} to line {b}"
    unseen = sorted(e for e in built.line_edges if e[0] in lines and e not in static.line_edges)
    if unseen:
        a, b = unseen[0]
        return REFUTED, f"in the built model line {a} also feeds line {b}, which the static graph does not show"
    return CONFIRMED, (f"the built model has the {len(rests_on)} tensor edges around it that the static graph shows, "
                       "and no other out of it")


def build_only_findings(path: str, static: StaticView | None, built: BuiltView, static_diagnostics: list[Diagnostic],
                        codes: set[str]) -> list[Diagnostic]:
    """BN901-BN904: what only the build shows, for the codes the run selected."""
    found: list[Diagnostic] = []
    if built.failed:
        if "BN904" in codes:
            found.append(_diagnostic("BN904", path, 1, 1, f"dynamic mode could not build this file: "
                                                          f"{built.report.get('reason', '')}"))
        return found
    reported_bn001 = {d.line for d in static_diagnostics if d.code == "BN001"}
    for (line, column), indices in sorted(built.bn_sites().items(), key=lambda item: (item[0][0], item[0][1] or 0)):
        column = column or 1
        layer = built.layers[indices[0]]
        applications = [a for i in indices for a in built.bn_applications(i)]
        nodes = (static.bn_nodes(line, column) or static.bn_nodes(line, None)) if static is not None else []
        if not nodes:
            if "BN903" in codes:
                found.append(_unseen(path, line, column, layer, len(indices), applications))
            continue
        wrong = next((a for a in applications if not a.matches), None)
        if wrong is not None and line not in reported_bn001:
            if "BN901" in codes:
                found.append(_diagnostic("BN901", path, line, column, (
                    f"the built model normalizes axis {wrong.axis} (size {wrong.size(wrong.axis)}) of a "
                    f"{wrong.describe()} tensor; its channel axis is {wrong.channel_axis} "
                    f"(size {wrong.size(wrong.channel_axis)}, data format from {wrong.layout_from})")))
        elif wrong is None and applications and all(n.rank is None for n in nodes) and "BN902" in codes:
            right = applications[0]
            found.append(_diagnostic("BN902", path, line, column, (
                f"static analysis could not infer the rank of this BatchNormalization's input; the build gives "
                f"{right.describe()}, and axis {right.axis} is its channel axis")))
    if "BN904" in codes:
        found += _unbuilt_builders(path, static, built)
    return found


def _unseen(path: str, line: int, column: int, layer: dict, count: int,
            applications: list[BnApplication]) -> Diagnostic:
    shape = f" on {applications[0].describe()}" if applications else ""
    if layer["direct"]:
        what = "this BatchNormalization" if count == 1 else f"these {count} BatchNormalization layers"
        message = f"the build applies {what}{shape}, but the static layer graph has no layer here: no static rule checked it"
    else:
        message = (f"{count} BatchNormalization layer{'s' if count != 1 else ''} built inside "
                   f"{layer['via'] or 'library code'} from this call are not in the static layer graph")
    return _diagnostic("BN903", path, line, column, message)


def _unbuilt_builders(path: str, static: StaticView | None, built: BuiltView) -> list[Diagnostic]:
    """A builder not built whose BN layers no other build reached, at its definition."""
    if static is None:
        return []
    static_bn_lines = {line for (line, _), nodes in static.nodes.items()
                       if any(n.op == "BatchNormalization" for n in nodes)}
    built_lines = {line for line, _ in built.bn_sites()}
    found = []
    for builder in built.builders:
        if builder["status"] != "not-built" or builder["kind"] not in ("function", "class", "entry"):
            continue
        inside = {line for line in static_bn_lines if builder["line"] <= line <= builder["end_line"]}
        if builder["kind"] != "entry" and (not inside or inside & built_lines):
            continue
        line = builder["line"] or 1
        found.append(_diagnostic("BN904", path, line, 1, f"{builder['name']} was not built: {builder['reason']}",
                                 Severity.INFO))
    return found


def _diagnostic(code: str, path: str, line: int, column: int, message: str,
                severity: Severity | None = None) -> Diagnostic:
    rule = BY_CODE[code]
    return Diagnostic(code, rule.name, message, path, line, column, line, column, severity or rule.severity)
