"""The package's size against issue 33's bounds: derivations/ at most 13,000 lines, no module over 800 lines,
no function over 100 lines. Prints the total (as ``wc -l`` counts it), the largest modules and every module and
function past its bound.

    python benchmarks/sizes.py [--top 10]
"""

import argparse
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "derivations"
BOUNDS = {"package": 13_000, "module": 800, "function": 100}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=10, help="how many of the largest modules to list")
    args = parser.parse_args()
    modules, functions = {}, []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(PACKAGE.parent))
        modules[name] = text.count("\n")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > BOUNDS["function"]:
                    functions.append((length, f"{name}:{node.lineno} {node.name}"))
    total = sum(modules.values())
    print(f"derivations/: {total} lines in {len(modules)} modules (bound {BOUNDS['package']})")
    for name, lines in sorted(modules.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"  {lines:5d}  {name}{'  (over the bound)' if lines > BOUNDS['module'] else ''}")
    over = [(n, m) for m, n in modules.items() if n > BOUNDS["module"]]
    print(f"modules over {BOUNDS['module']} lines: {len(over)}")
    print(f"functions over {BOUNDS['function']} lines: {len(functions)}")
    for length, where in sorted(functions, reverse=True):
        print(f"  {length:4d}  {where}")


if __name__ == "__main__":
    main()
