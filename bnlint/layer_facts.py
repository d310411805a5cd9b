"""What the layer graph knows about each BatchNormalization call, for an editor's hover.

The same graph the rules read: the axis the layer normalizes, the channel axis
and data format of the tensor it receives, and its momentum and epsilon as the
frontend resolved them (through helpers, constants and ``**kwargs``). A layer
traced several times (a helper called from many places) shows every use that
differs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from libcst.metadata import MetadataWrapper, PositionProvider

from bnlint.analysis import bn_axis, channel_axis
from bnlint.graph import LayerGraph, LayerNode

KERAS_DEFAULTS = {"axis": -1, "momentum": 0.99, "epsilon": 0.001}


@dataclass
class BNLayerFacts:
    line: int
    column: int  # 1-based, like findings
    end_line: int
    end_column: int
    label: str
    uses: list[dict[str, str]] = field(default_factory=list)  # one entry per distinct traced use

    def markdown(self) -> str:
        lines = [f"**{self.label}** — what bnlint's layer graph knows"]
        for number, use in enumerate(self.uses, start=1):
            if len(self.uses) > 1:
                lines.append(f"\nUse {number} (`{use['model']}`):")
            lines.extend(f"- {key}: {value}" for key, value in use.items() if key != "model")
        return "\n".join(lines)


def bn_layer_facts(syntax: tuple[Any, list[LayerGraph]]) -> list[BNLayerFacts]:
    module, graphs = syntax
    positions = None
    found: dict[int, BNLayerFacts] = {}
    for graph in graphs:
        for node in graph.by_op("BatchNormalization"):
            if node.origin is None:
                continue
            if positions is None:
                positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
            where = positions.get(node.origin)
            if where is None:
                continue
            facts = found.setdefault(id(node.origin), BNLayerFacts(
                where.start.line, where.start.column + 1, where.end.line, where.end.column + 1,
                node.label or "BatchNormalization"))
            use = _use(graph, node)
            if all({k: v for k, v in u.items() if k != "model"} != {k: v for k, v in use.items() if k != "model"}
                   for u in facts.uses):
                facts.uses.append(use)
    return sorted(found.values(), key=lambda f: (f.line, f.column))


def _use(graph: LayerGraph, node: LayerNode) -> dict[str, str]:
    axis = bn_axis(node)
    where = channel_axis(graph, node)
    use = {"model": graph.name, "normalized axis": _value(node, "axis")}
    if where is None:
        use["channel axis of its input"] = "unknown (the input's layout could not be inferred)"
    else:
        verdict = where.holds(axis) if axis is not None else None
        mark = {True: " (matches)", False: " (does not match the normalized axis)", None: ""}[verdict]
        use["channel axis of its input"] = f"{where.index}{mark}, from {where.source.label or where.source.op}"
        use["data format"] = where.data_format.value
        if where.rank is not None:
            use["input rank"] = str(where.rank)
    use["momentum"] = _value(node, "momentum")
    use["epsilon"] = _value(node, "epsilon")
    return use


def _value(node: LayerNode, name: str) -> str:
    value = node.arg(name)
    if value is None:
        if node.unknown_kwargs:
            return "unknown (the call spreads arguments bnlint could not expand)"
        return f"{KERAS_DEFAULTS[name]} (Keras default)"
    if not value.known:
        return f"unknown (`{value.expression}`)"
    shown = repr(value.constant)
    return shown if not value.expression or value.expression == shown else f"{shown} (from `{value.expression}`)"
