"""The package's layering: a module may import its own layer and the layers below it, never above.

`LAYERS` is the single source of truth (bottom → top); ``docs/architecture.md`` repeats it between
``<!-- layers:begin -->`` and ``<!-- layers:end -->`` and a test keeps the two identical. Every
module of ``src/cascadekit`` must fall in a layer, so a new package is placed deliberately.

Imports are read with `ast` (no module is imported): every ``import x`` and ``from x import y``
anywhere in a module (functions included), relative imports resolved, except those under
``if TYPE_CHECKING:``. ``importlib.import_module("cascadekit....")`` with a literal name counts too.
The package root ``cascadekit/__init__.py`` (the public API) may import anything; inside the
package nothing may take names from the root except ``__version__`` (``from cascadekit import X``
is allowed for X a module of a layer at or below the importer's, and a bare ``import cascadekit``
may only be used as ``cascadekit.__version__`` or ``cascadekit.<such module>``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = "cascadekit"
REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
PACKAGE = SRC / ROOT
DOC = REPO / "docs" / "architecture.md"

# (layer name, module prefixes relative to the package), bottom → top. A prefix covers the module
# of that name and everything below it ("data" covers data/formats/*, data/splits, ...).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("errors", "options", "parallel")),
    ("data", ("data",)),
    ("datasets", ("datasets",)),
    ("metrics", ("metrics",)),
    ("primitives", ("simulate", "graph", "features", "nn")),
    ("training", ("training",)),
    ("models", ("models",)),
    ("tasks", ("tasks",)),
    ("orchestration", ("registry", "runs", "pipeline")),
    ("presentation", ("report", "demos")),
    ("cli", ("cli",)),
]
# prefixes placed ahead of their code: they need not exist yet
FUTURE = {"features", "nn"}
ALLOWED_ROOT_NAMES = {"__version__"}
BARE = "<module>"  # Edge.name of a use of the root module object itself

Layers = Sequence[tuple[str, Sequence[str]]]


# ------------------------------------------------------------------------------------------------
# the checker (pure functions of a module set and a layer table; self-tested below)


@dataclass(frozen=True)
class Edge:
    """``source`` (dotted module) imports ``target`` at ``path:line``. ``target == ROOT`` means a
    name taken from the package root; ``name`` is that name ("*" for a star import, `BARE` for a
    use of the root module object itself)."""

    source: str
    target: str
    path: str
    line: int
    name: str | None = None


def layer_index(module: str, layers: Layers) -> int | None:
    """The layer of dotted ``module`` (``cascadekit.a.b``) by its longest matching prefix."""
    if module == ROOT or not module.startswith(ROOT + "."):
        return None
    rel = module[len(ROOT) + 1 :]
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for i, (_, prefixes) in enumerate(layers):
        for prefix in prefixes:
            if rel == prefix or rel.startswith(prefix + "."):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), i)
    return None if best is None else best[1]


def _layer_label(i: int, layers: Layers) -> str:
    return f"layer {i} {layers[i][0]}"


def check_edges(edges: Iterable[Edge], layers: Layers) -> list[str]:
    """Every violation, as ``path:LINE imports cascadekit.b (layer X → layer Y)`` and the like:
    upward edges, names taken from the package root, imports of modules in no layer. The package
    root itself is exempt. Same-layer and downward edges are allowed."""
    problems = []
    for e in sorted(edges, key=lambda e: (e.path, e.line, e.target, e.name or "")):
        if e.source == ROOT:
            continue
        where = f"{e.path}:{e.line}"
        src = layer_index(e.source, layers)
        if src is None:
            problems.append(f"{where}: {e.source} is in no layer of the table")
            continue
        if e.target == ROOT:
            if e.name not in ALLOWED_ROOT_NAMES:
                only = f"only {', '.join(sorted(ALLOWED_ROOT_NAMES))} may be taken from it"
                if e.name == BARE:
                    problems.append(f"{where} uses the package root module {ROOT} itself ({only})")
                else:
                    problems.append(
                        f"{where} imports {ROOT}.{e.name} from the package root ({only})"
                    )
            continue
        dst = layer_index(e.target, layers)
        if dst is None:
            problems.append(f"{where} imports {e.target} (in no layer of the table)")
        elif dst > src:
            problems.append(
                f"{where} imports {e.target} "
                f"({_layer_label(src, layers)} → {_layer_label(dst, layers)})"
            )
    return problems


def module_name(path: Path, src: Path = SRC) -> str:
    """``src/cascadekit/a/b.py`` → ``cascadekit.a.b``; a package's ``__init__.py`` → the package."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def discover(package: Path = PACKAGE, src: Path = SRC) -> dict[str, Path]:
    """Dotted module name → file, for every ``.py`` file under ``package``."""
    return {module_name(p, src): p for p in sorted(package.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterable[ast.AST]:
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` (their ``else`` runs)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend([node.test, *node.orelse])
            continue
        stack.extend(ast.iter_child_nodes(node))


def _resolve_from(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute module of ``from <'.' * level><target> import ...`` inside ``module``."""
    if level == 0:
        return target or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]  # the package the module lives in
    if level - 1 > len(parts) - 1:
        raise ValueError(f"{module}: relative import beyond the top-level package")
    parts = parts[: len(parts) - (level - 1)]
    return ".".join(parts + ([target] if target else []))


def _root_target(attrs: Sequence[str], modules: set[str]) -> tuple[str, str | None]:
    """(target, name) of ``cascadekit.<attrs...>``: the longest known module along the chain,
    else the root with the first attribute as the name taken from it."""
    for k in range(len(attrs), 0, -1):
        dotted = ".".join([ROOT, *attrs[:k]])
        if dotted in modules:
            return dotted, None
    return ROOT, attrs[0] if attrs else BARE


def collect_edges(
    module: str, source: str, path: str, modules: set[str], *, is_package: bool = False
) -> list[Edge]:
    """Every import of a ``cascadekit`` module or root name made by ``module`` (its ``source``).
    ``modules``: the dotted names of the package's modules (decides whether ``from a import b``
    imports module ``a.b`` or name ``b`` of ``a``)."""
    tree = ast.parse(source, filename=path)
    edges: list[Edge] = []
    root_aliases: set[str] = set()  # names bound to the root module by a bare ``import cascadekit``

    def add(target: str, line: int, name: str | None = None) -> None:
        if target == ROOT or target.startswith(ROOT + "."):
            edges.append(Edge(module, target, path, line, name))

    nodes = list(_runtime_nodes(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == ROOT:
                    root_aliases.add(alias.asname or ROOT)  # its uses are checked below
                else:
                    add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_from(module, is_package, node.level, node.module)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                if alias.name != "*" and candidate in modules:
                    add(candidate, node.lineno)
                elif base == ROOT:
                    add(ROOT, node.lineno, alias.name)
                else:
                    add(base, node.lineno)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and not node.args[0].value.startswith(".")
        ):
            name = node.args[0].value
            if name == ROOT:
                add(ROOT, node.lineno, BARE)
            else:
                add(name, node.lineno)

    if root_aliases:
        parents = {child: parent for parent in nodes for child in ast.iter_child_nodes(parent)}
        for node in nodes:
            if not (isinstance(node, ast.Name) and node.id in root_aliases):
                continue
            if not isinstance(node.ctx, ast.Load):
                continue
            attrs: list[str] = []
            cur: ast.AST = node
            parent = parents.get(cur)
            while isinstance(parent, ast.Attribute) and parent.value is cur:
                attrs.append(parent.attr)
                cur, parent = parent, parents.get(parent)
            if (
                not attrs
                and isinstance(parent, ast.Call)
                and isinstance(parent.func, ast.Name)
                and parent.func.id in ("getattr", "hasattr")
                and len(parent.args) >= 2
                and parent.args[0] is node
                and isinstance(parent.args[1], ast.Constant)
                and isinstance(parent.args[1].value, str)
            ):
                attrs = [parent.args[1].value]
            target, name = _root_target(attrs, modules)
            add(target, node.lineno, name)
    return sorted(edges, key=lambda e: (e.line, e.target, e.name or ""))


def tree_edges(package: Path = PACKAGE, src: Path = SRC) -> list[Edge]:
    files = discover(package, src)
    modules = set(files)
    edges = []
    for module, path in files.items():
        rel = path.relative_to(src.parent).as_posix()
        edges += collect_edges(
            module, path.read_text(encoding="utf-8"), rel, modules,
            is_package=path.name == "__init__.py",
        )  # fmt: skip
    return edges


def uncovered_modules(files: dict[str, Path], layers: Layers) -> list[Path]:
    """The files of modules in no layer (the package root is exempt)."""
    return [p for m, p in files.items() if m != ROOT and layer_index(m, layers) is None]


def doc_layers(text: str) -> list[tuple[int, str, tuple[str, ...]]]:
    """(number, name, module prefixes) of each row of the markdown table between the markers;
    the modules column (third) lists the prefixes as `code` spans."""
    match = re.search(r"<!-- layers:begin -->(.*?)<!-- layers:end -->", text, re.S)
    assert match, "docs/architecture.md has no <!-- layers:begin --> … <!-- layers:end --> block"
    rows = [line.strip() for line in match.group(1).splitlines() if line.strip().startswith("|")]
    assert len(rows) >= 2, "the layers block holds no markdown table"
    out = []
    for row in rows[2:]:  # header, separator
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) >= 3, f"layer row with fewer than 3 columns: {row}"
        number, name, mods = cells[0], cells[1].strip("* "), cells[2]
        out.append((int(number), name, tuple(re.findall(r"`([^`]+)`", mods))))
    return out


# ------------------------------------------------------------------------------------------------
# the current tree


def test_no_upward_imports() -> None:
    problems = check_edges(tree_edges(), LAYERS)
    assert not problems, "layering violations:\n" + "\n".join(problems)


def test_every_module_is_in_a_layer() -> None:
    uncovered = [p.relative_to(REPO).as_posix() for p in uncovered_modules(discover(), LAYERS)]
    assert not uncovered, (
        "modules in no layer (place them in tests/test_layers.py:LAYERS and "
        "docs/architecture.md):\n" + "\n".join(uncovered)
    )


def test_layer_table_is_well_formed() -> None:
    prefixes = [p for _, ps in LAYERS for p in ps]
    assert len(prefixes) == len(set(prefixes)), "a prefix is listed in two layers"
    names = [name for name, _ in LAYERS]
    assert len(names) == len(set(names)), "two layers share a name"
    assert FUTURE <= set(prefixes)
    modules = set(discover())
    stale = [
        p
        for p in prefixes
        if p not in FUTURE
        and not any(m == f"{ROOT}.{p}" or m.startswith(f"{ROOT}.{p}.") for m in modules)
    ]
    assert not stale, f"layer table entries with no module (remove them or mark FUTURE): {stale}"


def test_docs_layer_table_matches() -> None:
    documented = doc_layers(DOC.read_text(encoding="utf-8"))
    expected = [(i, name, tuple(prefixes)) for i, (name, prefixes) in enumerate(LAYERS)]
    assert documented == expected


# ------------------------------------------------------------------------------------------------
# the checker itself, on synthetic modules

FAKE_LAYERS = [("low", ("base", "util")), ("mid", ("core",)), ("high", ("app",))]
FAKE_MODULES = {
    "cascadekit",
    "cascadekit.base",
    "cascadekit.util",
    "cascadekit.core",
    "cascadekit.core.engine",
    "cascadekit.core.parts",
    "cascadekit.app",
}


def _fake_edges(module: str, source: str, *, is_package: bool = False) -> list[Edge]:
    return collect_edges(
        module, source, module.replace(".", "/") + ".py", FAKE_MODULES, is_package=is_package
    )


def test_checker_flags_exactly_the_upward_edges() -> None:
    edges = [
        Edge("cascadekit.base", "cascadekit.util", "cascadekit/base.py", 1),  # same layer
        Edge("cascadekit.core", "cascadekit.base", "cascadekit/core.py", 2),  # down
        Edge("cascadekit.base", "cascadekit.core.engine", "cascadekit/base.py", 3),  # up
        Edge("cascadekit.core", "cascadekit.app", "cascadekit/core.py", 4),  # up
        Edge("cascadekit.app", "cascadekit.base", "cascadekit/app.py", 5),  # down
        Edge("cascadekit", "cascadekit.app", "cascadekit/__init__.py", 6),  # root: exempt
        Edge("cascadekit.app", "cascadekit.nowhere", "cascadekit/app.py", 7),  # no layer
        Edge("cascadekit.stray", "cascadekit.base", "cascadekit/stray.py", 8),  # no layer
    ]
    assert check_edges(edges, FAKE_LAYERS) == [
        "cascadekit/app.py:7 imports cascadekit.nowhere (in no layer of the table)",
        "cascadekit/base.py:3 imports cascadekit.core.engine (layer 0 low → layer 1 mid)",
        "cascadekit/core.py:4 imports cascadekit.app (layer 1 mid → layer 2 high)",
        "cascadekit/stray.py:8: cascadekit.stray is in no layer of the table",
    ]


def test_layer_index_matches_whole_components() -> None:
    layers = [("a", ("data",)), ("b", ("datasets",)), ("c", ("data.extra",))]
    assert layer_index("cascadekit.data", layers) == 0
    assert layer_index("cascadekit.data.splits", layers) == 0
    assert layer_index("cascadekit.datasets", layers) == 1  # not "data" + "sets"
    assert layer_index("cascadekit.data.extra.x", layers) == 2  # longest prefix wins
    assert layer_index("cascadekit", layers) is None
    assert layer_index("numpy", layers) is None


def test_collector_reads_every_kind_of_import() -> None:
    source = """
from __future__ import annotations
import numpy
import cascadekit.core.engine
import cascadekit.app as application
from cascadekit.core import parts, Thing
from typing import TYPE_CHECKING
import typing

if TYPE_CHECKING:
    from cascadekit.app import Hint
    import cascadekit.app
else:
    from cascadekit.util import fallback

if typing.TYPE_CHECKING:
    from cascadekit.app import OtherHint

def later():
    from cascadekit.app import lazy
    import importlib
    return importlib.import_module("cascadekit.core.parts")

class K:
    def method(self):
        import cascadekit.util
"""
    edges = _fake_edges("cascadekit.base", source)
    assert [(e.target, e.line) for e in edges] == [
        ("cascadekit.core.engine", 4),
        ("cascadekit.app", 5),
        ("cascadekit.core", 6),  # a name: the edge goes to the module holding it
        ("cascadekit.core.parts", 6),  # a module: the edge goes to it
        ("cascadekit.util", 14),  # the else branch of TYPE_CHECKING runs
        ("cascadekit.app", 20),  # imports inside functions count
        ("cascadekit.core.parts", 22),  # import_module with a literal name
        ("cascadekit.util", 26),
    ]
    problems = check_edges(edges, FAKE_LAYERS)
    assert problems == [
        "cascadekit/base.py:4 imports cascadekit.core.engine (layer 0 low → layer 1 mid)",
        "cascadekit/base.py:5 imports cascadekit.app (layer 0 low → layer 2 high)",
        "cascadekit/base.py:6 imports cascadekit.core (layer 0 low → layer 1 mid)",
        "cascadekit/base.py:6 imports cascadekit.core.parts (layer 0 low → layer 1 mid)",
        "cascadekit/base.py:20 imports cascadekit.app (layer 0 low → layer 2 high)",
        "cascadekit/base.py:22 imports cascadekit.core.parts (layer 0 low → layer 1 mid)",
    ]


def test_collector_resolves_relative_imports() -> None:
    source = """
from . import parts
from .parts import helper
from .. import util
from ..app import main
from ..base import *
"""
    edges = _fake_edges("cascadekit.core.engine", source)
    assert sorted((e.target, e.line) for e in edges) == [
        ("cascadekit.app", 5),
        ("cascadekit.base", 6),
        ("cascadekit.core.parts", 2),
        ("cascadekit.core.parts", 3),
        ("cascadekit.util", 4),
    ]
    # in a package's __init__, "." is the package itself
    init = _fake_edges("cascadekit.core", "from .engine import run\nfrom . import parts\n",
                       is_package=True)  # fmt: skip
    assert sorted((e.target, e.line) for e in init) == [
        ("cascadekit.core.engine", 1),
        ("cascadekit.core.parts", 2),
    ]
    assert check_edges(edges, FAKE_LAYERS) == [
        "cascadekit/core/engine.py:5 imports cascadekit.app (layer 1 mid → layer 2 high)"
    ]
    with pytest.raises(ValueError, match="beyond the top-level package"):
        _fake_edges("cascadekit.base", "from ... import x\n")


def test_root_names_only_version() -> None:
    source = """
from cascadekit import __version__
from cascadekit import util
from cascadekit import app
from cascadekit import Public
from cascadekit import *

def versions():
    import cascadekit
    import cascadekit as ck
    a = cascadekit.__version__
    b = getattr(cascadekit, "__version__", "0")
    c = cascadekit.util.helper
    d = ck.core.engine.run
    e = cascadekit.Public
    return cascadekit
"""
    problems = check_edges(_fake_edges("cascadekit.core.parts", source), FAKE_LAYERS)
    assert problems == [
        "cascadekit/core/parts.py:4 imports cascadekit.app (layer 1 mid → layer 2 high)",
        "cascadekit/core/parts.py:5 imports cascadekit.Public from the package root (only "
        "__version__ may be taken from it)",
        "cascadekit/core/parts.py:6 imports cascadekit.* from the package root (only "
        "__version__ may be taken from it)",
        "cascadekit/core/parts.py:15 imports cascadekit.Public from the package root (only "
        "__version__ may be taken from it)",
        "cascadekit/core/parts.py:16 uses the package root module cascadekit itself (only "
        "__version__ may be taken from it)",
    ]
    # the package root is the public API: it may import anything
    assert check_edges(_fake_edges("cascadekit", source, is_package=True), FAKE_LAYERS) == []


def test_docs_table_parser() -> None:
    text = """
intro
<!-- layers:begin -->
| layer | name | modules | holds |
|---|---|---|---|
| 0 | low | `base`, `util` | basics |
| 1 | **mid** | `core` (future) | the core, see `other` |
<!-- layers:end -->
| 9 | outside | `ignored` | |
"""
    assert doc_layers(text) == [(0, "low", ("base", "util")), (1, "mid", ("core",))]


def test_tree_walk_on_a_package_on_disk(tmp_path: Path) -> None:
    pkg = tmp_path / "src" / ROOT
    files = {
        "__init__.py": "from cascadekit.app import main\n__version__ = '1'\n",
        "base.py": "def f():\n    from cascadekit.core.engine import run\n",
        "core/__init__.py": "from .engine import run\n",
        "core/engine.py": "from cascadekit.base import f\nfrom cascadekit import __version__\n",
        "app.py": "from cascadekit.core import engine\n",
        "stray/__init__.py": "",
    }
    for name, text in files.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(text)
    assert set(discover(pkg, tmp_path / "src")) == {
        "cascadekit", "cascadekit.base", "cascadekit.core", "cascadekit.core.engine",
        "cascadekit.app", "cascadekit.stray",
    }  # fmt: skip
    assert check_edges(tree_edges(pkg, tmp_path / "src"), FAKE_LAYERS) == [
        "src/cascadekit/base.py:2 imports cascadekit.core.engine (layer 0 low → layer 1 mid)"
    ]
    files = discover(pkg, tmp_path / "src")
    assert uncovered_modules(files, FAKE_LAYERS) == [pkg / "stray" / "__init__.py"]
