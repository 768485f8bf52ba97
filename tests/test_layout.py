"""The layout of ``archiver/`` as docs/architecture.md states it, checked on the source.

Every module and package opens with a docstring, and no module is over 700 lines.
Imports (read with :mod:`ast`, so those inside functions and under ``TYPE_CHECKING``
count too) follow the stage order
sources → render → signing → storage → archive → yearend (→ status), with demo and cli on top:
a module may import its own stage, earlier stages and the low modules, never a later
stage; the low modules import no stage at all; only cli imports click.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "archiver"

MAX_LINES = 700
"""The longest a module may be: one idea per module, split into a package by idea beyond that."""

STAGES = (
    "sources",
    "render",
    "signing",
    "storage",
    "archive",
    "check",
    "yearend",
    "status",
    "demo",
    "region",
    "web",
    "cli",
)
"""The stages in order; each may import the ones before it.

``status`` (what the archive holds per class and the deadline, from the year-end and
verify records) reads the year-end run's state, so it comes after ``yearend``.
``web`` (the service's pages) calls every stage's library functions, as ``cli`` does,
but never ``cli``.
"""

LOW = frozenset(
    {
        "__init__",
        "errors",
        "model",
        "kinds",
        "settings",
        "files",
        "numbers",
        "wording",
        "retention",
        "parallel",
        "progress",
        "data",
        "init_config",  # the commented archiver.toml that init and demo write
        "lock",  # one run at a time (year-end; later the region and the web service)
        "clock",  # the library's clock (real, or a day set for tests and rehearsals)
    }
)
"""Modules and packages under ``archiver/`` that every stage may import and that import no stage."""


@dataclass(frozen=True)
class Module:
    name: str  # dotted: archiver.render.engines
    path: Path
    tree: ast.Module

    @property
    def package(self) -> str:
        return self.name if self.path.name == "__init__.py" else self.name.rpartition(".")[0]

    @property
    def place(self) -> str:
        """The top-level part of ``archiver`` it belongs to: a stage or a low module."""
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 else "__init__"


@cache
def modules() -> dict[str, Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        found[name] = Module(name, path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return found


def imports(module: Module) -> set[str]:
    """Every module it imports, dotted; ``from P import m`` names ``P.m`` when that is a module."""
    known = modules()
    names: set[str] = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, *([node.module] if node.module else [])])
            else:
                origin = node.module or ""
            names.add(origin)
            names.update(
                f"{origin}.{alias.name}"
                for alias in node.names
                if f"{origin}.{alias.name}" in known
            )
    return names


def place_of(name: str) -> str | None:
    """The stage or low module an imported ``archiver`` name belongs to; None outside archiver."""
    parts = name.split(".")
    if parts[0] != "archiver":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def rank(place: str) -> int:
    """-1 for the low modules, else the stage's position; unplaced parts count as on top."""
    if place in LOW:
        return -1
    return STAGES.index(place) if place in STAGES else len(STAGES)


def offenders(allowed: Callable[[str, str], bool]) -> list[str]:
    """``module → imported`` for every archiver import that ``allowed(place, imported_place)`` refuses."""
    found = []
    for module in modules().values():
        for name in sorted(imports(module)):
            target = place_of(name)
            if target is not None and target != module.place and not allowed(module.place, target):
                found.append(f"{module.name} → {name}")
    return found


def test_every_module_and_package_opens_with_a_docstring() -> None:
    missing = [
        str(m.path.relative_to(ROOT))
        for m in modules().values()
        if not (ast.get_docstring(m.tree) or "").strip()
    ]
    assert not missing, "no docstring saying what they hold:\n" + "\n".join(missing)


def test_no_module_is_over_the_line_limit() -> None:
    long = [
        f"{m.path.relative_to(ROOT)}: {lines} lines"
        for m in modules().values()
        if (lines := len(m.path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert not long, f"modules over {MAX_LINES} lines (split them by idea):\n" + "\n".join(long)


def test_every_part_of_archiver_has_a_place_in_the_stage_order() -> None:
    unplaced = sorted({m.place for m in modules().values()} - LOW - set(STAGES))
    assert not unplaced, "add to STAGES or LOW here and in docs/architecture.md: " + ", ".join(
        unplaced
    )


def test_no_module_imports_a_later_stage() -> None:
    found = offenders(lambda here, there: rank(there) <= rank(here))
    assert not found, "imports of a later stage:\n" + "\n".join(found)


def test_low_modules_import_no_stage() -> None:
    found = offenders(lambda here, there: here not in LOW or there in LOW)
    assert not found, "low modules importing a stage:\n" + "\n".join(found)


def test_render_and_storage_never_reach_the_stages_above_them() -> None:
    refused = {("render", "storage"), ("render", "archive"), ("storage", "archive")}
    found = offenders(lambda here, there: (here, there) not in refused)
    assert not found, "\n".join(found)


def test_library_never_imports_click() -> None:
    found = [
        f"{m.name} → {name}"
        for m in modules().values()
        if m.place != "cli"
        for name in sorted(imports(m))
        if name == "click" or name.startswith("click.")
    ]
    assert not found, "click outside archiver/cli:\n" + "\n".join(found)


def test_library_never_prints() -> None:
    """Output is the CLI's (and later the web service's): the library returns results and raises."""
    found = []
    for m in modules().values():
        if m.place == "cli":
            continue
        for node in ast.walk(m.tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("print", "input")
            ):
                found.append(f"{m.name}:{node.lineno} {node.func.id}()")
            elif (
                isinstance(node, ast.Attribute)
                and node.attr in ("stdout", "stderr")
                and isinstance(node.value, ast.Name)
                and node.value.id == "sys"
            ):
                found.append(f"{m.name}:{node.lineno} sys.{node.attr}")
    assert not found, "the library writes to the terminal:\n" + "\n".join(found)


def test_every_command_of_the_lazy_root_group_loads_under_its_name() -> None:
    """``archiver.cli.main.COMMANDS`` names modules that exist and commands named as listed."""
    import click

    from archiver.cli.main import COMMANDS, cli

    context = click.Context(cli)
    loaded = {name: cli.get_command(context, name) for name in cli.list_commands(context)}
    assert sorted(loaded) == sorted(COMMANDS)
    assert all(isinstance(c, click.Command) and c.name == n for n, c in loaded.items())
