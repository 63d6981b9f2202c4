"""The package's import graph against its layers: circles and imports that point upward.

Every module's imports are read with ``ast`` (imports inside functions count: they run too;
those under ``if TYPE_CHECKING:`` do not). A module sits in the layer of the longest
prefix of its name listed in :data:`LAYERS`; an import from a lower layer into a higher
one is an upward import, allowed only where :data:`ALLOWED_UPWARD` names it with why.

``python -m tests.import_graph`` prints the counts and the list; ``tests/test_layers.py``
holds the package to them.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "alignprobe"
SRC = Path(__file__).resolve().parent.parent / "src"

#: lowest first; a module's layer is that of the longest listed prefix of its name
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "base",
        (
            "errors",
            "exit_codes",
            "units",
            "measures",
            "fileio",
            "sources",
            "conditions",
            "reasoning",
            "reasoning_measures",
            "data",
            "progress",
            "plain_output",
            "task_params",
        ),
    ),
    (
        "data loading",
        # the row readers stay beside the importer that also reads them
        ("results.csvrows", "results.chat_rows"),
    ),
    ("building blocks", ("models", "providers", "sandbox", "testing", "family")),
    ("probes", ("tasks", "scorers")),
    # the Inspect entry point: importing it registers every task and provider
    ("registration", ("_registry", "demo.judge_provider")),
    (
        "pipeline",
        (
            "evals",
            "run",
            "results",
            "judging",
            "gate",
            "report",
            "watch",
            "demo",
            # a family's section of the compare report: runs when the report is written
            "tasks.instructed_hacking.report_section",
        ),
    ),
    ("commands", ("commands", "integrations")),
    ("cli", ("cli", "__main__")),
)

#: (importer, imported) -> why this upward import is right
ALLOWED_UPWARD: dict[tuple[str, str], str] = {
    ("alignprobe._registry", "alignprobe.run.retry_notice"): (
        "Inspect finds hooks through the entry point: the retry notice registers there"
    ),
    ("alignprobe.demo.judge_provider", "alignprobe.demo.judge_api"): (
        "the demo judge's provider is registered up front; its model API (the demo's judge) "
        "is imported only when Inspect builds the model"
    ),
    ("alignprobe.models.model_names", "alignprobe._registry"): (
        "a provider name is checked against Inspect's registry, which alignprobe's own "
        "providers join only once the entry point is imported"
    ),
}


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_block(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if _type_checking_block(node):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _imports(node)


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def edges(modules: dict[str, Path]) -> list[Edge]:
    """Every import of one of the package's modules by another, once per pair."""
    found: dict[tuple[str, str], Edge] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                source = _absolute(module, path.name == "__init__.py", node)
                # `from pkg import mod` imports the module pkg.mod where there is one
                targets = [
                    f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source
                    for a in node.names
                ]
            for target in targets:
                if target in modules and target != module:
                    found.setdefault((module, target), Edge(module, target, node.lineno))
    return sorted(found.values(), key=lambda e: (e.importer, e.imported))


def layer(module: str) -> int:
    name = module.removeprefix(PACKAGE).removeprefix(".")
    if not name:  # the package's own __init__: its version, nothing else
        return 0
    best, depth = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > depth:
                best, depth = index, len(prefix)
    if best < 0:
        raise ValueError(f"{module} is in no layer: add it to LAYERS")
    return best


def upward(graph: list[Edge]) -> list[Edge]:
    return [e for e in graph if layer(e.imported) > layer(e.importer)]


def circles(graph: list[Edge]) -> list[list[str]]:
    """Groups of modules that import each other, directly or around a loop (Tarjan)."""
    successors: dict[str, list[str]] = {}
    for e in graph:
        successors.setdefault(e.importer, []).append(e.imported)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in successors.get(node, []):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for node in sorted(successors):
        if node not in index:
            visit(node)
    return sorted(groups)


def package_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / PACKAGE).rglob("*.py"))}


def main() -> None:
    graph = edges(package_modules())
    loops = circles(graph)
    up = upward(graph)
    print(f"{len(graph)} imports between modules, {len(loops)} circles, {len(up)} upward")
    for group in loops:
        print("circle:", " <-> ".join(group))
    for e in up:
        names = f"{LAYERS[layer(e.importer)][0]} -> {LAYERS[layer(e.imported)][0]}"
        allowed = " (allowed)" if (e.importer, e.imported) in ALLOWED_UPWARD else ""
        print(f"upward: {e.importer}:{e.line} -> {e.imported}  [{names}]{allowed}")


if __name__ == "__main__":
    main()
