"""A fast walk over the code-bearing nodes of a LibCST tree, for the frontend's whole-module scans.

``CSTNode.children`` builds each list through LibCST's visitor machinery and yields
every whitespace, comma and parenthesis node too: walking a module that way costs
about as much as parsing it. The scans that look for calls (training facts, BN
calls the interpreter did not reach) need only expressions and statements, so they
read each node type's own fields, skip the formatting ones, and cache which fields
those are per type. LibCST's node classes are never subclassed, so ``type(node) is
cst.Call`` says what ``isinstance`` says without its abstract-base-class check.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import libcst as cst

_FORMATTING = ("whitespace", "lpar", "rpar", "comma", "dot", "equal", "semicolon", "colon", "newline", "indent",
               "leading_lines", "lines_after_decorators", "header", "footer", "star", "operator", "asynchronous")
_FIELDS: dict[tuple[type, bool], tuple[str, ...]] = {}
# Whether a field value's type is a LibCST node. ``isinstance(value, cst.CSTNode)`` goes through
# ``ABCMeta.__instancecheck__`` for every value, and the walks below ask it millions of times.
_IS_NODE: dict[type, bool] = {}


def _fields(node_type: type, formatting: bool) -> tuple[str, ...]:
    names = _FIELDS.get((node_type, formatting))
    if names is None:
        names = _FIELDS[node_type, formatting] = tuple(
            f.name for f in dataclasses.fields(node_type) if formatting or not f.name.startswith(_FORMATTING))
    return names


def _is_node(value_type: type) -> bool:
    known = _IS_NODE.get(value_type)
    if known is None:
        known = _IS_NODE[value_type] = issubclass(value_type, cst.CSTNode)
    return known


def _children(node: cst.CSTNode, formatting: bool) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []
    for name in _fields(type(node), formatting):
        value = getattr(node, name)
        if isinstance(value, (list, tuple)):
            found.extend([item for item in value if _is_node(type(item))])
        elif _is_node(type(value)):
            found.append(value)
    return found


def subnodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The node's children that carry code, in source order."""
    return _children(node, formatting=False)


def all_subnodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    """Every child of the node, formatting included: ``CSTNode.children`` without its visitor."""
    return _children(node, formatting=True)


def calls_in(root: cst.CSTNode, into_lambdas: bool = False) -> Iterator[cst.Call]:
    """Every call under ``root`` (``root`` included), outermost first."""
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        node_type = type(node)
        if node_type is cst.Lambda and not into_lambdas:
            continue
        if node_type is cst.Call:
            yield node
        children = _children(node, formatting=False)
        children.reverse()
        stack.extend(children)


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
