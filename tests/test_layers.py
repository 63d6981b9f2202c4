"""The package's modules import each other in one direction: no circles, and an import
from a lower layer into a higher one only where ``tests/import_graph.py`` names it with why."""

from __future__ import annotations

from pathlib import Path

from tests.import_graph import (
    ALLOWED_UPWARD,
    LAYERS,
    circles,
    edges,
    layer,
    package_modules,
    upward,
)

MAX_UPWARD = 5


def test_no_module_imports_itself_around_a_circle() -> None:
    assert circles(edges(package_modules())) == []


def test_upward_imports_are_few_and_each_is_named_with_why() -> None:
    up = upward(edges(package_modules()))
    unnamed = [
        f"{e.importer}:{e.line} -> {e.imported}"
        for e in up
        if (e.importer, e.imported) not in ALLOWED_UPWARD
    ]
    assert unnamed == []
    assert len(ALLOWED_UPWARD) <= MAX_UPWARD
    assert all(why.strip() for why in ALLOWED_UPWARD.values())


def test_every_module_has_a_layer() -> None:
    for module in package_modules():
        assert 0 <= layer(module) < len(LAYERS)


def test_a_loop_through_a_function_level_import_is_found(tmp_path: Path) -> None:
    package = tmp_path / "alignprobe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "errors.py").write_text("def f():\n    from alignprobe import cli\n")
    (package / "cli.py").write_text("from alignprobe.errors import f\n")
    (package / "units.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import alignprobe.cli\n"
    )
    modules = {
        name: package / f"{name.split('.')[-1]}.py"
        for name in ("alignprobe.errors", "alignprobe.cli", "alignprobe.units")
    }
    graph = edges(modules)
    assert circles(graph) == [["alignprobe.cli", "alignprobe.errors"]]
    # errors (base) -> cli is upward; the TYPE_CHECKING import is not an import at run time
    assert [(e.importer, e.imported) for e in upward(graph)] == [
        ("alignprobe.errors", "alignprobe.cli")
    ]
