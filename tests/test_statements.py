"""The 25-year documents read back: the statement's own embedded data, the statement of decisions
of a class without marks, the inventory of the year's files (опись дел)."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pypdf import PdfReader

from archiver.archive.embedded import embedded_facts, identity_problems, record_identity_problem
from archiver.archive.extract import leaving_text
from archiver.archive.record import record_id, record_prefix
from archiver.kinds import (
    CLASS_JOURNAL,
    FINAL_MARKS,
    INVENTORY,
    document_paths,
    export_attachment_name,
)
from archiver.model import JournalExport
from archiver.render.batch import render_classes
from archiver.render.bundle import ClassRenderer, RenderedDocument
from archiver.render.inventory import (
    files_phrase,
    make_inventory,
    render_inventory,
    year_documents,
)
from archiver.render.pdf import SIGNATURE_FIELD
from archiver.retention import load_policy
from archiver.settings import DocumentsOptions
from archiver.sources.export_v1 import read_export
from archiver.sources.statement_v1 import (
    SCHEMA_FILE,
    json_schema_text,
    read_statement,
    statement_attachment_name,
)
from tests.fixtures.storage import journal_manifest

PROTOCOL = "протокол педсовета № 7 от 27.05.2026"


def load(doc: dict[str, Any]) -> JournalExport:
    report = read_export(json.dumps(doc, ensure_ascii=False).encode())
    assert report.export is not None, [str(e) for e in report.errors]
    return report.export


@pytest.fixture(scope="module")
def export(spec_export_doc: dict[str, Any]) -> JournalExport:
    """The spec's export, with the 1st class's pupil promoted by the teachers' council."""
    doc = json.loads(json.dumps(spec_export_doc))
    first = next(c for c in doc["classes"] if c["id"] == "1a")
    pupil = first["students"][0]["id"]
    first["promotion"] = [
        {"student": pupil, "decision": "переведена во 2 класс", "protocol": PROTOCOL}
    ]
    return load(doc)


@pytest.fixture(scope="module")
def rendered(
    tmp_path_factory: pytest.TempPathFactory, export: JournalExport
) -> tuple[Path, dict[tuple[str, str], RenderedDocument]]:
    out = tmp_path_factory.mktemp("statements")
    docs = render_classes(export, out, workers=1)  # in this process: no fork after other tests
    return out, {(d.class_id, d.kind): d for d in docs}


def text_of(path: Path) -> str:
    """The document's text, every run of white space (line breaks in table cells) as one space."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


def attachment(path: Path, name: str) -> bytes:
    (data,) = PdfReader(path).attachments[name]
    return data


def keys_in(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in keys_in(v)}
    if isinstance(node, list):
        return {k for v in node for k in keys_in(v)}
    return set()


# -- point 2: the statement embeds only what it certifies


def test_statement_embeds_only_its_own_data(
    rendered: tuple[Path, dict[tuple[str, str], RenderedDocument]], export: JournalExport
) -> None:
    _, docs = rendered
    path = docs[("5a", FINAL_MARKS)].path
    reader = PdfReader(path)
    assert list(reader.attachments) == [statement_attachment_name("5a")]
    raw = attachment(path, statement_attachment_name("5a"))
    data = json.loads(raw)
    assert (data["format"], data["format_version"], data["statement"]) == (
        "archiver-class-statement",
        1,
        "final_marks",
    )
    keys = keys_in(data)
    assert not keys & {"lessons", "marks", "attendance", "attendance_codes", "birth_date", "lesson"}
    school_class = export.classes_by_id["5a"]
    text = raw.decode("utf-8")
    for course in school_class.courses:
        for lesson in course.lessons:
            assert lesson.id not in text and (not lesson.topic or lesson.topic not in text)
    assert not any(
        f'"{s.birth_date.isoformat()}"' in text for s in school_class.students if s.birth_date
    )
    # what it does carry: period marks of the ended periods, year marks, missed totals, decisions
    pupils = {s["id"]: s for s in data["students"]}
    assert (pupils["s2"]["missed"], pupils["s2"]["missed_illness"]) == (3, 2)
    assert pupils["s2"]["left"] == "2025-12-12"
    (subject,) = data["subjects"]
    assert {(m["student"], m["period"], m["value"]) for m in subject["period_marks"]} == {
        ("s1", "q1", "5"),
        ("s2", "q2", "3"),
    }
    assert data["promotion"][0]["decision"] == "переведён в 6 класс"
    assert [p["id"] for p in data["academic_year"]["periods"]] == ["q1", "q2", "q3"]  # ended ones
    # it validates with the shipped schema, and reads back as a one-class export without lessons
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)
    back = read_statement(raw)
    (klass,) = back.classes
    assert klass.id == "5a" and all(not c.lessons and not c.attendance for c in klass.courses)
    assert [s.birth_date for s in klass.students] == [None, None, None]


def test_the_bundle_keeps_its_full_slice(
    rendered: tuple[Path, dict[tuple[str, str], RenderedDocument]],
) -> None:
    _, docs = rendered
    raw = attachment(docs[("5a", CLASS_JOURNAL)].path, export_attachment_name("5a"))
    (klass,) = json.loads(raw)["classes"]
    assert klass["courses"][0]["lessons"] and klass["courses"][0]["attendance"]


def test_shipped_statement_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text(), (
        "regenerate: python -m archiver.sources.statement_v1"
    )
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_FILE.read_text()))


# -- point 1: a class without marks gets a 25-year statement of decisions


def test_class_without_marks_gets_a_statement_of_decisions(
    rendered: tuple[Path, dict[tuple[str, str], RenderedDocument]],
) -> None:
    _, docs = rendered
    assert ("club1", FINAL_MARKS) not in docs  # a club promotes nobody
    statement = docs[("1a", FINAL_MARKS)]
    text = text_of(statement.path)
    assert "Сводная ведомость решений педагогического совета" in text
    assert "переведена во 2 класс" in text and PROTOCOL in text
    assert "безотметочное обучение" in text
    assert "25 лет" in text and "М.П." in text
    assert "Классный руководитель" in text and "О. П. Кузнецова" in text
    reader = PdfReader(statement.path)
    assert reader.metadata is not None and (reader.metadata.get("/Keywords") or "").startswith(
        "final_marks; 1a;"
    )
    assert SIGNATURE_FIELD in (reader.get_fields() or {})
    data = json.loads(attachment(statement.path, statement_attachment_name("1a")))
    assert data["statement"] == "decisions" and data["subjects"] == []
    assert data["promotion"][0]["protocol"] == PROTOCOL
    # the bundle prints the decisions too
    bundle = text_of(docs[("1a", CLASS_JOURNAL)].path)
    assert "Сводная ведомость решений педагогического совета (копия)" in bundle
    assert "переведена во 2 класс" in bundle and PROTOCOL in bundle
    assert "Сводная ведомость" not in text_of(docs[("club1", CLASS_JOURNAL)].path)


def test_a_statement_of_decisions_never_leaves_the_signatures_alone(tmp_path: Path) -> None:
    from archiver.demo.generator import export_bytes, generate_export

    export = read_export(export_bytes(generate_export(classes=3))).export
    assert export is not None
    (statement,) = [
        d for d in render_classes(export, tmp_path, ["c1a"], workers=1) if d.kind == FINAL_MARKS
    ]
    pages = [page.extract_text() for page in PdfReader(statement.path).pages]
    assert len(pages) > 1  # nine pupils and the closing lines do not fit one sheet
    assert "Директор" in pages[-1] and "М.П." in pages[-1]
    before = pages[-1].split("Всего обучающихся")[0]
    assert "Обучающийся" in before and "Протокол" in before  # the heading again over the rows
    assert re.search(r"^\d+ .+ \d+ \d+ (переведён|переведена|оставлен)", before, re.M), pages[-1]


# -- point 3: leaving, worded once


def test_leaving_text() -> None:
    reason = "выбыла в МБОУ «СОШ № 3», приказ № 45 от 12.12.2025"
    assert leaving_text(date(2025, 12, 12), reason) == (
        "выбыл(а) 12.12.2025 в МБОУ «СОШ № 3», приказ № 45 от 12.12.2025"
    )
    assert leaving_text(date(2025, 12, 12), "переезд") == "выбыл(а) 12.12.2025: переезд"
    assert leaving_text(date(2025, 12, 12), None) == "выбыл(а) 12.12.2025"


# -- point 9: the inventory of the year's files


def test_inventory_lists_every_file_with_index_dates_sheets_and_retention(
    rendered: tuple[Path, dict[tuple[str, str], RenderedDocument]], export: JournalExport
) -> None:
    out, docs = rendered
    options = DocumentsOptions(nomenclature={"class_journal": "02-15", "final_marks": "02-16"})
    pdf = make_inventory(export, out, options)
    path = out / "inventory.pdf"
    path.write_bytes(pdf)
    reader = PdfReader(path)
    assert reader.metadata is not None
    assert reader.metadata.get("/Keywords") == "inventory; sch-7; 2025/2026"
    assert SIGNATURE_FIELD in (reader.get_fields() or {})
    text = text_of(path)
    assert "Опись дел" in text and "за 2025/2026 учебный год" in text
    assert "В данную опись внесено 5 (пять) дел с № 1 по № 5" in text
    assert "М.П." in text and "О. П. Кузнецова" in text
    data = json.loads(next(iter(reader.attachments.values()))[0])
    items = data["items"]
    assert [(i["kind"], i["class_id"]) for i in items] == [
        (CLASS_JOURNAL, "5a"),
        (FINAL_MARKS, "5a"),
        (CLASS_JOURNAL, "1a"),
        (FINAL_MARKS, "1a"),
        (CLASS_JOURNAL, "club1"),
    ]
    for item in items:
        document = docs[(item["class_id"], item["kind"])]
        assert item["sheets"] == document.sheets  # a bundle's certification sheet not counted
        assert item["index"] == ("02-15" if item["kind"] == CLASS_JOURNAL else "02-16")
        assert item["retention"] == ("5 лет" if item["kind"] == CLASS_JOURNAL else "25 лет")
    five_a = export.classes_by_id["5a"]
    days = sorted(lesson.date for c in five_a.courses for lesson in c.lessons)
    assert (items[0]["first_date"], items[0]["last_date"]) == (
        days[0].strftime("%d.%m.%Y"),
        days[-1].strftime("%d.%m.%Y"),
    )
    assert data["retention"] == "25 лет"
    # the printed rows: number, index, title, the dates, the sheets, the period
    for item in items:
        row = re.escape(f"{item['number']} {item['index']}")
        assert re.search(row, text), item
        assert item["first_date"] in text and item["last_date"] in text
    assert "Журнал учёта успеваемости обучающихся 5 «А» класса, 2025/2026 учебный год" in text
    assert "Сводная ведомость решений педагогического совета 1 «А» класса" in text
    assert document_paths(out, export, "5a")[CLASS_JOURNAL].is_file()


def test_the_inventory_never_leaves_the_signatures_alone(
    rendered: tuple[Path, dict[tuple[str, str], RenderedDocument]], export: JournalExport
) -> None:
    """However many files, the last sheet carries the last rows with the closing lines and the
    signatures; rows that open a sheet get the table's heading again."""
    out, _ = rendered
    files = year_documents(export, out)
    renderer = ClassRenderer(export)
    policy = load_policy(INVENTORY)
    sheets = set()
    for count in range(4, 16):
        pdf = render_inventory(renderer, (files * 4)[:count], policy)
        pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
        sheets.add(len(pages))
        last = pages[-1]
        assert "Директор" in last and "М.П." in last, count
        assert f"с № 1 по № {count}." in last, count
        before = last.split("В данную опись")[0]
        assert re.search(rf"^{count} ", before, re.M), (count, last)  # the last row
        assert "Заголовок дела" in last, (count, last)  # the heading, on every sheet
    assert sheets == {1, 2}  # some counts run onto a second sheet


def test_files_phrase() -> None:
    assert files_phrase(1) == "1 (одно) дело"
    assert files_phrase(3) == "3 (три) дела"
    assert files_phrase(21) == "21 (двадцать одно) дело"
    assert files_phrase(17) == "17 (семнадцать) дел"


# -- the documents' own identity (archive/embedded.py) knows statements and the inventory


def test_statements_and_the_inventory_carry_their_identity(
    rendered: tuple[Path, dict[tuple[str, str], RenderedDocument]], export: JournalExport
) -> None:
    out, docs = rendered
    school, year = export.school.id, export.academic_year.name
    for class_id in ("5a", "1a"):  # final marks; decisions (no marks)
        payload = docs[(class_id, FINAL_MARKS)].path.read_bytes()
        facts = embedded_facts(payload)
        assert facts.data_kind == "statement-" and facts.data_class_ids == (class_id,)
        assert (facts.school_id, facts.data_year) == (school, year)
        fits = dict(kind=FINAL_MARKS, school_id=school, academic_year=year)
        assert identity_problems(facts, class_id=class_id, **fits) == []
        other = "1a" if class_id == "5a" else "5a"
        assert identity_problems(facts, class_id=other, **fits)
        assert identity_problems(facts, class_id=class_id, **{**fits, "school_id": "other"})
        assert identity_problems(facts, class_id=class_id, **{**fits, "kind": CLASS_JOURNAL})
    journal = embedded_facts(docs[("5a", CLASS_JOURNAL)].path.read_bytes())
    assert journal.data_kind == "journal-export-"
    assert (
        identity_problems(
            journal, kind=CLASS_JOURNAL, school_id=school, academic_year=year, class_id="5a"
        )
        == []
    )
    inventory = embedded_facts(make_inventory(export, out, DocumentsOptions()))
    assert inventory.data_kind == "inventory-" and inventory.data_class_ids == ()
    own = dict(kind=INVENTORY, academic_year=year, class_id=None)
    assert identity_problems(inventory, school_id=school, **own) == []
    assert identity_problems(inventory, school_id="other", **own)
    assert identity_problems(inventory, school_id=school, **{**own, "academic_year": "2024/2025"})
    assert identity_problems(inventory, school_id=school, **{**own, "kind": FINAL_MARKS})
    # a class's document never passes for the inventory, nor the inventory for a class's
    assert identity_problems(journal, school_id=school, **own)
    assert identity_problems(
        inventory, kind=CLASS_JOURNAL, school_id=school, academic_year=year, class_id="5a"
    )


def test_repair_proof_knows_the_records_of_statements_and_the_inventory(
    rendered: tuple[Path, dict[tuple[str, str], RenderedDocument]], export: JournalExport
) -> None:
    """``record_identity_problem`` (verify's repair proof) on a statement and the inventory."""
    out, docs = rendered
    school = export.school.id

    def check(payload: bytes, kind: str, class_id: str | None) -> str | None:
        manifest = journal_manifest(
            payload, kind=kind, class_id=class_id, school_id=school, academic_year="2025/2026"
        )
        rid = record_id(record_prefix(school, "2025-2026", class_id, kind), 1)
        return record_identity_problem(rid, manifest, payload)

    statement = docs[("1a", FINAL_MARKS)].path.read_bytes()  # of decisions
    assert check(statement, FINAL_MARKS, "1a") is None
    assert "класса «1a», а запись — класса «5a»" in (check(statement, FINAL_MARKS, "5a") or "")
    inventory = make_inventory(export, out, DocumentsOptions())
    assert check(inventory, INVENTORY, None) is None
    assert check(statement, INVENTORY, None)  # a class's statement is no inventory
    assert check(inventory, FINAL_MARKS, "1a")
