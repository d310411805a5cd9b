"""A fast walk over the code-bearing nodes of a LibCST tree, for the frontend's whole-module scans.

``CSTNode.children`` builds each list through LibCST's visitor machinery and yields
every whitespace, comma and parenthesis node too: walking a module that way costs
about as much as parsing it. The scans that look for calls (training facts, BN
calls the interpreter did not reach) need only expressions and statements, so they
read each node type's own fields, skip the formatting ones, and cache which fields
those are per type.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import libcst as cst

_FORMATTING = ("whitespace", "lpar", "rpar", "comma", "dot", "equal", "semicolon", "colon", "newline", "indent",
               "leading_lines", "lines_after_decorators", "header", "footer", "star", "operator", "asynchronous")
_FIELDS: dict[tuple[type, bool], tuple[str, ...]] = {}


def _fields(node_type: type, formatting: bool) -> tuple[str, ...]:
    names = _FIELDS.get((node_type, formatting))
    if names is None:
        names = _FIELDS[node_type, formatting] = tuple(
            f.name for f in dataclasses.fields(node_type) if formatting or not f.name.startswith(_FORMATTING))
    return names


def _children(node: cst.CSTNode, formatting: bool) -> Iterator[cst.CSTNode]:
    for name in _fields(type(node), formatting):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item


def subnodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The node's children that carry code, in source order."""
    return _children(node, formatting=False)


def all_subnodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every child of the node, formatting included: ``CSTNode.children`` without its visitor."""
    return _children(node, formatting=True)


def calls_in(root: cst.CSTNode, into_lambdas: bool = False) -> Iterator[cst.Call]:
    """Every call under ``root`` (``root`` included), outermost first."""
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Lambda) and not into_lambdas:
            continue
        if isinstance(node, cst.Call):
            yield node
        stack.extend(reversed(list(subnodes(node))))


def parents_of(root: cst.CSTNode) -> dict[cst.CSTNode, cst.CSTNode]:
    """Each node under ``root`` -> its parent, as LibCST's ``ParentNodeProvider`` gives them."""
    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        for child in all_subnodes(node):
            parents[child] = node
            stack.append(child)
    return parents
