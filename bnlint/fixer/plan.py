"""Turn a rule's edits into concrete changes to the parsed module, in the file's own style.

A rule says *what* to do to the model ("insert BatchNormalization after this
conv"); this module decides *how* the file says it: a new element of a
``Sequential([...])`` list, a new ``model.add(...)`` line, a new
``x = BatchNormalization()(x)`` statement, or a new attribute in ``__init__``
plus its call in ``call``. Every change is keyed by the original node it
applies to; the transformer in ``apply.py`` performs them all in one pass.
A fix whose edits cannot all be planned is refused as a whole, with a reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from bnlint.diagnostics import Edit, Fix
from bnlint.fixer.source import Refused, Source, root_name, walk
from bnlint.fixer.spelling import NewImport, bn_axis, layer_class
from bnlint.frontend.interpreter import POSITIONAL_PARAMETERS
from bnlint.graph import LayerGraph, LayerNode
from bnlint.ops import Family

_LINEAR = ("None", "'linear'", '"linear"')


@dataclass
class Changes:
    """Changes keyed by ``id()`` of original nodes of the module."""

    keywords: dict[int, list[tuple[str, str, cst.BaseExpression | None]]] = field(default_factory=dict)
    replace: dict[int, cst.CSTNode] = field(default_factory=dict)
    after: dict[int, list[Any]] = field(default_factory=dict)  # statement or list element -> new ones
    remove: set[int] = field(default_factory=set)  # taken out here (a moved layer is added back elsewhere)
    deleted: set[int] = field(default_factory=set)  # statements taken out for good; their comments stay
    imports: list[str] = field(default_factory=list)  # new import statements
    import_names: dict[int, list[str]] = field(default_factory=dict)  # ``from ... import`` -> names to add
    # Arguments taken out whose trailing comment went with them (a split-out ``activation=``).
    moved_comments: set[int] = field(default_factory=set)
    positional: dict[int, dict[str, int]] = field(default_factory=dict)  # keywords a call may pass by position
    # Conflict keys: two fixes that share an exclusive key (or one's exclusive is the other's shared)
    # do not go in the same pass; the later one waits for the next pass.
    exclusive: set[Any] = field(default_factory=set)
    shared: set[Any] = field(default_factory=set)

    def conflicts(self, other: Changes) -> bool:
        return bool(self.exclusive & (other.exclusive | other.shared) or self.shared & other.exclusive)

    def merge(self, other: Changes) -> None:
        for key, items in other.keywords.items():
            self.keywords.setdefault(key, []).extend(items)
        self.replace.update(other.replace)
        for key, items in other.after.items():
            self.after.setdefault(key, []).extend(items)
        self.remove |= other.remove
        self.deleted |= other.deleted
        self.imports.extend(i for i in other.imports if i not in self.imports)
        for key, names in other.import_names.items():
            mine = self.import_names.setdefault(key, [])
            mine.extend(n for n in names if n not in mine)
        self.moved_comments |= other.moved_comments
        for key, slots in other.positional.items():
            self.positional.setdefault(key, {}).update(slots)
        self.exclusive |= other.exclusive
        self.shared |= other.shared

    def empty(self) -> bool:
        return not (self.keywords or self.replace or self.after or self.remove or self.deleted or self.imports
                    or self.import_names)


def plan_fix(src: Source, fix: Fix) -> Changes:
    """The changes that carry out ``fix``; raises Refused when one of its edits cannot be done."""
    changes = Changes()
    for edit in fix.edits:
        handler = _HANDLERS.get(edit.kind)
        if handler is None:
            raise Refused(f"the fixer does not know the edit {edit.kind!r}")
        handler(src, edit, changes)
    return changes


# ------------------------------------------------------------------ keywords

def _set_keyword(src: Source, edit: Edit, changes: Changes) -> None:
    call = edit.target
    if not isinstance(call, cst.Call) or edit.keyword is None or edit.value is None:
        raise Refused("the layer is not constructed by a call the fixer can edit")
    _keyword(src, call, edit.keyword, cst.parse_expression(edit.value), changes)


def _remove_keyword(src: Source, edit: Edit, changes: Changes) -> None:
    call = edit.target
    if not isinstance(call, cst.Call) or edit.keyword is None:
        raise Refused("the layer is not constructed by a call the fixer can edit")
    _keyword(src, call, edit.keyword, None, changes)


def _keyword(src: Source, call: cst.Call, keyword: str, value: cst.BaseExpression | None, changes: Changes) -> None:
    if any(arg.star == "**" for arg in call.args) and not any(_is_kw(a, keyword) for a in call.args):
        if value is not None:
            raise Refused(f"the call spreads **kwargs that may already set {keyword}=")
    changes.keywords.setdefault(id(call), []).append(("set" if value is not None else "remove", keyword, value))
    index = positional_index(src, call, keyword)
    if index is not None:
        changes.positional.setdefault(id(call), {})[keyword] = index
    changes.exclusive.add(("kw", id(call), keyword))
    changes.shared.add(id(call))


def _is_kw(arg: cst.Arg, keyword: str) -> bool:
    return arg.keyword is not None and arg.keyword.value == keyword


def positional_index(src: Source, call: cst.Call, keyword: str) -> int | None:
    """Where ``keyword`` sits among the positional parameters of the layer ``call`` constructs."""
    for _, node in src.nodes_for(call):
        names = POSITIONAL_PARAMETERS.get(node.op, ())
        if keyword in names:
            return names.index(keyword)
    return None


# ------------------------------------------------------------------ inserting layers

@dataclass
class _Site:
    """Where and how a layer is applied."""

    kind: str  # element | add | assign | attribute
    node: cst.CSTNode  # the list element or the statement
    target: str = ""  # assign/attribute: the name bound to the output
    receiver: str = ""  # add: the model expression
    definition: cst.CSTNode | None = None  # attribute: the statement that constructs the layer object
    owner: str = ""  # attribute: how the layer object is spelled (``self.conv1``)


def _sites(src: Source, origin: Any, what: str) -> list[tuple[_Site, LayerGraph, LayerNode]]:
    entries = src.nodes_for(origin)
    if not entries:
        raise Refused(f"the {what} is not part of a model the linter traced")
    seen: dict[int, tuple[_Site, LayerGraph, LayerNode]] = {}
    for graph, node in entries:
        if id(node.site) not in seen:
            seen[id(node.site)] = (_site(src, origin, node), graph, node)
    return list(seen.values())


def _site(src: Source, origin: Any, node: LayerNode) -> _Site:
    site = node.site
    if isinstance(site, cst.Element):
        return _Site("element", site)
    if not isinstance(site, cst.SimpleStatementLine) or len(site.body) != 1 or src.block_of(site) is None:
        raise Refused("the layer is applied in a statement the fixer cannot extend")
    small = site.body[0]
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        call = small.value
        if isinstance(call.func, cst.Attribute) and call.func.attr.value == "add" and len(call.args) == 1:
            return _Site("add", site, receiver=src.code(call.func.value))
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name) \
            and isinstance(small.value, cst.Call) and small.value.args and small.value.args[0].keyword is None \
            and small.value.args[0].star == "":
        target = small.targets[0].target.value
        func = small.value.func
        if func is origin:
            return _Site("assign", site, target=target)
        definition = src.statement_of(origin)
        if isinstance(definition, cst.SimpleStatementLine) and len(definition.body) == 1 \
                and isinstance(definition.body[0], cst.Assign) and definition.body[0].value is origin \
                and len(definition.body[0].targets) == 1 and src.block_of(definition) is not None:
            owner = src.code(definition.body[0].targets[0].target)
            if owner == src.code(func):
                return _Site("attribute", site, target=target, definition=definition, owner=owner)
    raise Refused("the layer's output is not bound to a plain name (x = Layer(...)(x)) the fixer can extend")


@dataclass
class _NewLayer:
    """A layer the fixer adds: its source in the file's spelling, and the comment that goes with it."""

    code: str
    suffix: str  # of a new attribute's name in a subclassed model (``conv1_bn``)
    comment: cst.Comment | None = None  # a split-out argument's trailing comment moves with it
    comment_of: cst.Arg | None = None  # that argument, whose comment then stays out of the call


def _activation_argument(src: Source, call: cst.Call) -> cst.Arg | None:
    """The ``activation=`` argument to split out of ``call``; None when there is no activation to split.

    Refused when the activation is passed by position before other positional
    arguments: they would need to become keywords to drop it.
    """
    if any(node.family is Family.ACTIVATION for _, node in src.nodes_for(call)):
        return None  # ``Activation("relu")`` is the activation itself: nothing to split out of it
    for arg in call.args:
        if _is_kw(arg, "activation"):
            return None if src.code(arg.value) in _LINEAR else arg
    slot = positional_index(src, call, "activation")
    positional = [a for a in call.args if a.keyword is None and a.star == ""]
    if slot is not None and len(positional) > slot:
        if src.code(positional[slot].value) in _LINEAR:
            return None
        if slot != len(positional) - 1:
            raise Refused("the activation is passed by position, before other positional arguments")
        return positional[slot]  # the last positional argument (``Dense(64, "relu")``) can go
    if any(arg.star for arg in call.args):
        raise Refused("the call spreads arguments that may set its activation")
    return None


def _split_out(src: Source, call: cst.Call, changes: Changes) -> _NewLayer | None:
    """Take ``activation=`` out of ``call``: the ``Activation`` layer that replaces it (None: nothing to split)."""
    arg = _activation_argument(src, call)
    if arg is None:
        return None
    spelled, imported = layer_class(src, "Activation")
    need_import(changes, imported)
    _keyword(src, call, "activation", None, changes)
    value = arg.value.evaluated_value if isinstance(arg.value, cst.SimpleString) else None
    name = _derived_name(src, call, value if isinstance(value, str) and value.isidentifier() else "act")
    named = f", {name}" if name else ""
    return _NewLayer(f"{spelled}({src.code(arg.value)}{named})", "act", trailing_comment(arg), arg)


def _derived_name(src: Source, call: cst.Call, suffix: str) -> str | None:
    """``name="block1_conv1_bn"`` for a layer added next to ``Conv2D(..., name="block1_conv1")``, in its spelling.

    None when the layer has no literal name, or the new one is already written in the file.
    """
    arg = next((a for a in call.args if _is_kw(a, "name")), None)
    if arg is None or not isinstance(arg.value, cst.SimpleString) or not isinstance(arg.value.evaluated_value, str):
        return None
    literal = arg.value
    new = f"{literal.evaluated_value}_{suffix}"
    if not new.isidentifier() or new in src.strings():
        return None
    src.reserved_strings.add(new)
    equal = src.code(arg.equal) if isinstance(arg.equal, cst.AssignEqual) else "="
    return f"name{equal}{literal.prefix}{literal.quote}{new}{literal.quote}"


def trailing_comment(arg: cst.Arg) -> cst.Comment | None:
    """The comment at the end of the line an argument ends (``activation="relu",  # why``)."""
    ws = arg.comma.whitespace_after if isinstance(arg.comma, cst.Comma) else arg.whitespace_after_arg
    return ws.first_line.comment if isinstance(ws, cst.ParenthesizedWhitespace) else None


def _insert_after(src: Source, edit: Edit, changes: Changes) -> None:
    """A new layer right after the target layer: before its activation (split out) or after it."""
    origin = edit.target
    if not isinstance(origin, cst.Call) or not edit.value:
        raise Refused("the layer is not constructed by a call the fixer can edit")
    new_layer = cst.parse_expression(edit.value)
    if not isinstance(new_layer, cst.Call) or not isinstance(new_layer.func, cst.Name):
        raise Refused("the inserted layer is not a plain class call")
    if new_layer.func.value == "BatchNormalization" and not any(a.keyword is not None for a in new_layer.args):
        axis = bn_axis(src, origin)
        if axis is not None:
            new_layer = new_layer.with_changes(args=[cst.Arg(cst.parse_expression(axis), keyword=cst.Name("axis"),
                                                             equal=cst.AssignEqual(cst.SimpleWhitespace(""),
                                                                                   cst.SimpleWhitespace("")))])
    spelled, imported = layer_class(src, new_layer.func.value)
    need_import(changes, imported)
    suffix = "bn" if new_layer.func.value == "BatchNormalization" else new_layer.func.value.lower()
    code = _with_class(src, new_layer, spelled)
    name = None if any(_is_kw(a, "name") for a in new_layer.args) else _derived_name(src, origin, suffix)
    if name:
        code = f"{code[:-1]}{', ' if new_layer.args else ''}{name})"
    layers = [_NewLayer(code, suffix)]
    if edit.placement == "before-activation":
        activation = _split_out(src, origin, changes)
        if activation is not None:
            layers.append(activation)
    elif edit.placement != "after-activation":
        raise Refused(f"the fixer does not know the placement {edit.placement!r}")
    _add_layers(src, origin, layers, changes)


def _split_activation(src: Source, edit: Edit, changes: Changes) -> None:
    """``activation=`` out of the target layer into an ``Activation`` layer after it, or after ``anchor``."""
    origin = edit.target
    if not isinstance(origin, cst.Call):
        raise Refused("the layer is not constructed by a call the fixer can edit")
    at, named_after = origin, None
    if edit.anchor is not None and edit.anchor is not origin:
        at = edit.anchor
        (site, _, _), (anchor, _, _) = _one_site(src, origin, "layer"), _one_site(src, at, "layer after it")
        named_after = site.owner or None  # ``self.conv1_act``: still the conv's activation
        if site.kind == "element" and anchor.kind == "element":
            if src.parent(site.node) is not src.parent(anchor.node):
                raise Refused("the layers are in different lists")
        elif site.kind == "element" or anchor.kind == "element" or src.block_of(site.node) is not src.block_of(
                anchor.node):
            raise Refused("the layers are applied in different functions or blocks")
    activation = _split_out(src, origin, changes)
    if activation is not None:
        _add_layers(src, at, [activation], changes, named_after)


def _one_site(src: Source, origin: Any, what: str) -> tuple[_Site, LayerGraph, LayerNode]:
    sites = _sites(src, origin, what)
    if len(sites) != 1:
        raise Refused("the layers are applied in more than one place")
    return sites[0]


def need_import(changes: Changes, imported: NewImport | None) -> None:
    """Record an import the new code needs, once however many edits need it."""
    if imported is None:
        return
    if imported.extend is not None:
        names = changes.import_names.setdefault(id(imported.extend), [])
        if imported.name not in names:
            names.append(imported.name)
        changes.shared.add(("import", id(imported.extend)))
    elif imported.statement not in changes.imports:
        changes.imports.append(imported.statement)


def _with_class(src: Source, call: cst.Call, spelled: str) -> str:
    return spelled + src.module.code_for_node(call)[len(call.func.value):]


def _add_layers(src: Source, origin: cst.Call, layers: list[_NewLayer], changes: Changes,
                named_after: str | None = None) -> None:
    """The new layers, in order, right after each place ``origin``'s layer is applied, in that place's style.

    In a subclassed model the new attributes are named after ``named_after`` (``self.conv1``),
    else after the layer they follow.
    """
    sites = _sites(src, origin, "layer")
    if len(sites) > 1 and any(s.kind == "attribute" for s, _, _ in sites):
        raise Refused("the layer object is applied in several places; a new layer after it would be shared")
    for site, _, _ in sites:
        if site.kind == "element":
            # A comment cannot follow the last element of a list without a trailing comma: it stays in the call.
            listed = src.parent(site.node)
            closing = isinstance(listed, (cst.List, cst.Tuple)) and site.node is listed.elements[-1] \
                and not isinstance(site.node.comma, cst.Comma)
            new = [_element(layer, None if closing else layer.comment) for layer in layers]
            placed = [layer for layer in layers if not closing]
        elif site.kind == "add":
            new = [_statement(src, f"{site.receiver}.add({layer.code})", layer.comment) for layer in layers]
            placed = layers
        elif site.kind == "assign":
            new = [_statement(src, f"{site.target} = {layer.code}({site.target})", layer.comment) for layer in layers]
            placed = layers
        else:
            base = site.owner.rsplit(".", 1)
            prefix = base[0] + "." if len(base) == 2 else ""
            stem = (named_after or site.owner).rsplit(".", 1)[-1]
            attribute_names = [_fresh_attribute(src, site.definition, stem, layer.suffix) for layer in layers]
            definitions = [_statement(src, f"{prefix}{name} = {layer.code}", layer.comment)
                           for name, layer in zip(attribute_names, layers)]
            changes.after.setdefault(id(site.definition), []).extend(definitions)
            changes.exclusive.add(("after", id(site.definition)))
            new = [_statement(src, f"{site.target} = {prefix}{name}({site.target})") for name in attribute_names]
            placed = layers
        for layer in placed:
            if layer.comment is not None and layer.comment_of is not None:
                changes.moved_comments.add(id(layer.comment_of))
        changes.after.setdefault(id(site.node), []).extend(new)
        changes.exclusive.add(("after", id(site.node)))


def _element(layer: _NewLayer, comment: cst.Comment | None) -> cst.Element:
    element = cst.Element(cst.parse_expression(layer.code))
    if comment is None:
        return element
    # The comma's line end carries the comment; the list's rebuild keeps it on the new element's line.
    return element.with_changes(comma=cst.Comma(whitespace_after=cst.ParenthesizedWhitespace(
        first_line=cst.TrailingWhitespace(whitespace=cst.SimpleWhitespace("  "), comment=comment))))


def _fresh_attribute(src: Source, definition: cst.CSTNode, base: str, suffix: str) -> str:
    return src.fresh_name(f"{base}_{suffix}")


def _statement(src: Source, code: str, comment: cst.Comment | None = None) -> cst.BaseStatement:
    statement = cst.parse_statement(code + "\n", config=src.module.config_for_parsing)
    if comment is not None and isinstance(statement, cst.SimpleStatementLine):
        statement = statement.with_changes(trailing_whitespace=cst.TrailingWhitespace(
            whitespace=cst.SimpleWhitespace("  "), comment=comment,
            newline=statement.trailing_whitespace.newline))
    return statement


# ------------------------------------------------------------------ moving a layer

def _move_after(src: Source, edit: Edit, changes: Changes) -> None:
    moved = _sites(src, edit.target, "layer to move")
    anchors = _sites(src, edit.anchor, "layer to move it after")
    if len(moved) != 1 or len(anchors) != 1:
        raise Refused("the layers are applied in more than one place")
    (site, graph, node), (anchor, _, _) = moved[0], anchors[0]
    if site.kind == "element" and anchor.kind == "element":
        if src.parent(site.node) is not src.parent(anchor.node):
            raise Refused("the layers are in different lists")
        changes.remove.add(id(site.node))
        changes.after.setdefault(id(anchor.node), []).append(site.node)
    elif site.kind == "add" and anchor.kind == "add":
        if src.block_of(site.node) is not src.block_of(anchor.node):
            raise Refused("the layers are added in different blocks")
        changes.remove.add(id(site.node))
        changes.after.setdefault(id(anchor.node), []).append(site.node.with_changes(leading_lines=_comments(site.node)))
    elif site.kind in ("assign", "attribute") and anchor.kind in ("assign", "attribute"):
        if src.block_of(site.node) is not src.block_of(anchor.node):
            raise Refused("the layers are applied in different functions or blocks")
        assign = site.node.body[0]
        _rewire_output(src, site, graph, node, changes)
        target = cst.Name(anchor.target)
        new_assign = assign.with_changes(
            targets=[assign.targets[0].with_changes(target=target)],
            value=assign.value.with_changes(args=[assign.value.args[0].with_changes(value=target),
                                                  *assign.value.args[1:]]),
        )
        changes.remove.add(id(site.node))
        changes.after.setdefault(id(anchor.node), []).append(
            site.node.with_changes(body=[new_assign], leading_lines=_comments(site.node)))
    else:
        raise Refused("the layers are written in different styles")
    changes.exclusive |= {id(n) for n in walk(site.node)}
    changes.exclusive.add(("after", id(anchor.node)))


def _rewire_output(src: Source, site: _Site, graph: LayerGraph, node: LayerNode, changes: Changes) -> None:
    """``a = Layer(...)(b)`` is going away from here: what read ``a`` must now read ``b``."""
    assign = site.node.body[0]
    source_arg = assign.value.args[0].value
    if site.target == _name(source_arg):
        return
    if not isinstance(source_arg, cst.Name):
        raise Refused("the layer's input is not a plain name")
    if graph.is_output(node):
        # ``out = BN()(x); return keras.Model(inputs, out)``: the model reads ``out``, which no edge records.
        raise Refused("the layer's output is a model output under a name of its own")
    for edge in graph.out_edges(node):
        if not isinstance(edge.origin, cst.Name) or edge.origin.value != site.target:
            raise Refused("the layer's output is used in a way the fixer cannot rewire")
        changes.replace[id(edge.origin)] = source_arg
        changes.exclusive.add(id(edge.origin))


# ------------------------------------------------------------------ removing a layer

def _remove(src: Source, edit: Edit, changes: Changes) -> None:
    """Take a layer out of the model, in whatever style it is written; its comments stay in the file."""
    sites = _sites(src, edit.target, "layer to remove")
    if len(sites) != 1:
        raise Refused("the layer is applied in more than one place")
    site, graph, node = sites[0]
    if site.kind in ("add", "assign", "attribute"):
        block = src.block_of(site.node)
        if block is None or len(block.body) < 2:
            raise Refused("the layer is the only statement of its block")
    if site.kind in ("assign", "attribute"):
        _rewire_output(src, site, graph, node, changes)
    if site.kind == "element":
        changes.remove.add(id(site.node))
    else:
        changes.deleted.add(id(site.node))
    if site.kind == "attribute" and _references(src, site.owner) == 2:  # its definition and this call alone
        block = src.block_of(site.definition)
        if block is not None and len(block.body) > 1:
            changes.deleted.add(id(site.definition))
            changes.exclusive.add(("after", id(site.definition)))
    changes.exclusive |= {id(n) for n in walk(site.node)}
    changes.exclusive.add(("after", id(site.node)))


def _references(src: Source, owner: str) -> int:
    """How many times the file spells the attribute ``owner`` (``self.drop1``)."""
    attribute = owner.rsplit(".", 1)[-1]
    return sum(1 for n in walk(src.module) if isinstance(n, cst.Attribute) and n.attr.value == attribute)


def _comments(stmt: cst.SimpleStatementLine) -> list[cst.EmptyLine]:
    """The comment lines right above a moved statement go with it; blank lines stay where they were."""
    return [line for line in stmt.leading_lines if line.comment is not None]


def _name(expr: cst.CSTNode) -> str | None:
    return expr.value if isinstance(expr, cst.Name) else None


# ------------------------------------------------------------------ retapping a merge argument

def _retap(src: Source, edit: Edit, changes: Changes) -> None:
    skip = edit.target
    anchors = _sites(src, edit.anchor, "BatchNormalization")
    if len(anchors) != 1 or anchors[0][0].kind not in ("assign", "attribute"):
        raise Refused("the BatchNormalization output is not bound to one plain name")
    site, graph, bn = anchors[0]
    merge_stmt = src.statement_of(skip)
    block = src.block_of(site.node)
    if merge_stmt is None or block is None or src.block_of(merge_stmt) is not block:
        raise Refused("the skip connection and the BatchNormalization are in different blocks")
    body = list(block.body)
    start, end = body.index(site.node), body.index(merge_stmt)
    if start >= end:
        raise Refused("the skip connection comes before the BatchNormalization")
    name = site.target
    between = body[start + 1:end]
    if not any(_binds(stmt, name) for stmt in between):
        changes.replace[id(skip)] = cst.Name(name)
        changes.exclusive.add(id(skip))
        return
    # The BN's name is rebound before the merge: give the BN output a name of its own.
    fresh = src.fresh_name(f"{_name(skip)}_bn" if _name(skip) else f"{name}_bn")
    consumers = {id(e.origin) for e in graph.out_edges(bn) if e.origin is not None}
    for stmt in body[start + 1:]:
        loads = [n for n in walk(stmt) if isinstance(n, cst.Name) and n.value == name and not _is_target(src, n)]
        if not isinstance(stmt, cst.SimpleStatementLine) and loads:
            raise Refused(f"{name} is used inside a compound statement after the BatchNormalization")
        for load in loads:
            if id(load) not in consumers:
                raise Refused(f"{name} is read where the fixer cannot tell which tensor it means")
            changes.replace[id(load)] = cst.Name(fresh)
            changes.exclusive.add(id(load))
        if _binds(stmt, name):
            break
    assign = site.node.body[0]
    target = assign.targets[0].target
    changes.replace[id(target)] = cst.Name(fresh)
    changes.exclusive.add(id(target))
    changes.replace[id(skip)] = cst.Name(fresh)
    changes.exclusive.add(id(skip))


def _binds(stmt: cst.CSTNode, name: str) -> bool:
    for node in walk(stmt):
        if isinstance(node, cst.AssignTarget) and any(
                isinstance(n, cst.Name) and n.value == name for n in walk(node.target)):
            return True
        if isinstance(node, (cst.AugAssign, cst.AnnAssign)) and isinstance(node.target, cst.Name) \
                and node.target.value == name:
            return True
        if isinstance(node, (cst.For, cst.CompFor)) and any(
                isinstance(n, cst.Name) and n.value == name for n in walk(node.target)):
            return True
        if isinstance(node, cst.NamedExpr) and isinstance(node.target, cst.Name) and node.target.value == name:
            return True
    return False


def _is_target(src: Source, name: cst.Name) -> bool:
    parent = src.parent(name)
    return isinstance(parent, cst.AssignTarget) or (isinstance(parent, (cst.AugAssign, cst.AnnAssign)) and parent.target is name)


# ------------------------------------------------------------------ replacing a layer's class

def _replace_layer(src: Source, edit: Edit, changes: Changes) -> None:
    """Construct another Keras layer class in the same call (``BatchNormalization()`` -> ``LayerNormalization()``).

    The keywords the new class lacks are the rule's to remove; positional arguments
    after the first are refused, since what each position means depends on the class.
    """
    call = edit.target
    if not isinstance(call, cst.Call) or not edit.value or not isinstance(call.func, (cst.Name, cst.Attribute)):
        raise Refused("the layer is not constructed by a call the fixer can edit")
    last = call.func.value if isinstance(call.func, cst.Name) else call.func.attr.value
    if not last[:1].isupper():
        raise Refused("the layer is built by a function, not by a class the fixer can swap")
    bound = src.top_level_names.get(root_name(call.func) or "")
    if bound != "import" and not (bound is None and src.star_imports_layers):
        raise Refused("the layer's class is not one the file imports from Keras")
    if any(arg.star for arg in call.args):
        raise Refused("the call spreads *args or **kwargs, which may hold arguments the new layer lacks")
    if sum(1 for arg in call.args if arg.keyword is None) > 1:
        raise Refused("the call passes arguments by position after the first, and positions differ between the classes")
    spelled, imported = layer_class(src, edit.value)
    need_import(changes, imported)
    changes.replace[id(call.func)] = cst.parse_expression(spelled)
    changes.exclusive.add(id(call.func))
    changes.shared.add(id(call))


_HANDLERS = {
    "set-keyword": _set_keyword,
    "remove-keyword": _remove_keyword,
    "insert-layer-after": _insert_after,
    "split-activation": _split_activation,
    "move-layer-after": _move_after,
    "retap-argument": _retap,
    "remove-layer": _remove,
    "replace-layer": _replace_layer,
}
