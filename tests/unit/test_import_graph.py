"""The packages' import graph has no cycles, counting every import: module level, inside functions and
in TYPE_CHECKING blocks. A cycle the interpreter never trips over is still one in the design."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "flows", "safety", "storage", "locales")


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(root: Path, path: Path, known: set[str]) -> set[str]:
    """Every module of ours that `path` imports, wherever in the file the import is."""
    me = module_name(root, path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != me and not name.startswith(me + "."):  # a package's own submodules: not a cycle
                found.add(name)
    return found


def import_graph(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    files = [p for pkg in packages if (root / pkg).is_dir() for p in sorted((root / pkg).rglob("*.py"))]
    known = {module_name(root, p) for p in files}
    return {module_name(root, p): imports_of(root, p, known) for p in files}


def cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


def test_the_packages_import_graph_has_no_cycle() -> None:
    graph = import_graph(ROOT)
    assert len(graph) > 100  # the whole code base was read
    assert cycle_in(graph) is None


def test_channels_reach_the_pipeline_only_through_the_values_they_hand_it() -> None:
    """A channel parses and hands over (bot.inbound); it never imports the code that decides for it."""
    graph = import_graph(ROOT)
    deciders = {"bot.app", "bot.pipeline", "bot.handlers", "bot.survivor_step", "bot.scheduler", "bot.dispatcher"}
    for module, imported in graph.items():
        if module.startswith("bot.channels"):
            assert not imported & deciders, module


@pytest.mark.parametrize(
    "hidden",
    [
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import A\n",
        "def later():\n    from pkg import a\n    return a\n",
        "from . import a\n",
    ],
    ids=["type-checking block", "inside a function", "relative"],
)
def test_a_cycle_hidden_from_the_interpreter_is_found(tmp_path: Path, hidden: str) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from pkg.b import B\nclass A: ...\n")
    (tmp_path / "pkg" / "b.py").write_text(hidden + "class B: ...\n")
    found = cycle_in(import_graph(tmp_path, ("pkg",)))
    assert found is not None and set(found) == {"pkg.a", "pkg.b"}
