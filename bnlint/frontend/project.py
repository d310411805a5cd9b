"""Modules of the linted file's own project, traced like local code.

A U-Net whose ``conv_block`` lives in a sibling ``blocks.py`` is as much the
author's model as one with the block in the same file. So an import that names
a module of the same project (relative, or absolute against the folder that
holds the top package, the file's own folder for a script, or a configured
source root) binds a ``ProjectRef``; when the code calls it, the module is
parsed (once per process, while its file is unchanged), its top level is run
by the same interpreter, and the function or class is traced with the caller's
arguments, in the module's own globals. Nothing is imported or executed.

Cycles (``a`` imports ``b`` imports ``a``) are cut: a module still loading
reads as unknown. What a file's findings depended on is recorded, so the
result cache can tell when an imported module changed.
"""
from __future__ import annotations

import hashlib
import os
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libcst as cst

from bnlint.parsing import parse_module
from bnlint.prefilter import names_bn

MAX_MODULE_BYTES = 2 * 2**20  # a larger module stays opaque: tracing it would cost more than it tells
_KEEP = 32  # parsed modules kept per process: a model imports a few; more only held memory
# A dotted name of plain identifiers: its parts are path components as they stand.
_DOTTED = re.compile(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*", re.ASCII)


@dataclass
class LoadedModule:
    path: Path
    name: str  # dotted module name
    data: bytes = field(repr=False)
    module: cst.Module = field(repr=False)
    globals: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class Project:
    """Where the modules importable from one linted file are, and the ones it used."""

    def __init__(self, path: str | os.PathLike[str], roots: tuple[str, ...] = ()) -> None:
        self.file = Path(os.path.abspath(path))
        self.roots = _import_roots(self.file, roots)
        self.module_name = _module_name(self.file, self.roots)
        self.used: dict[Path, LoadedModule] = {}
        self._exists: dict[str, Path | None] = {}

    def package_of(self, module_name: str, is_package: bool = False) -> str:
        return module_name if is_package else module_name.rpartition(".")[0]

    def absolute(self, relative: str, importer: str, importer_is_package: bool) -> str | None:
        """``..blocks`` imported from module ``importer`` as an absolute dotted name."""
        dots = len(relative) - len(relative.lstrip("."))
        package = self.package_of(importer, importer_is_package).split(".") if importer else []
        if dots - 1 > len(package):
            return None
        base = package[: len(package) - (dots - 1)]
        rest = relative[dots:]
        return ".".join([*base, *([rest] if rest else [])]) or None

    def module_file(self, dotted: str) -> Path | None:
        """The file of project module ``dotted``, or None when it is not one."""
        if dotted in self._exists:
            return self._exists[dotted]
        found = None
        parts = dotted.split(".")
        # Plain identifiers: the joined strings are the paths pathlib would make, at a fraction
        # of the cost (the prefilter and the tracer ask for every prefix of every dotted name).
        plain = _DOTTED.fullmatch(dotted) is not None
        for root in self.roots:
            if plain:
                base = os.path.join(str(root), *parts)
                candidates: tuple[str | Path, ...] = (base + ".py", os.path.join(base, "__init__.py"))
            else:
                base_path = root.joinpath(*parts)  # pathlib's reading of odd names: empty parts, slashes
                candidates = (base_path.with_suffix(".py"), base_path / "__init__.py")
            for candidate in candidates:
                if os.path.isfile(candidate):
                    found = Path(candidate)
                    break
            if found is not None:
                break
        self._exists[dotted] = found
        return found

    def is_project_name(self, dotted: str) -> bool:
        """True when ``dotted`` is a project module or a name inside one."""
        parts = dotted.split(".")
        return any(self.module_file(".".join(parts[:k])) is not None for k in range(len(parts), 0, -1))

    def lookup(self, dotted: str, load: Any) -> Any:
        """The value ``dotted`` names in a project module, loading it with ``load(path, name, data, tree)``."""
        parts = dotted.split(".")
        for k in range(len(parts) - 1, 0, -1):
            path = self.module_file(".".join(parts[:k]))
            if path is None:
                continue
            loaded = self._load(path, ".".join(parts[:k]), load)
            if loaded is None or k != len(parts) - 1:
                return None
            return loaded.globals.get(parts[k])
        return None

    def _load(self, path: Path, name: str, load: Any) -> LoadedModule | None:
        if path == self.file:
            return None  # the linted file itself: its own entries trace it
        try:
            stat = path.stat()
        except OSError:
            return None
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        if key in _OPAQUE:
            return None
        loaded = _PARSED.get(key)
        if loaded is _LOADING:
            return None  # an import cycle: the module is still running its top level
        if loaded is None:
            if stat.st_size > MAX_MODULE_BYTES:
                return None
            try:
                data = path.read_bytes()
                if not names_bn(data):
                    return _opaque(key)  # no BN in it: tracing its code (utilities, I/O) cannot show one
                tree = parse_module(data)
            except (OSError, cst.ParserSyntaxError, UnicodeDecodeError, LookupError, SyntaxError,
                    RecursionError, MemoryError):
                return _opaque(key)
            _PARSED[key] = _LOADING
            try:
                loaded = LoadedModule(path, name, data, tree)
                loaded.globals = load(loaded)
            except Exception:  # noqa: BLE001 - a module that cannot be traced stays opaque
                del _PARSED[key]
                return None
            _PARSED[key] = loaded
            while len(_PARSED) > _KEEP:
                _PARSED.popitem(last=False)
        else:
            _PARSED.move_to_end(key)
        self.used[path] = loaded
        return loaded


# A project module is traced only when its code names a BN layer (``names_bn``): a model's
# blocks do, while the utilities a large package imports everywhere (saving, I/O, ops) do
# not, and tracing those would cost many times the linted file's own analysis.
_LOADING: Any = object()
_PARSED: OrderedDict[tuple[str, int, int], Any] = OrderedDict()
# Modules (as they are now on disk) that stay opaque by their text alone: no BN, or no parse.
# A model file asks for such a utility at every call of it; without this, each ask read it again.
_OPAQUE: OrderedDict[tuple[str, int, int], None] = OrderedDict()
_KEEP_OPAQUE = 4096


def _opaque(key: tuple[str, int, int]) -> None:
    _OPAQUE[key] = None
    while len(_OPAQUE) > _KEEP_OPAQUE:
        _OPAQUE.popitem(last=False)


def _import_roots(file: Path, configured: tuple[str, ...]) -> list[Path]:
    """The folder above the file's top package (its own folder for a script), then configured roots."""
    folder = file.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        folder = folder.parent
    roots = [folder]
    roots += [Path(os.path.abspath(r)) for r in configured if Path(os.path.abspath(r)) not in roots]
    return roots


def _module_name(file: Path, roots: list[Path]) -> str:
    for root in roots:
        try:
            relative = file.relative_to(root)
        except ValueError:
            continue
        parts = list(relative.with_suffix("").parts)
        if parts and parts[-1] == "__init__":
            parts.pop()
        return ".".join(parts)
    return file.stem


_IMPORT_LINE = re.compile(rb"^[ \t]*(?:from[ \t]+([.\w]+)[ \t]+import[ \t]+([^\n#;]+)|import[ \t]+([^\n#;]+))", re.MULTILINE)
_TEXT: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()


def imports_could_fire(path: str, data: bytes, could_fire: Any) -> bool:
    """True when ``data`` imports a module of its project whose text ``could_fire`` accepts.

    A model file with no ``BatchNormalization`` of its own can still build BN layers through a
    sibling's ``conv_bn_block``; the prefilter must not skip it. The check reads import lines
    with a pattern and the imported files' bytes, never parses: one level deep is enough for
    the block-in-a-sibling layout (a module in the same folder, or a package there, imported
    relatively, or by a script beside it), and it keeps files that import nothing of the kind free.

    It runs on every file no rule token selected, before any pool starts, so what cannot
    qualify is dropped before any path is built: in a package only relative imports count,
    and most files of a package have none; a plain dotted name is looked up only when its
    parts place it beside the file.
    """
    if b"import" not in data or not os.path.isfile(path):
        return False
    in_package = os.path.isfile(os.path.join(os.path.dirname(os.path.abspath(path)), "__init__.py"))
    if in_package and not _has_relative_import(data):
        return False
    project = Project(path)
    package = _case_keys(project.file.parent.relative_to(project.roots[0]).parts)
    for match in _IMPORT_LINE.finditer(data):
        # In a package, only relative imports name the author's own sibling blocks with
        # certainty; absolute ones are traced when the file is linted for its own BN layers.
        if in_package and not (match.group(1) or b"").startswith(b"."):
            continue
        for dotted in _imported_modules(project, match):
            if _DOTTED.fullmatch(dotted) and not _beside(_case_keys(dotted.split(".")), package):
                continue
            module_path = project.module_file(dotted)
            # Siblings only: a block module beside the model. Following every import of a large
            # package (``from keras.src import layers``) would parse nearly every file in it.
            if module_path is not None and module_path != project.file and \
                    module_path.parent in (project.file.parent, project.file.parent / dotted.rsplit(".", 1)[-1]) \
                    and could_fire(_text(module_path)):
                return True
    return False


_FROM_DOT = re.compile(rb"from[ \t]+\.")


def _has_relative_import(data: bytes) -> bool:
    """Whether a line of ``data`` may be a relative import: a search for a literal, many times
    faster than reading every import line."""
    for match in _FROM_DOT.finditer(data):
        line_start = data.rfind(b"\n", 0, match.start()) + 1
        if not data[line_start:match.start()].strip(b" \t"):
            return True
    return False


def _case_keys(parts: tuple[str, ...] | list[str]) -> list[str]:
    """Path parts as the platform compares them (Windows paths ignore case)."""
    return [os.path.normcase(part) for part in parts]


def _beside(parts: list[str], package: list[str]) -> bool:
    """Whether the module at ``parts`` can lie in the file's folder (``package``, from the import
    root) or in the subfolder named like the module: ``module.py`` or ``module/__init__.py``
    there, ``module/module.py``, or the package itself. ``imports_could_fire`` looks no further."""
    return parts[:-1] in (package, package + parts[-1:]) or parts == package


def _imported_modules(project: Project, match: re.Match[bytes]) -> list[str]:
    source, names, plain = match.groups()
    if plain is not None:
        return [n.split()[0] for n in plain.decode("ascii", "replace").replace("\\", "").split(",") if n.strip()]
    module = source.decode("ascii", "replace")
    if module.startswith("."):
        module = project.absolute(module, project.module_name, project.file.name == "__init__.py") or ""
    if not module:
        return []
    found = [module]
    for name in names.decode("ascii", "replace").strip("()\\ \t").split(","):
        name = name.strip().split(" ")[0].strip("()")
        if name.isidentifier():
            found.append(f"{module}.{name}")  # ``from . import blocks``: a submodule
    return found


def _text(path: Path) -> bytes:
    try:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        if key not in _TEXT:
            _TEXT[key] = path.read_bytes() if stat.st_size <= MAX_MODULE_BYTES else b""
            while len(_TEXT) > 4 * _KEEP:
                _TEXT.popitem(last=False)
        return _TEXT[key]
    except OSError:
        return b""
