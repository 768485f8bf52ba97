"""The catalog, ``find``, ``get`` and ``extract`` on a small school archived for two years.

The archive is written by the real store operation into two local folders (and, in one
test, a local folder and an S3 bucket with Object Lock on moto's server); the commands
run through archiver's real entry point. Documents written out are checked
independently: hashes against the stored bags, the extract read back with pypdf and
pyHanko.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from archiver.archive.catalog import normalize, normalize_class
from tests.fixtures.archive import ARTEM, SCHOOL, SEMENOV, Archive, Year, make_writable, record
from tests.fixtures.pki import PkiEnvironment
from tests.fixtures.storage import SignedPdf

Y1, Y2 = "2025/2026", "2026/2027"


def catalog_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table of the catalog but ``meta``, sorted (for comparing two builds)."""
    db = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if r[0] != "meta"
        ]
        return {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}
    finally:
        db.close()


# -- normalization


@pytest.mark.parametrize(
    ("a", "b"),
    [("Артём", "артем"), ("СЕМЁНОВ", "семенов"), ("Семёнов-Фёдоров", "семенов-федоров")],
)
def test_names_normalize_alike(a: str, b: str) -> None:
    assert normalize(a) == normalize(b)


def test_class_names_normalize_alike() -> None:
    assert normalize_class("5 «А»") == normalize_class("5а") == normalize_class("5 А") == "5а"


# -- rebuild


def test_rebuild_indexes_records_students_and_marks(archive: Archive) -> None:
    result = archive.run("catalog", "rebuild", "--json")
    assert result.returncode == 0, result.stderr
    summary = result.json()
    # per year: export + journals + statements; 2025/2026: 1a (+decisions), 5a (+fm), club;
    # 2026/2027: 6a (+fm), club
    assert summary["records"] == 5 + 1 + 3 + 1
    assert summary["years"] == 2
    assert summary["location"] == "primary"
    assert summary["problems"] == []
    assert Path(summary["catalog"]) == archive.catalog
    db = sqlite3.connect(archive.catalog)
    name = db.execute(
        "SELECT full_name, birth_date, name_norm FROM students WHERE student_id = ? "
        "AND academic_year = ?",
        (ARTEM, Y1),
    ).fetchone()
    assert name[0] == "Казаков Артём Михайлович"
    assert name[2] == "казаков артем михайлович"
    classes = db.execute(
        "SELECT academic_year, class_id FROM enrolments WHERE student_id = ? ORDER BY 1, 2",
        (ARTEM,),
    ).fetchall()
    assert classes == [(Y1, "c5a"), (Y1, "club1"), (Y2, "c6a"), (Y2, "club1")]
    marks = db.execute(
        "SELECT subject_name, year_mark, exam_mark FROM final_marks WHERE student_id = ? "
        "AND academic_year = ? ORDER BY position",
        (ARTEM, Y2),
    ).fetchall()
    assert marks and marks[0][2] == "5"  # the exam mark of the second year
    assert all(m[1] in {"3", "4", "5"} for m in marks)
    promotion = db.execute(
        "SELECT decision FROM promotions WHERE student_id = ? ORDER BY academic_year", (ARTEM,)
    ).fetchall()
    assert [p[0] for p in promotion] == ["условно переведён в 6 класс", "переведён в 7 класс"]
    db.close()


def test_rebuild_is_idempotent_and_atomic(archive: Archive) -> None:
    assert archive.run("catalog", "rebuild").returncode == 0
    first = catalog_rows(archive.catalog)
    inode = archive.catalog.stat().st_ino
    second_run = archive.run("catalog", "rebuild")
    assert second_run.returncode == 0, second_run.stderr
    assert "Каталог построен: записей 10, учебных лет 2" in second_run.stdout
    assert catalog_rows(archive.catalog) == first
    assert archive.catalog.stat().st_ino != inode  # a new file renamed into place
    assert sorted(p.name for p in archive.catalog.parent.iterdir()) == ["catalog.sqlite"]


def test_rebuild_falls_back_to_the_secondary_location(archive: Archive) -> None:
    archive.primary_root.rename(archive.tmp / "nas-unmounted")
    result = archive.run("catalog", "rebuild")
    assert result.returncode == 0, result.stderr
    assert "хранилище «primary» недоступно" in result.stderr
    assert "по хранилищу «secondary»" in result.stdout
    assert len(catalog_rows(archive.catalog)["students"]) > 0


def test_rebuild_replaces_a_damaged_export_copy(archive: Archive) -> None:
    export = archive.payload(archive.primary_root, record(Y1, None, "journal_export"))
    make_writable(export)
    export.write_bytes(export.read_bytes().replace("Артём".encode(), "Артур".encode()))
    result = archive.run("catalog", "rebuild")
    assert result.returncode == 0, result.stderr
    assert "копия в хранилище «primary» повреждена" in result.stderr
    found = archive.run("find", "артем", "--year", Y1, "--json").json()
    assert [m["student_id"] for m in found] == [ARTEM]  # read from the good copy


# -- find


@pytest.mark.parametrize("query", ["Артём", "артем", "АРТЕМ", "артём казаков", "Казаков Арт"])
def test_find_ignores_case_and_yo(archive: Archive, query: str) -> None:
    result = archive.run("find", query, "--json")
    assert result.returncode == 0, result.stderr
    found = result.json()
    assert ARTEM in [m["student_id"] for m in found]


@pytest.mark.parametrize("query", ["СЕМЁНОВ", "семенов", "Семенов", "сЕмЁнОв"])
def test_find_surname_variants(archive: Archive, query: str) -> None:
    found = archive.run("find", query, "--json").json()
    assert SEMENOV in [m["student_id"] for m in found]
    # Семёнов-Фёдоров, and pupils whose middle name is Семёнович / Семёновна
    assert all("семенов" in normalize(m["full_name"]) for m in found)
    assert archive.run("find", "семенов", "--json").json() == found


@pytest.mark.parametrize("query", ["Семенов-Федоров", "ёнов-фё", "СЕМЕНОВ-ФЁДОРОВ ЕГОР"])
def test_find_one_surname(archive: Archive, query: str) -> None:
    found = archive.run("find", query, "--json").json()
    assert [m["student_id"] for m in found] == [SEMENOV]
    assert found[0]["full_name"] == "Семёнов-Фёдоров Егор Борисович"


def test_find_builds_the_catalog_when_missing(archive: Archive) -> None:
    assert not archive.catalog.exists()
    result = archive.run("find", "казаков")
    assert result.returncode == 0, result.stderr
    assert archive.catalog.is_file()
    assert "Каталог построен" in result.stderr
    out = result.stdout
    assert "Казаков Артём Михайлович, дата рождения" in out
    assert f"id {ARTEM}" in out
    assert f"журнал класса:       {record(Y1, 'c5a', 'class_journal')}" in out
    assert f"сводная ведомость:   {record(Y1, 'c5a', 'final_marks')}" in out
    assert f"сводная ведомость:   {record(Y2, 'c6a', 'final_marks')}" in out
    assert "Кружок «Умелые руки»" in out


def test_find_json_lists_classes_and_records(archive: Archive) -> None:
    found = archive.run("find", "Казаков", "--json").json()
    (artem,) = (m for m in found if m["student_id"] == ARTEM)
    assert artem["school_id"] == SCHOOL
    assert artem["birth_date"] and len(artem["birth_date"]) == 10
    by_class = {(c["academic_year"], c["class_id"]): c for c in artem["classes"]}
    assert set(by_class) == {(Y1, "c5a"), (Y1, "club1"), (Y2, "c6a"), (Y2, "club1")}
    assert by_class[(Y1, "c5a")]["records"] == {
        "class_journal": record(Y1, "c5a", "class_journal"),
        "final_marks": record(Y1, "c5a", "final_marks"),
        "journal_export": record(Y1, None, "journal_export"),
    }
    assert by_class[(Y1, "club1")]["records"]["final_marks"] is None


def test_find_filters_by_year_and_class(archive: Archive) -> None:
    only_y2 = archive.run("find", "казаков", "--year", "2026-2027", "--json").json()
    (artem,) = (m for m in only_y2 if m["student_id"] == ARTEM)
    assert {c["academic_year"] for c in artem["classes"]} == {Y2}
    in_5a = archive.run("find", "артем", "--class", "5 «А»", "--json").json()
    assert [[c["class_id"] for c in m["classes"]] for m in in_5a] == [["c5a"]]
    in_5a_by_id = archive.run("find", "артем", "--class", "c5a", "--json").json()
    assert in_5a_by_id == in_5a
    nobody = archive.run("find", "казаков", "--class", "1а")
    assert nobody.returncode == 0
    assert "найдено 0" in nobody.stdout


def test_find_refuses_an_empty_query(archive: Archive) -> None:
    result = archive.run("find", "  ")
    assert result.returncode == 2
    assert "пустой запрос" in result.stderr


# -- get


def test_get_writes_the_document_checked_against_the_manifest(archive: Archive) -> None:
    rid = record(Y1, "c5a", "final_marks")
    out = archive.tmp / "out" / "statement.pdf"
    result = archive.run(
        "get", rid, "--out", str(out), "--reason", "запрос бывшего ученика", "--json"
    )
    assert result.returncode == 0, result.stderr
    answer = result.json()
    stored = json.loads((archive.primary_root / rid / "archive-record.json").read_text())
    assert out.read_bytes() == archive.payload(archive.primary_root, rid).read_bytes()
    assert hashlib.sha256(out.read_bytes()).hexdigest() == stored["file"]["sha256"]
    assert answer["sha256"] == stored["file"]["sha256"]
    assert answer["location"] == "primary"
    assert answer["notes"] == []
    assert answer["access_log"]["seq"] == 1
    assert out.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in out.parent.iterdir()] == ["statement.pdf"]  # no temporary left


def test_get_falls_back_to_the_secondary_copy_when_the_primary_is_damaged(
    archive: Archive,
) -> None:
    rid = record(Y1, "c5a", "class_journal")
    damaged = archive.payload(archive.primary_root, rid)
    make_writable(damaged)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))
    out = archive.tmp / "journal.pdf"
    result = archive.run("get", rid, "--out", str(out), "--reason", "проверка")
    assert result.returncode == 0, result.stderr
    assert "копия в хранилище «primary» повреждена" in result.stderr
    assert "использована копия из хранилища «secondary»" in result.stderr
    assert "копия: хранилище «secondary»" in result.stdout
    assert archive.secondary_root is not None
    assert out.read_bytes() == archive.payload(archive.secondary_root, rid).read_bytes()


def test_get_refuses_when_every_copy_is_damaged(archive: Archive) -> None:
    rid = record(Y1, "c5a", "class_journal")
    assert archive.secondary_root is not None
    for root in (archive.primary_root, archive.secondary_root):
        damaged = archive.payload(root, rid)
        make_writable(damaged)
        damaged.write_bytes(damaged.read_bytes() + b"\n")
    out = archive.tmp / "journal.pdf"
    result = archive.run("get", rid, "--out", str(out), "--reason", "проверка")
    assert result.returncode == 1
    assert "ни одна копия не совпадает" in result.stderr
    assert not out.exists()
    assert not (archive.primary_root / "_access-log").exists()  # nothing handed out, nothing logged


def test_get_never_overwrites(archive: Archive) -> None:
    out = archive.tmp / "exists.pdf"
    out.write_bytes(b"mine")
    rid = record(Y1, "c5a", "final_marks")
    result = archive.run("get", rid, "--out", str(out), "--reason", "проверка")
    assert result.returncode == 2
    assert "уже существует" in result.stderr
    assert out.read_bytes() == b"mine"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reason", "  "], "укажите причину"),
        ([], "--reason"),
    ],
)
def test_get_requires_a_reason(archive: Archive, args: list[str], message: str) -> None:
    rid = record(Y1, "c5a", "final_marks")
    result = archive.run("get", rid, "--out", str(archive.tmp / "x.pdf"), *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_get_unknown_record(archive: Archive) -> None:
    out = str(archive.tmp / "x.pdf")
    missing = archive.run("get", record(Y1, "c9z", "final_marks"), "--out", out, "--reason", "r")
    assert missing.returncode == 2
    assert "нет в архиве" in missing.stderr
    bad = archive.run("get", "не/номер", "--out", out, "--reason", "r")
    assert bad.returncode == 2
    assert "не номер записи архива" in bad.stderr


# -- extract


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_extract_makes_a_one_page_pdfa_of_every_year(archive: Archive) -> None:
    out = archive.tmp / "extract.pdf"
    result = archive.run(
        "extract",
        "--student",
        ARTEM,
        "--out",
        str(out),
        "--reason",
        "запрос бывшего ученика, вх. № 12",
        "--operator",
        "Секретарь Иванова",
    )
    assert result.returncode == 0, result.stderr
    assert "НЕ подписана электронной подписью" in result.stdout
    assert "записана в журнал доступа" not in result.stdout
    assert "Обращение записано в журнал доступа: № 1" in result.stdout
    pdf = out.read_bytes()
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = pdf_text(pdf)
    for expected in (
        "ВЫПИСКА",
        "из сводной ведомости итоговых отметок",
        "Казаков Артём Михайлович",
        "Сосновоборская",
        "Пермский край",
        "2025/",
        "2026/",
        "5 «А»",
        "6 «А»",
        "Русский язык",
        "условно переведён в 6 класс",
        "переведён в 7 класс",
        "экз. 5",
        record(Y1, None, "journal_export")[:20],
        "Директор",
    ):
        assert expected in text, expected
    xmp = reader.xmp_metadata
    assert xmp is not None
    raw = xmp.stream.get_data().decode("utf-8")
    assert "<pdfaid:part>3</pdfaid:part>" in raw
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in raw
    embedded = reader.attachments
    (name,) = embedded
    data = json.loads(embedded[name][0])
    assert data["student"]["id"] == ARTEM
    assert [y["academic_year"] for y in data["years"]] == [Y1, Y2]
    assert {s["record_id"] for s in data["sources"]} == {
        record(Y1, None, "journal_export"),
        record(Y2, None, "journal_export"),
    }


def test_extract_marks_match_the_archived_export(archive: Archive) -> None:
    out = archive.tmp / "extract.pdf"
    assert (
        archive.run("extract", "--student", ARTEM, "--out", str(out), "--reason", "r").returncode
        == 0
    )
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    data = json.loads(next(iter(reader.attachments.values()))[0])
    export = json.loads(
        archive.payload(archive.primary_root, record(Y1, None, "journal_export")).read_bytes()
    )
    (c5a,) = (c for c in export["classes"] if c["id"] == "c5a")
    subjects = {s["id"]: s["name"] for s in export["subjects"]}
    expected = {
        subjects[course["subject"]]: m["value"]
        for course in c5a["courses"]
        for m in course["year_marks"]
        if m["student"] == ARTEM
    }
    first = data["years"][0]
    assert {m["subject"]: m["year"] for m in first["marks"] if m["year"]} == expected


def test_extract_is_signed_only_when_asked(archive: Archive, test_pki: PkiEnvironment) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    certificate = archive.tmp / "director.pem"
    certificate.write_bytes(test_pki.cert_pem("director"))
    archive.write_config(
        f'[signer]\nkind = "pkcs12"\npkcs12_file = "{test_pki.director_p12}"\n'
        f'certificate = "{certificate}"\n'
        'passphrase_env = "TEST_EXTRACT_P12"\n\n[signature]\nlevel = "B-B"\n'
    )
    passphrase = {"TEST_EXTRACT_P12": test_pki.p12_passphrase.decode()}
    unsigned = archive.tmp / "unsigned.pdf"
    result = archive.run(
        "extract", "--student", ARTEM, "--out", str(unsigned), "--reason", "r", env=passphrase
    )
    assert result.returncode == 0, result.stderr
    assert b"/ByteRange" not in unsigned.read_bytes()  # a key set up is not a request to sign
    assert "НЕ подписана" in result.stdout and "--sign" in result.stdout
    out = archive.tmp / "signed.pdf"
    result = archive.run(
        "extract", "--student", ARTEM, "--out", str(out), "--reason", "r", "--sign", env=passphrase
    )
    assert result.returncode == 0, result.stderr
    assert "будет подписана ключом: Кузнецова Ольга Петровна" in result.stderr
    assert "подписана электронной подписью: Кузнецова Ольга Петровна" in result.stdout
    pdf = out.read_bytes()
    signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    assert len(signatures) == 1
    assert signatures[0].field_name == "DirectorSignature"
    reason = str(signatures[0].sig_object["/Reason"])
    assert reason == "Заверение выписки из сводной ведомости итоговых отметок"
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert "О. П. Кузнецова" in pdf_text(pdf)


def test_extract_of_an_unknown_student(archive: Archive) -> None:
    out = archive.tmp / "x.pdf"
    result = archive.run("extract", "--student", "s9999", "--out", str(out), "--reason", "r")
    assert result.returncode == 2
    assert "s9999" in result.stderr
    assert not out.exists()


def test_extract_sees_a_year_stored_after_the_catalog_was_built(archive: Archive) -> None:
    # the catalog knows only what was there when it was built; extract checks the exports
    assert archive.run("catalog", "rebuild").returncode == 0
    db = sqlite3.connect(archive.catalog)
    db.execute("DELETE FROM records WHERE academic_year = ?", (Y2,))
    db.execute("DELETE FROM years WHERE academic_year = ?", (Y2,))
    db.commit()
    db.close()
    out = archive.tmp / "x.pdf"
    result = archive.run("extract", "--student", ARTEM, "--out", str(out), "--reason", "r")
    assert result.returncode == 0, result.stderr
    assert "Каталог построен" in result.stderr
    assert f"учебные годы {Y1}, {Y2}" in result.stdout


# -- twenty years on: the exports and the bundles (5 years) are gone, the statements (25) stay

FIRST_GRADER = "s0001"
"""Борисова, 1 «А» (no marks recorded): the council's decision is her only long-term record."""
LEAVER = "s0011"
"""Афанасьева, 5 «А», left on 9 April 2026: period marks, no year marks."""


def dispose(archive: Archive, record_id: str) -> None:
    """Remove a record from both local locations, as disposal at the end of its term would."""
    for root in (archive.primary_root, archive.secondary_root):
        assert root is not None
        folder = archive.record_path(root, record_id)
        for path in [folder, *folder.rglob("*")]:
            make_writable(path)
        shutil.rmtree(folder)


def extract_data(archive: Archive, out: Path, student: str = ARTEM) -> Any:
    """``archiver extract`` of Артём (or ``student``): the data file embedded in the one-page extract."""
    result = archive.run("extract", "--student", student, "--out", str(out), "--reason", "запрос")
    assert result.returncode == 0, result.stderr
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    assert len(reader.pages) == 1
    return json.loads(next(iter(reader.attachments.values()))[0])


def without_sources(years: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in year.items() if k != "sources"} for year in years]


def test_find_and_extract_after_the_exports_are_disposed(
    tmp_path: Path, school_years: tuple[Year, Year], signed_pdf: SignedPdf
) -> None:
    archive = Archive(tmp_path, school_years, signed_pdf, statements=True)
    before = extract_data(archive, tmp_path / "before.pdf")
    assert {s["kind"] for s in before["sources"]} == {"journal_export"}
    first_grader = extract_data(archive, tmp_path / "before-1a.pdf", FIRST_GRADER)
    leaver = extract_data(archive, tmp_path / "before-leaver.pdf", LEAVER)

    gone = [record(Y1, None, "journal_export"), record(Y2, None, "journal_export")]
    gone += [record(Y1, c, "class_journal") for c in ("c1a", "c5a", "club1")]
    gone += [record(Y2, c, "class_journal") for c in ("c6a", "club1")]
    for rid in gone:
        dispose(archive, rid)

    rebuilt = archive.run("catalog", "rebuild", "--json")
    assert rebuilt.returncode == 0, rebuilt.stderr
    summary = rebuilt.json()
    # the statements of 5 «А», 6 «А» and the 1st class's statement of decisions
    assert summary["records"] == 3 and summary["years"] == 2 and summary["problems"] == []
    assert any("вложенных в их документы" in n for n in summary["notes"])
    found = archive.run("find", "КАЗАКОВ артем", "--json").json()
    (artem,) = found
    assert artem["birth_date"] is None  # the statements print no birth date, so they keep none
    assert [(c["academic_year"], c["class_id"]) for c in artem["classes"]] == [
        (Y1, "c5a"),
        (Y2, "c6a"),
    ]  # the club promotes nobody and has no statement: nothing of it is left
    assert artem["classes"][0]["data_record"] == record(Y1, "c5a", "final_marks")
    assert artem["classes"][0]["records"]["journal_export"] is None

    out = tmp_path / "after.pdf"
    after = extract_data(archive, out)
    # the same classes, marks and decisions, now read from the statements
    assert without_sources(after["years"]) == without_sources(before["years"])
    statements = [record(Y1, "c5a", "final_marks"), record(Y2, "c6a", "final_marks")]
    assert [y["sources"]["data"]["record_id"] for y in after["years"]] == statements
    assert [s["record_id"] for s in after["sources"]] == statements
    text = pdf_text(out.read_bytes())
    assert "сводная ведомость итоговых отметок (вложенные в неё данные)" in text
    assert "Казаков Артём Михайлович" in text
    assert "переведён в 7 класс" in text
    logged = archive.run("log", "show", "--json")
    assert logged.returncode == 0, logged.stderr
    assert "final_marks" in logged.stdout

    # the 1st grader (no marks): found and promoted, from the statement of decisions
    (pupil,) = archive.run("find", "Борисова", "--json").json()
    assert pupil["student_id"] == FIRST_GRADER
    assert pupil["classes"][0]["data_record"] == record(Y1, "c1a", "final_marks")
    out = tmp_path / "after-1a.pdf"
    after_1a = extract_data(archive, out, FIRST_GRADER)
    assert without_sources(after_1a["years"]) == without_sources(first_grader["years"])
    assert after_1a["years"][0]["decision"] == "переведена во 2 класс"
    text = pdf_text(out.read_bytes())
    assert "переведена во 2 класс" in text and "протокол педсовета № 7 от 27.05.2026" in text
    assert "сводная ведомость решений педагогического совета (вложенные в неё данные)" in " ".join(
        text.split()
    )

    # the pupil who left in April: every period mark she got, and when she left
    out = tmp_path / "after-leaver.pdf"
    after_leaver = extract_data(archive, out, LEAVER)
    assert without_sources(after_leaver["years"]) == without_sources(leaver["years"])
    marks = after_leaver["years"][0]["marks"]
    assert sum(len(m["periods"]) for m in marks) >= len(marks)  # a period mark per subject at least
    assert all(m["year"] is None for m in marks)
    text = pdf_text(out.read_bytes())
    assert "выбыл(а) 09.04.2026" in text
    for mark in marks:
        assert " · ".join(p["value"] for p in mark["periods"]) in text


# -- the same with an S3 location


def test_find_get_extract_with_an_s3_location(s3_archive: Archive) -> None:
    archive = s3_archive
    rebuilt = archive.run("catalog", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    found = archive.run("find", "СЕМЁНОВ-федоров", "--json").json()
    assert [m["student_id"] for m in found] == [SEMENOV]
    rid = record(Y1, "c5a", "final_marks")
    damaged = archive.payload(archive.primary_root, rid)
    make_writable(damaged)
    damaged.write_bytes(b"%PDF-1.7 not the document")
    out = archive.tmp / "from-s3.pdf"
    got = archive.run("get", rid, "--out", str(out), "--reason", "проверка", "--json")
    assert got.returncode == 0, got.stderr
    answer = got.json()
    assert answer["location"] == "secondary"
    assert answer["url"].startswith("s3://")
    stored = archive.secondary.read(f"{rid}/archive-record.json").data
    assert hashlib.sha256(out.read_bytes()).hexdigest() == json.loads(stored)["file"]["sha256"]
    extract = archive.tmp / "extract.pdf"
    made = archive.run("extract", "--student", SEMENOV, "--out", str(extract), "--reason", "r")
    assert made.returncode == 0, made.stderr
    assert "Семёнов-Фёдоров Егор Борисович" in pdf_text(extract.read_bytes())
    verified = archive.run("log", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "записей 2, цепочка не нарушена" in verified.stdout
