"""The layers: each subpackage of the package imports only its own layer and those below it (the notation
none of them), every import counted, those inside functions too."""

from test_imports import import_graph

LAYERS = {'notation': 0, 'engine': 1, 'teaching': 2, 'outputs': 3, 'cli': 4, 'sphinx': 4}


def layer(module: str):
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in LAYERS else None


def test_each_layer_imports_only_the_layers_below_it():
    wrong = []
    for module, imports in sorted(import_graph().items()):
        own = layer(module)
        if own is None:  # the public API and the command shims at the top
            continue
        for target in sorted(imports):
            other = layer(target)
            if other is None:
                if target != "derivations":  # the package itself, for __version__
                    wrong.append(f"{module} imports {target}")
            elif other != own and LAYERS[other] >= LAYERS[own]:
                wrong.append(f"{module} ({own}) imports {target} ({other})")
    assert wrong == [], "\n".join(wrong)


def test_every_module_has_a_layer():
    loose = [m for m in import_graph() if m.count(".") == 1 and m.split(".")[1] not in LAYERS
             and m.split(".")[1] not in {'check', 'grade', 'myst', 'print', 'variants', 'sphinxext', 'offline_math'}]
    assert loose == [], loose


def test_the_old_extension_names_still_load(tmp_path):
    """A course site whose conf.py names the extension as before the layers (derivations.sphinxext,
    derivations.offline_math) still builds its pages."""
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "conf.py").write_text('extensions = ["myst_parser", "derivations.sphinxext", "derivations.offline_math"]\n'
                                      'myst_enable_extensions = ["dollarmath"]\n', encoding="utf-8")
    (tmp_path / "index.md").write_text("# T\n\n{deriv}`grad.w_b21 | exact`\n", encoding="utf-8")
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", str(tmp_path), str(tmp_path / "out")],
                            capture_output=True, text=True, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert r"\frac{3}{80}" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")


def test_no_module_over_800_lines_and_no_function_over_100():
    """Issue 33's bounds on size: a module holds one idea, a function one step of it."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "derivations"
    big, long = [], []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > 800:
            big.append(f"{path.name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 100:
                long.append(f"{path.name}:{node.lineno} {node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert big == [] and long == [], big + long
