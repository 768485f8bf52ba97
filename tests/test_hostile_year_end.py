"""Year-end attacks (issue 13, points 1 and 5): two class ids that clean to one folder name,
and a verdict that must come from what was verified in both copies, per document."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from archiver.demo.generator import export_bytes, generate_export
from archiver.demo.keys import make_demo_keys
from archiver.yearend import (
    SIGNED,
    VERIFIED,
    ClassStanding,
    YearEndReport,
    _final_verdict,
)
from tests.test_year_end import run, setup_run


def test_a_club_whose_id_cleans_to_a_class_id_is_archived_separately(tmp_path: Path) -> None:
    school = tmp_path / "school"
    school.mkdir()
    data = generate_export(classes=3)
    club = next(c for c in data["classes"] if c["id"] == "club1")
    club["id"] = "c5a."  # the attack: safe_name used to make it "c5a", the class's folder
    (school / "export.json").write_bytes(export_bytes(data))
    make_demo_keys(
        school / "keys", data["school"]["director"]["name"], data["school"]["short_name"]
    )
    (tmp_path / "run").mkdir()
    folder = setup_run(tmp_path / "run", school, 'kind = "local"\npath = "room-2"')
    (folder / "room-2").mkdir()
    result = run(folder, "year-end", "--source", "export.json", "--class", "c5a", "--class", "c5a.")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(
        next((folder / "state" / "year-end").glob("*/year-end-report.json")).read_text("utf-8")
    )
    assert [c["state"] for c in report["classes"]] == ["verified", "verified"]
    pdfs = sorted((folder / "state" / "year-end").rglob("*.pdf"))
    assert len(pdfs) == 3, pdfs  # c5a: journal + final marks; the club: its journal
    for room in ("room-1", "room-2"):
        stored = sorted(
            hashlib.sha256(p.read_bytes()).hexdigest() for p in (folder / room).rglob("data/*.pdf")
        )
        assert stored == sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in pdfs)
    club_records = [r for r in report["records"] if r["class_id"] == "c5a."]
    assert [r["kind"] for r in club_records] == ["class_journal"]
    assert "/c5a/" not in club_records[0]["record_id"]


def test_a_class_not_verified_in_both_copies_is_a_problem(tmp_path: Path) -> None:
    started = "2026-06-20T10:00:00+05:00"
    report = YearEndReport("Школа", "2025/2026", "export.json", "0" * 64, tmp_path, started)
    report.classes = [
        ClassStanding("c5a", "5 «А»", VERIFIED),
        ClassStanding("club1", "Кружок «Умелые руки»", SIGNED),
    ]
    _final_verdict(report)
    assert not report.ok
    assert report.problems == ["Кружок «Умелые руки»: подписан, не сохранён в архив"]
    assert "Итог: есть ошибки" in report.to_text()
