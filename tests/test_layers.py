"""The package's layers: runtime plumbing below the library (the paper's nouns and the remedies),
the library below the recipe, the recipe below tuning and human evaluation, those below the
studies, and the CLI on top. Every import in seqgan/ (in functions too) may point down or sideways,
never up; no import cycle; no module takes another's private (underscore) name."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "seqgan"

LIBRARY = {
    "oracle",
    "generator",
    "discriminator",
    "rollout",
    "metrics",
    "data",
    "corpus",
    "bleu",
    "midi",
    "config",
    "critic",
    "mcts",
    "penalty",
    "rows",
    "stats",
    "maligan",
    "kl",
    "texygen_data",
    "texygen_config",
    "tempered",
    "best_epoch",
}
# texygen.py is a recipe of its own: Texygen's protocol, beside Algorithm 1 (train.py)
RECIPE = {"build", "run", "lifecycle", "reporting", "train", "d_graph", "g_graph", "jobs", "texygen"}
TOP = {"cli", "__main__", "__init__"}


def layer(module: str) -> int:
    """0 runtime, 1 library, 2 recipe, 3 tuning and human evaluation, 4 studies, 5 the CLI."""
    parts = module.split(".")[1:]  # without "seqgan"
    if not parts or parts[0] in TOP:
        return 5
    head = parts[0]
    if head == "runtime":
        return 0
    if head in LIBRARY:
        return 1
    if head in RECIPE:
        return 2
    if head in ("tuning", "human_eval"):
        return 3
    if head == "studies":
        return 4
    raise AssertionError(f"seqgan.{'.'.join(parts)} has no layer: add it to tests/test_layers.py")


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _type_checking_only(tree: ast.AST) -> set[int]:
    """ids of import nodes under ``if TYPE_CHECKING:`` (annotations only: never executed)."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            skip.update(id(n) for n in ast.walk(node))
    return skip


def imports_of(path: Path, modules: set[str]) -> list[tuple[str, list[str], int]]:
    """(imported seqgan module, names taken from it, line) for every import in the file."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_only(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name.split(".")[0] == "seqgan"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "seqgan":
                continue
            names = [a.name for a in node.names]
            submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules]
            if submodules:  # `from . import metrics`: an import of the module seqgan.metrics
                found += [(m, [], node.lineno) for m in submodules]
                names = [n for n in names if f"{target}.{n}" not in modules]
                if not names:
                    continue
            found.append((target, names, node.lineno))
    return found


def graph() -> dict[str, list[tuple[str, list[str], int]]]:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(f) for f in files}
    return {module_name(f): imports_of(f, modules) for f in files}


def test_every_module_has_a_layer():
    for module in graph():
        layer(module)


def test_no_import_points_up_a_layer():
    upward = [
        f"{m}:{line} imports {t} (layer {layer(m)} -> {layer(t)})"
        for m, edges in graph().items()
        for t, _, line in edges
        if layer(t) > layer(m)
    ]
    assert not upward, "\n".join(upward)


def test_no_module_imports_another_modules_private_name():
    private = [
        f"{m}:{line} takes {n} from {t}"
        for m, edges in graph().items()
        for t, names, line in edges
        for n in names
        if n.startswith("_") and t != m
    ]
    assert not private, "\n".join(private)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle():
    g = graph()
    # a package's __init__ is not an import of its modules' code; leave package nodes out of the walk
    edges = {m: {t for t, _, _ in e if t in g and t != m} for m, e in g.items()}
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges))


@pytest.mark.parametrize(
    "edges, cycle",
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
        ({"a": {"a"}}, ["a", "a"]),
    ],
)
def test_the_cycle_finder_finds_cycles(edges, cycle):
    assert find_cycle(edges) == cycle


def test_the_walk_sees_function_level_and_relative_imports(tmp_path):
    """The checks rest on the walk: it must see an import inside a function, resolve `..`, and name the private name."""
    pkg = tmp_path / "seqgan"
    (pkg / "studies").mkdir(parents=True)
    src = pkg / "studies" / "x.py"
    src.write_text("def f():\n    from ..train import _secret, run\n    from .. import metrics\n", encoding="utf-8")
    # imports_of names modules relative to PACKAGE; point it at the temporary one
    global PACKAGE
    saved, PACKAGE = PACKAGE, pkg
    try:
        found = imports_of(src, {"seqgan.metrics", "seqgan.train"})
    finally:
        PACKAGE = saved
    assert ("seqgan.train", ["_secret", "run"], 2) in found
    assert ("seqgan.metrics", [], 3) in found
    assert layer("seqgan.train") == 2 and layer("seqgan.studies.x") == 4 and layer("seqgan.runtime.files") == 0
