"""The package layout keeps its architecture: no import circles, and each layer imports only
the layers below it. Imports are read from the source (function-level imports included), so a
deferred import cannot hide a circle."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "layers" / "lifeboat"


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE_ROOT.joinpath("lifeboat").rglob("*.py"):
        parts = path.relative_to(PACKAGE_ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


MODULES = _modules()


def _resolve(dotted: str) -> str | None:
    """The module an import names (``from a.b import c`` may name module ``a.b.c`` or ``a.b``)."""
    while dotted:
        if dotted in MODULES:
            return dotted
        dotted = dotted.rpartition(".")[0]
    return None


def _imported_names(module: str) -> Iterator[str]:
    """Every dotted name the module's source imports, function-level imports included."""
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def _imports_of(module: str) -> set[str]:
    return {t for name in _imported_names(module) if (t := _resolve(name)) and t != module}


GRAPH = {module: _imports_of(module) for module in MODULES}


def _third_party_imports(module: str) -> set[str]:
    return {name.split(".")[0] for name in _imported_names(module)}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_library_has_no_import_circles() -> None:
    # GIVEN every module of the library, WHEN its imports are followed, THEN none leads back to it
    assert _cycles() == []


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("lifeboat.cli", ("lifeboat.demo", "lifeboat.command")),
        ("lifeboat.local", ("lifeboat.demo", "lifeboat.cli", "lifeboat.command")),
        ("lifeboat.domain", ("lifeboat.aws", "lifeboat.service", "lifeboat.plugins", "lifeboat.state")),
        ("lifeboat.contracts", ("lifeboat.service", "lifeboat.cli", "lifeboat.local", "lifeboat.demo")),
        ("lifeboat.service", ("lifeboat.cli", "lifeboat.local", "lifeboat.demo")),
        ("lifeboat.plugins", ("lifeboat.service", "lifeboat.cli", "lifeboat.local", "lifeboat.demo")),
    ],
)
def test_each_layer_imports_only_the_layers_below_it(package: str, forbidden: tuple[str, ...]) -> None:
    # GIVEN a layer, WHEN its modules' imports are read, THEN none reaches a layer above it
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        if _in(module, package)
        for target in targets
        if any(_in(target, f) for f in forbidden)
    )
    assert wrong == []


def test_the_domain_never_imports_boto3() -> None:
    # GIVEN the pure domain, THEN no module of it imports the AWS SDK
    sdk = {"boto3", "botocore", "aioboto3"}
    assert sorted(m for m in MODULES if _in(m, "lifeboat.domain") and _third_party_imports(m) & sdk) == []


def test_the_graph_sees_deferred_imports() -> None:
    # GIVEN a module known to defer an import into a function body, THEN the graph still has it
    assert "lifeboat.cli.deployed" in GRAPH["lifeboat.cli.restore"]


# "About 400 lines": past that a module holds more than one concern (the plugins were ~900).
MAX_MODULE_LINES = 430


def test_no_module_of_the_library_is_over_about_400_lines() -> None:
    # GIVEN every module of the library, THEN each is small enough to hold one concern
    sizes = {module: len(path.read_text().splitlines()) for module, path in MODULES.items()}
    assert {m: n for m, n in sizes.items() if n > MAX_MODULE_LINES} == {}
