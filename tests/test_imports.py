"""The package's import graph, every ``import`` counted (those inside functions too): it has no cycle, so
its modules stack in layers that only import downwards."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "derivations"
TOP_LEVEL = [ROOT / "derivations_myst.py"]  # the repository's modules outside the package (pyproject's py-modules)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, modules: set) -> set:
    """The repository's modules that ``path`` imports, wherever the statement stands (a doctest's imports are
    text, not code, and do not count)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out |= imported_statement(node, path, modules)
    return out - {module_name(path)}


def imported_statement(node, path: Path, modules: set) -> set:
    """The repository's modules one ``import`` or ``from ... import`` statement of ``path`` imports."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names} & modules
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    base = node.module or ""
    if node.level:
        anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join(anchor + ([node.module] if node.module else []))
    out = set()
    for a in node.names:  # `from . import cli_io` imports a module; `from .x import f`, module x
        out.add(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base)
    return out & modules


def import_graph(top_level: bool = False) -> dict:
    """``{module: the repository's modules it imports}``: the package's, and with ``top_level`` the modules
    beside it too."""
    files = sorted(PACKAGE.rglob("*.py")) + (TOP_LEVEL if top_level else [])
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
    assert "derivations.outputs.export" in graph["derivations.cli.print"]  # `from ..outputs.export import to_python` in main
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_repository_import_graph_has_no_cycle():
    """The package and the modules beside it (the MyST plugin's entry point, derivations_myst)."""
    graph = import_graph(top_level=True)
    assert "derivations.cli.myst" in graph["derivations_myst"]  # its import inside main() is seen
    cycle = find_cycle(graph)
    assert cycle == [], "import cycle: " + " -> ".join(cycle)


# The package's own modules a function may import where it needs them, each for a reason (every other is
# imported at the top): the API's names on first use (importing a module of the package must not import
# SymPy: the MyST plugin's cached calls); the writers python -m derivations.print needs only for some formats
# or -o (its start-up: benchmarks/startup.py).
LAZY = {
    "derivations/__init__.py": {"derivations.engine.derivation", "derivations.engine.errors",
                                "derivations.engine.problem", "derivations.engine.values"},
    "derivations/cli/print.py": {"derivations.outputs.export", "derivations.outputs.files", "derivations.outputs.targets",
                                 "derivations.outputs.page", "derivations.outputs.pdf", "derivations.teaching.handout",
                                 "derivations.teaching.circuit"},
}


def test_the_package_imports_its_own_modules_at_the_top_of_each_module():
    """What a module needs from the package reads at its top, in the layers' order; only other libraries
    (Typst, Playwright, NumPy, mpmath: slow to load, or optional) and the listed lazy imports (:data:`LAZY`)
    may be imported where they are used."""
    modules = set(import_graph())
    inside = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = str(path.relative_to(PACKAGE.parent))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for sub in ast.walk(node):
                    if isinstance(sub, ast.ImportFrom) and (sub.level or (sub.module or "").startswith("derivations")):
                        names = imported_statement(sub, path, modules)
                        if not names <= LAZY.get(where, set()):
                            inside.append(f"{where}:{sub.lineno} ({', '.join(sorted(names))})")
    assert inside == [], "the package's own modules imported inside functions: " + ", ".join(inside)

