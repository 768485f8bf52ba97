"""Hostile exports (issue 13, points 1 and 7): nesting, long ids, control and invisible
characters, oversized files, ids that clean to the same folder name. Each is answered by
``archiver validate`` with its JSON path and exit 2 (or a warning), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from archiver.kinds import document_paths, safe_name
from archiver.sources.export_v1 import read_export
from tests.fixtures.cli import run_cli


def write(tmp_path: Path, doc: Any, name: str = "export.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def errors_of(result: Any) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Ошибка")]


def test_safe_name_is_injective() -> None:
    ids = ["c5a", "c5a.", ".c5a", "c5a_", "c5a ", "C5A", "c5A", "c5a/", "c5a\0", "5 «А»", "5А"]
    names = [safe_name(i) for i in ids]
    assert len(set(names)) == len(ids), names
    assert len({n.casefold() for n in names}) == len(ids)  # case-insensitive disks too
    assert safe_name("c5a") == "c5a" and safe_name("demo-perm-si") == "demo-perm-si"
    assert all("/" not in n and "\0" not in n and n[0] not in "._" for n in names)
    assert len(safe_name("x" * 5000).encode()) < 100


def test_a_club_named_like_a_class_gets_its_own_folder(
    tmp_path: Path, spec_doc: dict[str, Any]
) -> None:
    club = json.loads(json.dumps(spec_doc["classes"][0]))
    club["id"] = spec_doc["classes"][0]["id"] + "."
    spec_doc["classes"].append(club)
    report = read_export(write(tmp_path, spec_doc))
    assert report.export is not None, [str(e) for e in report.errors]
    first, second = spec_doc["classes"][0]["id"], club["id"]
    assert document_paths(tmp_path, report.export, first) != document_paths(
        tmp_path, report.export, second
    )
    assert any(
        "похож" in str(w) and f"classes[{len(spec_doc['classes']) - 1}].id" in str(w)
        for w in report.warnings
    )


def test_deep_nesting_is_an_error_with_its_path(tmp_path: Path, spec_doc: dict[str, Any]) -> None:
    spec_doc["classes"][0]["extra"] = "DEEP"
    source = write(tmp_path, spec_doc)
    text = source.read_text(encoding="utf-8")
    source.write_text(text.replace('"DEEP"', "[" * 100_000 + "]" * 100_000), encoding="utf-8")
    result = run_cli("validate", str(source))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "Внутренняя ошибка" not in result.stderr
    assert "classes[0].extra" in result.stderr and "вложенность" in result.stderr


def test_moderate_nesting_is_caught_after_parsing(tmp_path: Path, spec_doc: dict[str, Any]) -> None:
    deep: Any = {}
    for _ in range(50):
        deep = {"a": deep}
    spec_doc["staff"][0]["extra"] = deep
    report = read_export(write(tmp_path, spec_doc))
    assert [e.code for e in report.errors] == ["too_deep"]
    assert report.errors[0].path.startswith("staff[0].extra.a.a")


def test_long_id_control_characters_and_invisible_ones(
    tmp_path: Path, spec_doc: dict[str, Any]
) -> None:
    spec_doc["classes"][0]["id"] = "c" * 5000
    spec_doc["staff"][0]["id"] = "t\x001"
    spec_doc["subjects"][0]["name"] = "Чтение\x07"
    spec_doc["classes"][0]["students"][0]["last_name"] = "Иванов\u202e"
    spec_doc["classes"][0]["students"][1]["first_name"] = "Ан\u200bна"
    result = run_cli("validate", str(write(tmp_path, spec_doc)))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    errors = "\n".join(errors_of(result))
    assert "classes[0].id: идентификатор длиннее 64 символов" in errors
    assert "staff[0].id: в идентификаторе управляющий символ U+0000" in errors
    assert "subjects[0].name: в тексте управляющий символ U+0007" in errors
    out = result.stdout + result.stderr
    assert "classes[0].students[0].last_name: символ смены направления текста U+202E" in out
    assert "classes[0].students[1].first_name: невидимый символ U+200B" in out


def test_a_nul_in_a_class_id_is_refused_before_year_end(
    tmp_path: Path, spec_doc: dict[str, Any]
) -> None:
    spec_doc["classes"][0]["id"] = "c5\x00a"
    report = read_export(write(tmp_path, spec_doc))
    assert not report.ok
    assert any(e.path == "classes[0].id" and e.code == "control_character" for e in report.errors)


def test_export_over_the_size_limit_is_refused_before_reading(
    tmp_path: Path, spec_doc: dict[str, Any]
) -> None:
    source = write(tmp_path, spec_doc)
    for room in ("room-1", "room-2"):
        (tmp_path / room).mkdir()
    (tmp_path / "archiver.toml").write_text(
        '[archive]\nmax_export_mb = 1\n[storage.primary]\nkind = "local"\npath = "room-1"\n'
        '[storage.secondary]\nkind = "local"\npath = "room-2"\n',
        encoding="utf-8",
    )
    big = tmp_path / "big.json"
    with open(big, "wb") as handle:  # sparse: reading it would take 2 GB, stat does not
        handle.truncate(2 * 1024**3)
    result = run_cli("validate", str(big), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "слишком велик" in result.stderr and "max_export_mb" in result.stderr
    assert run_cli("validate", str(source), cwd=tmp_path).returncode == 0
    result = run_cli("year-end", "--source", str(big), cwd=tmp_path)
    assert result.returncode == 2 and "слишком велик" in result.stderr, result.stderr
