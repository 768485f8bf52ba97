"""``archiver validate`` and the CLI's behaviour as a user sees it, in a real process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cli import run_cli


def write(tmp_path: Path, doc: Any, name: str = "export.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_good_export_prints_summary_and_exits_0(tmp_path: Path, spec_doc: dict[str, Any]) -> None:
    result = run_cli("validate", str(write(tmp_path, spec_doc)))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "прочитана без ошибок" in result.stdout
    assert "Школа: КГБОУ «Школа-интернат № 7»" in result.stdout
    assert "Учебный год: 2025/2026" in result.stdout
    assert "Учеников: 4 (выбыли в течение года: 1, прибыли: 1)" in result.stdout
    assert "Курсов: 4, уроков: 7, отметок: 5" in result.stdout
    assert "Пропусков уроков: 4 (по болезни: 2), опозданий: 1" in result.stdout


def test_warnings_listed_with_paths_exit_0(tmp_path: Path, spec_doc: dict[str, Any]) -> None:
    spec_doc["classes"][0]["courses"][0]["attendance"][1]["code"] = "Х"
    result = run_cli("validate", str(write(tmp_path, spec_doc)))
    assert result.returncode == 0
    assert (
        'Предупреждение: classes[0].courses[0].attendance[1].code: код посещаемости "Х"'
        in result.stdout
    )


def test_bad_export_lists_every_error_and_exits_2(tmp_path: Path, spec_doc: dict[str, Any]) -> None:
    course = spec_doc["classes"][0]["courses"][0]
    course["marks"][2]["student"] = "st-999"
    course["lessons"][1]["id"] = "l1"
    course["lessons"][3]["date"] = "2026-07-01"
    spec_doc["staff"][2]["id"] = "t1"
    source = write(tmp_path, spec_doc)
    before = sorted(tmp_path.iterdir())
    result = run_cli("validate", str(source))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[:4] == [
        'Ошибка: staff[2].id: повторный идентификатор сотрудника "t1" (уже есть в staff[0])',
        'Ошибка: classes[0].courses[0].lessons[1].id: повторный идентификатор урока "l1" '
        "(уже есть в classes[0].courses[0].lessons[0])",
        "Ошибка: classes[0].courses[0].lessons[3].date: дата урока 01.07.2026 вне учебного года "
        "(01.09.2025 – 31.05.2026)",
        'Ошибка: classes[0].courses[0].marks[2].student: неизвестный ученик "st-999" '
        "(нет в списке класса)",
    ]
    assert "не принята: ошибок" in lines[-1]
    assert sorted(tmp_path.iterdir()) == before  # nothing written


def test_json_report_is_the_same_report(tmp_path: Path, spec_doc: dict[str, Any]) -> None:
    spec_doc["classes"][0]["courses"][0]["marks"][2]["student"] = "st-999"
    result = run_cli("validate", "--json", str(write(tmp_path, spec_doc)))
    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["summary"] is None
    assert report["errors"] == [
        {
            "path": "classes[0].courses[0].marks[2].student",
            "code": "unknown_ref",
            "message": 'неизвестный ученик "st-999" (нет в списке класса)',
        }
    ]
    spec_doc["classes"][0]["courses"][0]["marks"][2]["student"] = "s2"
    good = run_cli("validate", "--json", str(write(tmp_path, spec_doc, "good.json")))
    assert good.returncode == 0 and json.loads(good.stdout)["summary"]["marks"] == 5


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"format": "school-journal-export",\n "staff": [{"id": "t1",', "обрывается"),
        (b'{"format": "school-journal-export", "x": \xc3\x28}', "не в кодировке UTF-8"),
        (b"<html>Bad gateway</html>", "не является корректным JSON"),
    ],
)
def test_unreadable_file_one_line_no_traceback(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and expected in lines[0] and "строка " in lines[0]


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    result = run_cli("validate", str(tmp_path / "nope.json"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"Ошибка: файл {tmp_path / 'nope.json'} не найден"


@pytest.mark.parametrize("args", [(), ("validate",), ("demo-data",)])
def test_help_is_russian_with_every_command_explained(args: tuple[str, ...]) -> None:
    result = run_cli(*args, "--help")
    assert result.returncode == 0
    text = result.stdout
    assert "Использование: archiver" in text and "Показать эту справку и выйти." in text
    for english in ("Usage:", "Options:", "Show this message", "[OPTIONS]", "required", "default:"):
        assert english not in text
    if not args:
        block = text.split("Команды:")[1].split("\n\n")[0].splitlines()
        # a command's line starts two spaces in; its description may wrap onto indented lines
        commands = [line for line in block if line.startswith("  ") and line[2] != " "]
        assert {c.split()[0] for c in commands} >= {"validate", "demo-data", "year-end"}
        for c in commands:  # each command explained in Russian, its description whole
            assert any("а" <= ch <= "я" for ch in c.lower())
        assert "..." not in "\n".join(block)


def test_unknown_option_is_russian(tmp_path: Path) -> None:
    result = run_cli("validate", "--bogus")
    assert result.returncode == 2
    assert "Нет такого параметра '--bogus'" in result.stderr
