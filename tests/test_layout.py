"""The library's modules import one way: no cycles, the engine's core never imports a plug-in or
an edge (files, CLI, exchange, service), and the library never imports the service."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "logistics"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every logistics module ``path`` imports, at the top or inside a function."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names]
            found.update(n for n in [target, *names] if n.split(".")[0] in ("logistics", "logistics_api", "api"))
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] in ("logistics", "logistics_api", "api"))
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in ROOT.rglob("*.py") if "data" not in p.parts}
    edges = {}
    for name, path in modules.items():
        # an import of a package's member counts as an import of the module that defines it
        edges[name] = {t if t in modules else t.rsplit(".", 1)[0] for t in imports(path)} & set(modules) - {name}
    return edges


def test_no_import_cycles(graph):
    state: dict[str, int] = {}
    cycles = []

    def visit(node, stack):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue  # a package and its own modules
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles


def test_the_core_imports_no_edge_and_no_plug_in(graph):
    core = [m for m in graph if m.startswith(("logistics.pipeline", "logistics.rules")) or m in
            ("logistics.vocabulary", "logistics.schema", "logistics.backends", "logistics.factors", "logistics.matching")]
    edges = ("logistics.japan", "logistics.geo", "logistics.exchange", "logistics.batch", "logistics.cli",
             "logistics.calculator", "logistics.derive")
    offending = {m: sorted(t for t in graph[m] if t.startswith(edges)) for m in core}
    assert not {m: t for m, t in offending.items() if t}


def test_the_library_never_imports_the_service(graph):
    assert not {m: t for m, t in graph.items() if any(x.startswith(("logistics_api", "api")) for x in t)}
