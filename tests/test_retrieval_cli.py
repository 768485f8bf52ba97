"""Retrieval as a user lives it: finding the right person and the current version, the list of
records, the access log's names and its copies after a storage folder was offline.

The archive is the two-year test school of :mod:`tests.fixtures.archive`, written by the
real store operation; every command runs through archiver's entry point in a new process.
Outcomes are checked independently: record folders and S3 objects looked at directly.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from archiver.archive.store import store_records
from archiver.sources.export_v1 import read_export
from tests.fixtures.archive import ARTEM, SEMENOV, Archive, make_writable, record
from tests.fixtures.storage import SignedPdf

Y1, Y2 = "2025/2026", "2026/2027"
RUSLAN = "s0017"
"""Новосёлов Руслан Николаевич."""
SEMYON = "s0008"
"""Пепеляев Семён Сергеевич."""
PATRONYMICS = {"s0001", "s0002", "s0004"}
"""Борисова Юлия Семёновна, Васильев Даниил Семёнович, Долгих Матвей Семёнович."""
REASON = "исправлена отметка по математике"


# -- 6. find: ranking, which field matched, typos, several words


def test_find_ranks_the_surname_before_patronymics_and_says_which_field(
    archive: Archive,
) -> None:
    found = archive.run("find", "Семёнов", "--json")
    assert found.returncode == 0, found.stderr
    matches = found.json()
    ids = [m["student_id"] for m in matches]
    assert ids[0] == SEMENOV
    assert set(ids[1:]) == PATRONYMICS
    assert matches[0]["matched"] == ["last_name"]
    assert all(m["matched"] == ["middle_name"] for m in matches[1:])
    text = archive.run("find", "СЕМЁНОВ")
    assert text.returncode == 0, text.stderr
    first = next(line for line in text.stdout.splitlines() if line.startswith("1. "))
    assert first.startswith("1. Семёнов-Фёдоров Егор Борисович")
    assert "совпадение: фамилия" in first
    assert "совпадение: отчество" in text.stdout


def test_find_ranks_surname_then_first_name_then_patronymic(archive: Archive) -> None:
    matches = archive.run("find", "семен", "--json").json()
    ids = [m["student_id"] for m in matches]
    assert ids[:2] == [SEMENOV, SEMYON]
    assert matches[1]["matched"] == ["first_name"]
    assert set(ids[2:]) == PATRONYMICS


@pytest.mark.parametrize(
    ("words", "student"),
    [
        (["Семёнов", "Егор"], SEMENOV),
        (["новоселов", "РУСЛАН"], RUSLAN),
        (["Руслан", "Новосёлов", "Николаевич"], RUSLAN),
    ],
)
def test_find_takes_several_words_without_quotes(
    archive: Archive, words: list[str], student: str
) -> None:
    result = archive.run("find", *words, "--json")
    assert result.returncode == 0, result.stderr
    assert [m["student_id"] for m in result.json()] == [student]


def test_find_suggests_close_names_for_a_typo(archive: Archive) -> None:
    result = archive.run("find", "Симёнов")
    assert result.returncode == 0, result.stderr
    assert "найдено 0" in result.stdout
    assert "Возможно, имелось в виду: Семёнов" in result.stdout
    followed = archive.run("find", "Семёнов", "--json").json()
    assert followed[0]["student_id"] == SEMENOV
    two = archive.run("find", "Новосолов", "Руслан")
    assert "«новосолов» нет ни в одном имени" in two.stdout
    assert "Новосёлов" in two.stdout


# -- 7. the catalog refreshes itself; superseded versions say so


def store_correction(archive: Archive, signed_pdf: SignedPdf) -> str:
    """A corrected summary statement of 5 «А» stored as version 2 (the library's store)."""
    year = archive.years[0]
    export = read_export(year.export, name=year.name).export
    assert export is not None
    path = archive.tmp / "fix" / "c5a-final-marks.pdf"
    path.parent.mkdir()
    path.write_bytes(signed_pdf("final_marks", "c5a", note="исправлено"))
    results = store_records(
        export,
        year.export,
        "export.json",
        [path],
        [archive.primary, archive.secondary],
        correction=REASON,
    )
    (stored,) = [r for r in results if r.status == "stored"]
    return stored.record_id


SUPERSEDED = re.compile(r"заменён версией v2 от \d\d\.\d\d\.\d{4} \(" + REASON + r"\)")


def test_find_refreshes_the_catalog_and_shows_the_current_version(
    archive: Archive, signed_pdf: SignedPdf
) -> None:
    before = archive.run("find", "Казаков", "--class", "c5a", "--json")
    assert before.returncode == 0, before.stderr
    (artem,) = (m for m in before.json() if m["student_id"] == ARTEM)
    assert artem["classes"][0]["records"]["final_marks"] == record(Y1, "c5a", "final_marks")

    v2 = store_correction(archive, signed_pdf)
    assert v2 == record(Y1, "c5a", "final_marks", 2)
    after = archive.run("find", "Казаков", "--class", "c5a")
    assert after.returncode == 0, after.stderr
    assert "Каталог построен" in after.stderr  # refreshed: the archive changed
    assert f"сводная ведомость:   {v2}" in after.stdout
    assert record(Y1, "c5a", "final_marks") + "\n" not in after.stdout
    again = archive.run("find", "Казаков")
    assert "Каталог построен" not in again.stderr  # nothing changed since: no rebuild


def test_get_and_list_of_a_superseded_version_say_so(
    archive: Archive, signed_pdf: SignedPdf
) -> None:
    v2 = store_correction(archive, signed_pdf)
    v1 = record(Y1, "c5a", "final_marks")
    out = archive.tmp / "old.pdf"
    got = archive.run("get", v1, "--out", str(out), "--reason", "проверка")
    assert got.returncode == 0, got.stderr
    assert SUPERSEDED.search(got.stdout), got.stdout
    assert f"действующая версия: {v2}" in got.stdout
    as_json = archive.run(
        "get", v1, "--out", str(archive.tmp / "old2.pdf"), "--reason", "проверка", "--json"
    ).json()
    assert as_json["superseded_by"]["record_id"] == v2
    assert as_json["superseded_by"]["reason"] == REASON
    current = archive.run(
        "get", v2, "--out", str(archive.tmp / "new.pdf"), "--reason", "проверка", "--json"
    ).json()
    assert current["superseded_by"] is None

    listed = archive.run("list", "--class", "5 «А»", "--kind", "final_marks")
    assert listed.returncode == 0, listed.stderr
    (old_line,) = [line for line in listed.stdout.splitlines() if line.startswith(v1 + " ")]
    assert SUPERSEDED.search(old_line), old_line
    (new_line,) = [line for line in listed.stdout.splitlines() if line.startswith(v2 + " ")]
    assert "заменён" not in new_line and f"исправление: {REASON}" in new_line
    assert "Записей: 2 (действующих версий 1, заменённых 1)" in listed.stdout


# -- 10. archiver list


def test_list_gives_every_record_with_hashes_retention_and_copies(archive: Archive) -> None:
    result = archive.run("list", "--json")
    assert result.returncode == 0, result.stderr
    answer = result.json()
    assert answer["ok"] is True
    records = answer["records"]
    stored_records = {
        str(path.parent.relative_to(archive.primary_root))
        for path in archive.primary_root.rglob("archive-record.json")
    }
    assert len(stored_records) >= 9  # journals, statements, exports (and the years' inventories)
    assert {r["record_id"] for r in records} == stored_records
    assert archive.secondary_root is not None
    for item in records:
        stored = json.loads(
            (archive.primary_root / item["record_id"] / "archive-record.json").read_text()
        )
        assert item["sha256"] == stored["file"]["sha256"]
        assert item["retain_until"] == stored["retention"]["retain_until"]
        assert item["version"] == 1 and item["latest"] is True
        assert [c["location"] for c in item["copies"]] == ["primary", "secondary"]
        for copy, root in zip(
            item["copies"], (archive.primary_root, archive.secondary_root), strict=True
        ):
            assert copy["state"] == "ok"
            path = Path(copy["url"])
            assert path.is_relative_to(root)
            assert hashlib.sha256(path.read_bytes()).hexdigest() == item["sha256"]
    finals = archive.run("list", "--kind", "final_marks", "--year", "2026-2027", "--json").json()
    assert [r["record_id"] for r in finals["records"]] == [record(Y2, "c6a", "final_marks")]
    kinds = {r["kind"] for r in archive.run("list", "--class", "c5a", "--json").json()["records"]}
    assert kinds == {"class_journal", "final_marks"}


def test_list_reports_a_damaged_and_a_missing_copy(archive: Archive) -> None:
    damaged = record(Y1, "c5a", "class_journal")
    payload = archive.payload(archive.primary_root, damaged)
    make_writable(payload)
    payload.write_bytes(payload.read_bytes() + b"tail")
    gone = record(Y1, "c1a", "class_journal")
    assert archive.secondary_root is not None
    lost = archive.payload(archive.secondary_root, gone)
    make_writable(lost)
    lost.unlink()
    result = archive.run("list")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    block = lines[lines.index(next(x for x in lines if x.startswith(damaged + " "))) :][:6]
    assert any("✘ primary:" in x and "повреждена" in x for x in block), block
    assert any("✔ secondary:" in x and "на месте" in x for x in block), block
    block = lines[lines.index(next(x for x in lines if x.startswith(gone + " "))) :][:6]
    assert any("✘ secondary:" in x and "— нет" in x for x in block), block
    assert "с отсутствующими или повреждёнными копиями: 2" in result.stdout


def test_list_names_the_s3_bucket_key_and_version(s3_archive: Archive) -> None:
    archive = s3_archive
    result = archive.run("list", "--year", Y1, "--json")
    assert result.returncode == 0, result.stderr
    records = result.json()["records"]
    stored = {
        rel
        for path in archive.primary_root.rglob("archive-record.json")
        if (rel := str(path.parent.relative_to(archive.primary_root))).split("/")[1]
        == Y1.replace("/", "-")
    }
    assert len(stored) >= 5  # journals, statements, the export (and the year's inventory)
    assert {r["record_id"] for r in records} == stored

    for item in records:
        primary, secondary = item["copies"]
        assert primary["bucket"] is None and Path(primary["url"]).is_file()
        assert secondary["state"] == "ok", secondary
        assert secondary["url"] == f"s3://{secondary['bucket']}/{secondary['key']}"
        assert secondary["key"].startswith("journal/" + item["record_id"] + "/data/")
        stored = archive.secondary.read(secondary["key"].removeprefix("journal/"))
        assert stored.info.version_id == secondary["version_id"]
        assert hashlib.sha256(stored.data).hexdigest() == item["sha256"]


# -- 8. the access log: names shown; an offline copy told from a broken chain, then mended


def test_log_show_names_the_pupil_and_the_document(archive: Archive) -> None:
    rid = record(Y1, "c5a", "final_marks")
    assert (
        archive.run("get", rid, "--out", str(archive.tmp / "a.pdf"), "--reason", "r1").returncode
        == 0
    )
    made = archive.run(
        "extract", "--student", ARTEM, "--out", str(archive.tmp / "b.pdf"), "--reason", "r2"
    )
    assert made.returncode == 0, made.stderr
    shown = archive.run("log", "show")
    assert shown.returncode == 0, shown.stderr
    assert f"обучающийся Казаков Артём Михайлович (id {ARTEM}; demo-perm-si)" in shown.stdout
    assert f"{rid} (Сводная ведомость" in shown.stdout or f"{rid} (" in shown.stdout
    entries = archive.run("log", "show", "--json").json()
    assert entries[1]["names"]["student"] == "Казаков Артём Михайлович"
    assert entries[1]["what"] == {"school_id": "demo-perm-si", "student_id": ARTEM}  # ids kept
    stored = json.loads(archive.log_file(archive.primary_root, 2).read_text())
    assert "Казаков" not in json.dumps(stored, ensure_ascii=False)  # the log itself keeps ids


def _get(archive: Archive, n: int) -> None:
    rid = record(Y1, "c5a", "final_marks")
    result = archive.run("get", rid, "--out", str(archive.tmp / f"g{n}.pdf"), "--reason", f"r{n}")
    assert result.returncode == 0, result.stderr


def test_log_verify_tells_an_offline_copy_from_a_broken_chain_and_mends_it(
    archive: Archive,
) -> None:
    assert archive.secondary_root is not None
    _get(archive, 1)
    away = archive.tmp / "usb-unplugged"
    archive.secondary_root.rename(away)
    _get(archive, 2)  # written to the primary only
    offline = archive.run("log", "verify")
    assert offline.returncode == 1
    assert "журнал доступа нарушен" not in offline.stderr
    assert "недоступно, журнал в нём не проверен" in offline.stdout
    assert "проверен не полностью" in offline.stderr

    away.rename(archive.secondary_root)
    back = archive.run("log", "verify")
    assert back.returncode == 0, back.stdout + back.stderr
    assert "журнал доступа нарушен" not in back.stderr
    assert "не хватает последних записей № 2" in back.stdout
    assert not archive.log_file(archive.secondary_root, 2).exists()

    mended = archive.run("log", "verify", "--repair")
    assert mended.returncode == 0, mended.stdout + mended.stderr
    assert "запись № 2 дописана в хранилище «secondary» из хранилища «primary»" in mended.stdout
    assert (
        archive.log_file(archive.secondary_root, 2).read_bytes()
        == archive.log_file(archive.primary_root, 2).read_bytes()
    )
    final = archive.run("log", "verify")
    assert final.returncode == 0
    assert "копии в хранилищах совпадают" in final.stdout


def test_log_verify_repair_restores_a_changed_entry_from_the_good_copy(
    archive: Archive,
) -> None:
    assert archive.secondary_root is not None
    for n in (1, 2, 3):
        _get(archive, n)
    changed = archive.log_file(archive.primary_root, 2)
    good = archive.log_file(archive.secondary_root, 2).read_bytes()
    make_writable(changed)
    changed.write_bytes(changed.read_bytes().replace(b'"r2"', b'"r9"'))
    broken = archive.run("log", "verify")
    assert broken.returncode == 1
    assert "журнал доступа нарушен (записи № 2)" in broken.stderr
    mended = archive.run("log", "verify", "--repair")
    assert mended.returncode == 0, mended.stdout + mended.stderr
    assert "запись № 2 восстановлена в хранилище «primary» из хранилища «secondary»" in (
        mended.stdout
    )
    assert changed.read_bytes() == good
    assert archive.run("log", "verify").returncode == 0


def test_a_lagging_copy_without_the_unavailable_note_is_damage(archive: Archive) -> None:
    # the last entry removed from one copy by hand is not «behind»: it was written there
    assert archive.secondary_root is not None
    _get(archive, 1)
    _get(archive, 2)
    last = archive.log_file(archive.secondary_root, 2)
    make_writable(last)
    last.unlink()
    result = archive.run("log", "verify")
    assert result.returncode == 1
    assert "журнал доступа нарушен (записи № 2)" in result.stderr
