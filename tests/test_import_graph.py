"""The first-party import graph: no cycles, and nothing but the CLI imports a `trainers.run_*` script."""
import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent
PACKAGES = ("hf_models", "modeling", "datasets_scripts", "trainers", "model_cards", "benchmarks")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str, modules: set) -> set:
    """First-party modules `path` imports at module level or inside functions (any import makes an edge)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `a.b.c` where only `a.b` is a module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _graph() -> dict:
    files = {_module_name(p): p for top in PACKAGES for p in (ROOT / top).rglob("*.py")}
    return {name: _imports(path, name, set(files)) for name, path in files.items()}


def test_no_import_cycles():
    graph, state, cycles = _graph(), {}, []

    def visit(node, stack):
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, stack + [target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # A package importing its own submodules (`__init__` re-exports) is not a cycle the reader meets.
    cycles = [c for c in cycles if not all(c[0].startswith(m) or m.startswith(c[0]) for m in c)]
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_only_the_cli_imports_run_scripts():
    graph = _graph()
    offenders = sorted(f"{name} imports {target}" for name, targets in graph.items() for target in targets
                       if target.startswith("trainers.run_") and name != "trainers.cli")
    assert not offenders, "run scripts are entry points, not libraries: " + "; ".join(offenders)
