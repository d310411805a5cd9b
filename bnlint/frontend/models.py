"""Which layers belong to which model: one entry can build several.

A builder function may construct a generator and a discriminator, or a file's
``__main__`` block may build two U-Nets. Their layers land in one entry's
trace, but a rule must judge each model alone ("unlike other stages" means
stages of the same model). A model's layers are those between its inputs and
its outputs: everything upstream of its outputs, not going past its inputs.
"""
from __future__ import annotations

from dataclasses import dataclass

from bnlint.graph import LayerGraph


@dataclass(frozen=True)
class ModelSpan:
    """A model the code builds: ``keras.Model(inputs, outputs)`` or an applied ``Sequential``."""

    name: str
    inputs: frozenset[int]
    outputs: frozenset[int]


def split_by_model(graph: LayerGraph, spans: list[ModelSpan]) -> list[LayerGraph]:
    """One graph per model built in ``graph``'s entry, plus one for layers outside every model.

    An entry that builds one model (or none) stays one graph: nothing to keep apart.
    """
    spans = [s for s in spans if s.outputs]
    if spans and not graph.model:
        graph.model = spans[0].name or graph.name
    if len(spans) < 2:
        return [graph]
    extents = [(span, graph.ancestors(set(span.outputs), stop=span.inputs)) for span in spans]
    # A model applied inside another (a Sequential stem, an encoder) is a block of that
    # model: its outputs are not final, so it is judged as part of the larger one.
    models = [(span, members) for i, (span, members) in enumerate(extents)
              if not any(members < other or members == other and j < i
                         for j, (_, other) in enumerate(extents) if j != i)]
    if len(models) < 2:
        return [graph]
    parts: list[LayerGraph] = []
    covered: set[int] = set()
    names: dict[str, int] = {}
    for span, members in models:
        covered |= members
        names[span.name] = names.get(span.name, 0) + 1
        name = span.name if names[span.name] == 1 else f"{span.name}#{names[span.name]}"
        part = graph.subgraph(name, members, set(span.outputs))
        part.model = span.name or name
        parts.append(part)
    outside = {n.id for n in graph.nodes if n.id not in covered and n.op not in ("Input", "Unknown")}
    if outside:
        members = graph.ancestors(outside)
        rest = graph.subgraph(graph.name, members, graph.outputs & members)
        rest.model = ""  # layers outside every model the code builds
        parts.append(rest)
    return parts
