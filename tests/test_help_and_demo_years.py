"""Help as a newcomer reads it, and demo exports of earlier years with the same pupils.

Every check runs ``archiver`` as a process (:func:`tests.fixtures.cli.run_cli`).
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from archiver.cli.examples import EXAMPLES
from archiver.cli.main import cli
from tests.fixtures.cli import run_cli


def command_paths() -> list[str]:
    """Every command and subcommand of ``archiver`` (``"log verify"``), the root as ``""``."""
    ctx = click.Context(cli)
    paths = [""]

    def walk(group: click.Group, prefix: str) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None
            path = f"{prefix} {name}".strip()
            paths.append(path)
            if isinstance(command, click.Group):
                walk(command, path)

    walk(cli, "")
    return paths


def test_every_command_has_examples_in_the_table() -> None:
    paths = command_paths()
    assert set(paths) <= set(EXAMPLES), sorted(set(paths) - set(EXAMPLES))
    for path, lines in EXAMPLES.items():
        assert 1 <= len(lines) <= 2, path
        assert all(line.startswith(f"archiver {path}".strip()) for line in lines), path


@pytest.mark.parametrize("path", command_paths())
def test_help_shows_the_examples(path: str) -> None:
    result = run_cli(*path.split(), "--help")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\nПримеры:\n" in out
    for line in EXAMPLES[path]:
        assert f"  {line}\n" in out  # whole, not wrapped
    assert "INTEGER" not in out and "TEXT" not in out


def test_the_command_list_shows_whole_descriptions() -> None:
    result = run_cli("--help")
    section = result.stdout.split("Команды:\n", 1)[1].split("\n\n", 1)[0]
    assert "..." not in section
    joined = " ".join(section.split())
    assert "Перечислить записи архива: вид, класс, год, версию, хеши, срок хранения и копии." in (
        joined
    )
    assert "Каталог архива: указатель записей, обучающихся, классов и лет (в рабочей папке)." in (
        joined
    )


def test_keys_demo_tsa_port_in_russian() -> None:
    out = run_cli("keys", "demo-tsa", "--help").stdout
    assert "--port ЧИСЛО" in out
    assert "INTEGER RANGE" not in out


# -- demo-data --year


def classes_of(doc: dict[str, object]) -> dict[str, tuple[int, str, str, str | None]]:
    """Pupil id → (grade, name, birth date, middle name) in the classes proper."""
    found = {}
    for school_class in doc["classes"]:  # type: ignore[attr-defined]
        if school_class["kind"] != "class":
            continue
        for s in school_class["students"]:
            found[s["id"]] = (
                school_class["grade"],
                f"{s['last_name']} {s['first_name']}",
                s["birth_date"],
                s.get("middle_name"),
            )
    return found


def test_demo_data_of_an_earlier_year_has_the_same_pupils_a_grade_lower(tmp_path: Path) -> None:
    later, earlier = tmp_path / "2025.json", tmp_path / "2024.json"
    made = run_cli("demo-data", "--out", str(later), "--classes", "6")
    assert made.returncode == 0, made.stderr
    made = run_cli("demo-data", "--year", "2024", "--out", str(earlier), "--classes", "6")
    assert made.returncode == 0, made.stderr
    assert "за 2024/2025 учебный год" in made.stdout
    for path in (earlier, later):
        checked = run_cli("validate", str(path))
        assert checked.returncode == 0, checked.stdout + checked.stderr
    doc_later = json.loads(later.read_text(encoding="utf-8"))
    doc_earlier = json.loads(earlier.read_text(encoding="utf-8"))
    assert doc_earlier["academic_year"]["name"] == "2024/2025"
    assert doc_earlier["academic_year"]["start"].startswith("2024-09")
    assert doc_earlier["exported_at"].startswith("2025-06")
    then, now = classes_of(doc_earlier), classes_of(doc_later)
    assert len(then) >= 0.7 * len(now)
    assert set(then) <= set(now)  # nobody appears only in the earlier year
    for pupil, (grade, name, born, middle) in then.items():
        assert now[pupil] == (grade + 1, name, born, middle), pupil
    first_grades = [c for c in doc_earlier["classes"] if c["kind"] == "class" and c["grade"] <= 1]
    assert first_grades and all(not c["marks_recorded"] for c in first_grades)
    assert all(not m for c in first_grades for course in c["courses"] for m in course["marks"])


def test_demo_data_refuses_a_year_it_cannot_make(tmp_path: Path) -> None:
    result = run_cli("demo-data", "--year", "2031", "--out", str(tmp_path / "x.json"))
    assert result.returncode == 2
    assert "2022…2025" in result.stderr
    assert not (tmp_path / "x.json").exists()
