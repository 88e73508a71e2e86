"""The package's shape: a pure core that imports nothing from Optuna, thin glue at the edge, and
no import cycle."""

from __future__ import annotations

import ast
from pathlib import Path
import subprocess
import sys

import optuna_rl


PACKAGE = Path(optuna_rl.__file__).parent
PURE_PACKAGES = ("core", "sampling", "pruning")


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _is_pure(name: str) -> bool:
    parts = name.split(".")
    return len(parts) > 1 and parts[1] in PURE_PACKAGES


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node, but those under ``if TYPE_CHECKING:`` (never run)."""
    nodes: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        nodes.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return nodes


def _imports(path: Path) -> set[str]:
    """The modules ``path`` imports when it runs, at any level (function-level imports
    included, type-checking ones not)."""
    found = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_pure_modules_import_without_optuna() -> None:
    pure = [name for name in _modules() if _is_pure(name)]
    assert len(pure) >= 15
    code = (
        "import importlib, sys\n"
        "sys.modules['optuna'] = None  # any `import optuna...` now raises ImportError\n"
        f"for name in {pure!r}:\n"
        "    importlib.import_module(name)\n"
        "assert not [m for m in sys.modules if m.startswith('optuna.')]\n"
        "assert 'optuna_rl.sampler' not in sys.modules and 'optuna_rl.pruner' not in sys.modules\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_pure_modules_do_not_mention_optuna_imports() -> None:
    # The same, read from the source: catches an import hidden in a function body too.
    for name, path in _modules().items():
        if _is_pure(name):
            offending = {m for m in _imports(path) if m == "optuna" or m.startswith("optuna.")}
            assert not offending, (name, offending)


def test_there_is_no_import_cycle() -> None:
    modules = _modules()
    graph = {
        name: {m for m in _imports(path) if m in modules and m != name}
        for name, path in modules.items()
    }
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        assert name not in visiting, f"import cycle: {' -> '.join([*visiting, name])}"
        if name in done:
            return
        visiting.append(name)
        for target in sorted(graph[name]):
            # Importing `a.b` runs `a/__init__` first; the package's own lazy __init__ imports
            # nothing at module level, so edges to packages are edges to their __init__ files.
            visit(target)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)
