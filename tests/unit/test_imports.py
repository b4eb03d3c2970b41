"""The package's shape: imports go one way (no cycle), and no file of ``qa_bot/`` is over 300 lines.

The import graph is read from the source, not by importing it: every ``.py`` file under
``qa_bot/`` is parsed with ``ast`` and each ``import`` and ``from ... import`` anywhere in it,
inside functions too (a lazy import still ties the two modules together), becomes an edge to the
``qa_bot`` module it names; relative imports are resolved against the file's package, and
``from . import x`` points at the module ``x`` when there is one. Two kinds of import are left
out: those under ``if TYPE_CHECKING:``, which never run, and the implicit import of a package's
``__init__`` that importing one of its modules triggers (``qa_bot/__init__.py`` loads ``bot.py``
on first use, so counting it would make every module a cycle with the package).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "qa_bot"
MAX_LINES = 300


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement under ``node``, those under ``if TYPE_CHECKING:`` left out."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _imports(ast.Module(body=[other], type_ignores=[]))
        else:
            yield from _imports(child)


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The ``qa_bot`` modules that module ``name`` (the file ``path``) imports.

    Raises:
        AssertionError: it imports a ``qa_bot`` module that does not exist (mypy, told to
            ignore missing imports, would not say so).
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # "from . import errors" names a module; "from .config import Settings" a value.
            targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in known else source
                       for a in node.names]
        for target in targets:
            if target.partition(".")[0] != "qa_bot":
                continue
            assert target in known, f"{path}:{node.lineno} imports {target}, which does not exist"
            if target != name:
                out.add(target)
    return out


def import_graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imported(name, path, set(found)) for name, path in found.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan's algorithm), each
    written as the path of imports that leads back to its first module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_in(graph, group) for group in groups]


def _cycle_in(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A shortest path of imports from the group's first module back to itself."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & group):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    raise AssertionError(f"no cycle in {group}")  # a strongly connected group always has one


def test_the_walker_sees_relative_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    source = ("from __future__ import annotations\nfrom typing import TYPE_CHECKING\n"
              "from .config import Settings\nfrom . import errors\n"
              "if TYPE_CHECKING:\n    from .bot import QaBot\n"
              "def f():\n    from .stores.base import Store\n    import qa_bot.index\n")
    path = tmp_path / "qa_bot" / "sub" / "mod.py"
    path.parent.mkdir(parents=True)
    path.write_text(source.replace("from .", "from .."), encoding="utf-8")
    known = {"qa_bot", "qa_bot.config", "qa_bot.errors", "qa_bot.bot", "qa_bot.stores",
             "qa_bot.stores.base", "qa_bot.index", "qa_bot.sub", "qa_bot.sub.mod"}
    assert imported("qa_bot.sub.mod", path, known) == {
        "qa_bot.config", "qa_bot.errors", "qa_bot.stores.base", "qa_bot.index"}
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"d"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    path.write_text("def f():\n    from ..transcripts import Transcript\n", encoding="utf-8")
    with pytest.raises(AssertionError, match=r"qa_bot\.transcripts, which does not exist"):
        imported("qa_bot.sub.mod", path, known)


def test_the_import_graph_has_no_cycle() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_no_file_in_the_package_is_over_300_lines() -> None:
    lengths = {path.relative_to(PACKAGE.parent).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
               for path in PACKAGE.rglob("*.py")}
    over = {name: n for name, n in sorted(lengths.items()) if n > MAX_LINES}
    assert not over, f"over {MAX_LINES} lines: " + ", ".join(f"{name} ({n})" for name, n in over.items())


# qa_bot/parsers/ in layers: a module imports only from the layers before its own (and
# qa_bot.errors), never the chunker or anything else built on the turns.
PARSER_LAYERS = (("base",), ("lines", "sentences"), ("structure",),
                 ("prose", "labelled", "subtitles", "json_turns"), ("detect",), ("corpus",))


def test_the_parsers_import_only_the_layers_before_their_own() -> None:
    graph = import_graph()
    layer_of = {f"qa_bot.parsers.{m}": n for n, layer in enumerate(PARSER_LAYERS) for m in layer}
    inside = {name for name in graph if name.startswith("qa_bot.parsers.")}
    assert inside == set(layer_of), "every parsers/ module has a layer in PARSER_LAYERS"
    wrong = [f"{name} imports {dep}" for name in sorted(inside) for dep in sorted(graph[name])
             if dep != "qa_bot.errors" and layer_of.get(dep, len(PARSER_LAYERS)) >= layer_of[name]]
    assert not wrong, "\n".join(wrong)
