"""A child's report read back in the parent: built layers by source position, and how they connect."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BnApplication:
    """One call of a built BatchNormalization, with what decides whether its axis is right."""

    shape: tuple[int | None, ...]
    axis: int  # the normalized axis, counted from 0
    channel_axis: int
    data_format: str
    layout_from: str  # the layer class whose data format decided it, or "global"

    @property
    def matches(self) -> bool:
        return self.axis == self.channel_axis

    def size(self, axis: int) -> str:
        value = self.shape[axis] if 0 <= axis < len(self.shape) else None
        return "?" if value is None else str(value)

    def describe(self) -> str:
        shape = "(" + ", ".join("None" if d is None else str(d) for d in self.shape) + ")"
        layout = "" if len(self.shape) <= 2 else f" {self.data_format}"
        return f"{shape}{layout}"


class BuiltView:
    def __init__(self, report: dict[str, Any]) -> None:
        self.report = report
        self.layers: list[dict[str, Any]] = report.get("layers", [])
        self.calls: list[dict[str, Any]] = report.get("calls", [])
        self.builders: list[dict[str, Any]] = report.get("builders", [])
        self.calls_of: dict[int, list[dict[str, Any]]] = {}
        for call in self.calls:
            self.calls_of.setdefault(call["layer"], []).append(call)
        self.line_edges: set[tuple[int, int]] = set()
        # Lines of layers that took a tensor no recorded layer made (a raw TensorFlow or
        # ``keras.ops`` call on backend tensors inside a subclassed model): what fed them is unknown.
        self.untraced_lines: set[int] = set()
        for call in self.calls:
            target = self.layers[call["layer"]]["line"]
            for source in call["sources"]:
                if source is None:
                    if target is not None:
                        self.untraced_lines.add(target)
                    continue
                line = self.layers[self.calls[source]["layer"]]["line"]
                if line is not None and target is not None and line != target:
                    self.line_edges.add((line, target))

    @property
    def failed(self) -> bool:
        return self.report.get("status") != "ok"

    def built_at(self, line: int, column: int | None) -> list[int]:
        """Indices of the layers constructed at this position and applied at least once.

        By line and column where both sides know the column; by line alone otherwise,
        or when no layer on the line has that exact column.
        """
        on_line = [i for i, layer in enumerate(self.layers)
                   if layer["line"] == line and i in self.calls_of and self.in_built_model(i)]
        exact = [i for i in on_line if column is not None and self.layers[i]["column"] == column]
        return exact or on_line

    def bn_applications(self, index: int) -> list[BnApplication]:
        layer = self.layers[index]
        found = []
        for call in self.calls_of.get(index, []):
            if "bn" not in layer or not call["input_shapes"]:
                continue
            shape = tuple(call["input_shapes"][0])
            axis = layer["bn"]["axis"]
            axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
            if not isinstance(axis, int) or not shape:
                continue
            rank = len(shape)
            data_format = call.get("data_format", "channels_last")
            channel = 1 if rank > 2 and data_format == "channels_first" else rank - 1
            found.append(BnApplication(shape, axis % rank, channel, data_format, call.get("layout_from", "")))
        return found

    def builder_around(self, line: int) -> dict[str, Any] | None:
        """The innermost function or class of the file that holds this line."""
        holding = [b for b in self.builders if b["kind"] in ("function", "class") and b["line"] <= line <= b["end_line"]]
        return min(holding, key=lambda b: b["end_line"] - b["line"]) if holding else None

    def in_built_model(self, index: int) -> bool:
        """The layer belongs to a model that was built: made at import, or by a builder that succeeded."""
        builder = self.layers[index]["builder"]
        return builder < 0 or builder < len(self.builders) and self.builders[builder]["status"] == "built"

    def bn_sites(self) -> dict[tuple[int, int | None], list[int]]:
        """Applied BN layers of built models, grouped by the position that constructed them."""
        sites: dict[tuple[int, int | None], list[int]] = {}
        for index, layer in enumerate(self.layers):
            if "bn" in layer and layer["line"] is not None and index in self.calls_of and self.in_built_model(index):
                sites.setdefault((layer["line"], layer["column"]), []).append(index)
        return sites
