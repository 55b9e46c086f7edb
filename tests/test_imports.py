"""The package's import graph, every ``import`` counted (those inside functions too): it has no cycle, so
its modules stack in layers that only import downwards."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "derivations"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, modules: set) -> set:
    """The package's modules that ``path`` imports, wherever the statement stands (a doctest's imports are
    text, not code, and do not count)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for a in node.names:  # `from . import cli_io` imports a module; `from .x import f`, module x
                out.add(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base)
    return {m for m in out if m in modules and m != name}


def import_graph() -> dict:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(f) for f in files}
    return {module_name(f): imported(f, modules) for f in files}


def find_cycle(graph: dict) -> list:
    """One cycle of the graph as a list of modules (first = last), or [] when there is none."""
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                return stack[stack.index(n):] + [n]
            if n not in state and (found := visit(n)):
                return found
        state[m] = "done"
        stack.pop()
        return []

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return []


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert "derivations.engine.values" in graph["derivations.sphinx.extension"]  # `from .values import evaluate` in values_for
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_package_import_graph_has_no_cycle():
    cycle = find_cycle(import_graph())
    assert cycle == [], "import cycle: " + " -> ".join(cycle)


def test_the_package_imports_its_own_modules_at_the_top_of_each_module():
    """What a module needs from the package reads at its top, in the layers' order; only other libraries
    (Typst, Playwright, NumPy, mpmath: slow to load, or optional) may be imported where they are used."""
    inside = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inside += [f"{path.relative_to(PACKAGE.parent)}:{sub.lineno}" for sub in ast.walk(node)
                           if isinstance(sub, ast.ImportFrom) and (sub.level or (sub.module or "").startswith("derivations"))]
    assert inside == [], "the package's own modules imported inside functions: " + ", ".join(inside)
