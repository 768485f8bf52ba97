"""What an archivist checks on the printed documents (issue 12, points 4–8, 10–16).

One small school, made from the hand-written spec export: its 5 «А» gets many more
pupils (listed out of order, names with «ё»), a long first quarter in Russian, the
director a double first name; the school sets file indexes and a retention policy's
legal basis. Everything is read back from the PDFs: text (pypdf, ``pdftotext -bbox``),
font sizes and positions.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PageObject, PdfReader

from archiver.data import builtin
from archiver.kinds import CLASS_JOURNAL, FINAL_MARKS
from archiver.render.batch import render_classes
from archiver.render.bundle import RenderedDocument
from archiver.render.context import balanced_chunks, leaving, short_name
from archiver.render.engines import RenderError
from archiver.settings import DocumentsOptions
from tests.test_render import corner_number, load, texts

MM = 72 / 25.4
SURNAMES = [
    "Яковлев",
    "Ёлкин",
    "Абрамов",
    "Елисеев",
    "Ежов",
    "Зуев",
    "Белов",
    "Щукин",
    "Орлов",
    "Фомин",
    "Жуков",
    "Иванов",
    "Тарасов",
    "Лебедев",
    "Миронов",
    "Никитин",
    "Павлов",
    "Рябов",
    "Сафонов",
    "Уткин",
    "Хохлов",
    "Цветков",
    "Чернов",
    "Шилов",
    "Эйхман",
    "Юдин",
    "Гусев",
    "Дьяков",
    "Воронин",
    "Карпов",
]


@pytest.fixture(scope="module")
def school(spec_export_doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(spec_export_doc)
    doc["school"]["director"]["name"] = "Кузнецова Мария-Луиза Петровна"
    cls = doc["classes"][0]
    for i, surname in enumerate(SURNAMES):
        cls["students"].insert(
            0,
            {
                "id": f"n{i}",
                "last_name": surname,
                "first_name": "Иван",
                "middle_name": "Петрович",
                "birth_date": "2013-05-01",
                "enrolled": "2025-09-01",
            },
        )
    rus = cls["courses"][0]
    day, n = date(2025, 9, 8), 0
    while day <= date(2025, 10, 24):
        if day.weekday() < 5:
            for number in (3, 4):
                n += 1
                rus["lessons"].append(
                    {
                        "id": f"x{n}",
                        "date": day.isoformat(),
                        "number": number,
                        "topic": f"Повторение, урок {n}",
                        "homework": f"упр. {n}",
                    }
                )
        day += timedelta(days=1)
    return doc


@pytest.fixture(scope="module")
def documents(
    tmp_path_factory: pytest.TempPathFactory, school: dict[str, Any]
) -> dict[tuple[str, str], RenderedDocument]:
    policies = tmp_path_factory.mktemp("policies")
    for path in builtin("retention_policies").glob("*.toml"):
        text = path.read_text(encoding="utf-8")
        if path.stem == CLASS_JOURNAL:
            text = text.replace('legal_basis = ""', 'legal_basis = "ст. 695"')
        (policies / path.name).write_text(text, encoding="utf-8")
    options = DocumentsOptions(
        retention_policies=policies,
        nomenclature={CLASS_JOURNAL: "02-15/{class}", FINAL_MARKS: "02-16"},
    )
    out = tmp_path_factory.mktemp("archival")
    docs = render_classes(load(school), out, workers=2, doc_options=options)
    return {(d.class_id, d.kind): d for d in docs}


def words(path: Path) -> list[tuple[float, float, list[tuple[float, float, float, float, str]]]]:
    """Per page: width, height and its words (x1, y1, x2, y2 from the top left, in points)."""
    text = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages = []
    for chunk in text.split("<page ")[1:]:
        size = re.match(r'width="([\d.]+)" height="([\d.]+)"', chunk)
        assert size
        found = [
            (float(m[1]), float(m[2]), float(m[3]), float(m[4]), m[5])
            for m in re.finditer(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<',
                chunk,
            )
        ]
        pages.append((float(size[1]), float(size[2]), found))
    return pages


def font_sizes(page: PageObject) -> list[tuple[float, str]]:
    """Every piece of text on a page with its size as printed (font size × scale)."""
    found: list[tuple[float, str]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip():
            a = tm[0] * cm[0] + tm[1] * cm[2]
            b = tm[0] * cm[1] + tm[1] * cm[3]
            found.append((float(size) * (a * a + b * b) ** 0.5, text.strip()))

    page.extract_text(visitor_text=visit)
    return found


def statement_text(documents: dict[tuple[str, str], RenderedDocument]) -> str:
    return "\n".join(texts(documents[("5a", FINAL_MARKS)].path))


# -- point 4: mark notes


def test_mark_notes_are_printed_in_the_lessons_table(
    documents: dict[tuple[str, str], RenderedDocument],
) -> None:
    body = "\n".join(texts(documents[("5a", CLASS_JOURNAL)].path))
    assert re.search(r"02\.09\.2025 1 Звуки и буквы упр\. 3 отметки: диктант", body)


# -- points 5–8: archival details


def test_certification_sheet_names_the_file_and_has_the_seal_place(
    documents: dict[tuple[str, str], RenderedDocument],
) -> None:
    last = texts(documents[("5a", CLASS_JOURNAL)].path)[-1]
    assert "Лист-заверитель дела № 02-15/5 «А»" in last
    assert "Директор" in last and "М.-Л. П. Кузнецова" in last
    assert "Кузнецова Мария-Луиза Петровна" in last
    assert "М.П." in last


def test_title_sheet_file_index_extreme_dates_and_retention_basis(
    documents: dict[tuple[str, str], RenderedDocument],
) -> None:
    title = texts(documents[("5a", CLASS_JOURNAL)].path)[0]
    assert "Дело № 02-15/5 «А»" in title
    assert "Начато: 02.09.2025" in title and "Окончено: 13.01.2026" in title
    assert "Срок хранения 5 лет, ст. 695 Перечня" in title
    assert "М.П." in title and "М.-Л. П. Кузнецова" in title
    # without a legal basis the term alone
    club_title = texts(documents[("club1", CLASS_JOURNAL)].path)[0]
    assert "Срок хранения 5 лет, ст. 695 Перечня" in club_title


def test_statement_heading_and_signatures(
    documents: dict[tuple[str, str], RenderedDocument], school: dict[str, Any]
) -> None:
    pages = texts(documents[("5a", FINAL_MARKS)].path)
    first = pages[0]
    assert school["school"]["full_name"].split()[0] in first
    assert "Классный руководитель: Иванова Мария Сергеевна" in first
    assert "Дата составления: 25.03.2026" in first
    assert "Срок хранения: 25 лет" in first and "Дело № 02-16" in first
    assert len(pages) > 1  # 33 pupils: the statement runs over two sheets
    last = pages[-1]
    assert "М.П." in last and "Директор" in last
    # the signatures never stand alone: the last rows of the table are on their sheet
    assert re.search(r"^\d+ \S+ \S+", last.split("Директор")[0], re.M)


# -- point 10: alphabetical order


def test_every_list_is_in_russian_alphabetical_order(
    documents: dict[tuple[str, str], RenderedDocument], school: dict[str, Any]
) -> None:
    def key(name: str) -> str:
        return name.casefold().replace("ё", "е")

    expected = sorted(
        (f"{s['last_name']} {s['first_name']}" for s in school["classes"][0]["students"]),
        key=key,
    )
    assert (
        expected.index("Ежов Иван") < expected.index("Елисеев Иван") < expected.index("Ёлкин Иван")
    )
    doc = documents[("5a", CLASS_JOURNAL)]
    bundle = texts(doc.path)
    sections = {title: "\n".join(bundle[a - 1 : b]) for title, a, b in doc.sections}
    class_list = sections["Список обучающихся"]
    attendance = sections["Сводные данные о посещаемости"]
    body = "\n".join(bundle)
    grid = body[body.index("I четверть (") : body.index("I четверть — темы")]
    for text in (class_list, grid, attendance, statement_text(documents)):
        numbered = re.findall(r"^(\d+) (\S+ \S+)", text, re.M)
        names = [name for _, name in numbered if name in expected]
        first = names[: len(expected)]
        assert first == expected, text[:400]


# -- point 11: clubs


def test_club_titles_head_and_pupils_classes(
    documents: dict[tuple[str, str], RenderedDocument],
) -> None:
    pages = texts(documents[("club1", CLASS_JOURNAL)].path)
    assert "Журнал учёта посещаемости кружка «Умелые руки»" in pages[0]
    assert "кружка Кружок" not in "\n".join(pages)
    assert re.search(r"1 Семёнов Артём\s+Андреевич\s+5 «А»", pages[1])
    journal = next(t for t in pages if "посещаемость" in t and "Руководитель:" in t)
    assert "Учитель" not in journal
    assert journal.count("Умелые руки") == 1  # the running head names the club once


# -- points 12–13: leavers and typography


def test_leaver_row_in_the_statement(documents: dict[tuple[str, str], RenderedDocument]) -> None:
    text = statement_text(documents)
    assert re.search(
        r"Петрова-Водкина Алёна 3 2 выбыл\(а\) 12\.12\.2025 в МБОУ «СОШ № 3»\s+приказ № 45 от 12\.12\.2025",
        text,
    ), text
    assert "выбыла" not in text
    reader = PdfReader(documents[("5a", FINAL_MARKS)].path)
    sizes = [s for page in reader.pages for s in font_sizes(page)]
    leaver = [size for size, t in sizes if "выбыл(а)" in t or "приказ №" in t]
    row = [size for size, t in sizes if "Петрова-Водкина" in t]
    assert leaver and row and min(leaver) >= min(row) - 0.01


def test_leaving_splits_the_order_off() -> None:
    from archiver.model import Student

    student = Student(
        "s",
        "Петров",
        "Иван",
        date(2025, 9, 1),
        left=date(2026, 2, 12),
        left_reason="выбыл в МАОУ «СОШ № 3», приказ № 45",
    )
    assert leaving(student) == ("выбыл(а) 12.02.2026 в МАОУ «СОШ № 3»", "приказ № 45")


def test_typography(documents: dict[tuple[str, str], RenderedDocument]) -> None:
    assert short_name("Кузнецова Мария-Луиза Петровна") == "М.-Л. П. Кузнецова"
    text = statement_text(documents)
    assert "четверти" in text and "чет." not in text
    bundle = "\n".join(texts(documents[("5a", CLASS_JOURNAL)].path))
    assert "I четв." in bundle and "чет." not in bundle
    # Kim missed nothing: no «0» in his attendance row, as in its month columns
    doc = documents[("5a", CLASS_JOURNAL)]
    (first, last) = next((a, b) for t, a, b in doc.sections if t.startswith("Сводные данные"))
    attendance = "\n".join(texts(doc.path)[first - 1 : last])
    assert re.search(r"^\d+ Ким Денис Олегович\s*$", attendance, re.M), attendance


# -- points 14–15: binding margins, nothing under 7 pt


@pytest.mark.parametrize("kind", [CLASS_JOURNAL, FINAL_MARKS])
def test_binding_margins(documents: dict[tuple[str, str], RenderedDocument], kind: str) -> None:
    """20 mm free on the bound edge, top and bottom; a landscape sheet is bound on its top."""
    doc = documents[("5a", kind)]
    for index, (width, height, found) in enumerate(words(doc.path)):
        number = str(index + 1)
        for x1, y1, x2, y2, text in found:
            if text == number and x1 > width * 0.85:
                continue  # the sheet number in its corner
            if width < height:  # portrait: bound on the left
                assert x1 >= 20 * MM - 0.5, (index, text)
                assert y1 >= 20 * MM - 0.5 and y2 <= height - 20 * MM + 0.5, (index, text)
                assert x2 <= width - 10 * MM, (index, text)
            else:  # landscape: bound along the top; left and right are the file's bottom and top
                assert y1 >= 20 * MM - 0.5, (index, text)
                assert x1 >= 20 * MM - 0.5 and x2 <= width - 20 * MM + 0.5, (index, text)
                assert y2 <= height - 10 * MM, (index, text)
    reader = PdfReader(doc.path)
    pages = reader.pages if kind == FINAL_MARKS else reader.pages[:-1]
    assert [corner_number(p) for p in pages] == [str(i) for i in range(1, len(pages) + 1)]
    assert any(float(p.mediabox.width) > float(p.mediabox.height) for p in pages)


@pytest.mark.parametrize("class_id", ["5a", "club1"])
def test_nothing_smaller_than_7pt(
    documents: dict[tuple[str, str], RenderedDocument], class_id: str
) -> None:
    for kind in (CLASS_JOURNAL, FINAL_MARKS):
        if (class_id, kind) not in documents:
            continue
        for page in PdfReader(documents[(class_id, kind)].path).pages:
            small = [(s, t) for s, t in font_sizes(page) if s < 6.99]
            assert not small, small[:5]


# -- point 16: fewer sheets


def test_balanced_chunks() -> None:
    assert [len(c) for c in balanced_chunks(list(range(29)), 25)] == [15, 14]
    assert [len(c) for c in balanced_chunks(list(range(50)), 25)] == [25, 25]
    assert [len(c) for c in balanced_chunks(list(range(51)), 25)] == [17, 17, 17]
    assert balanced_chunks([], 25) == [[]]


def test_split_grid_is_balanced_and_tables_continue_with_a_caption(
    documents: dict[tuple[str, str], RenderedDocument],
) -> None:
    pages = texts(documents[("5a", CLASS_JOURNAL)].path)
    body = "\n".join(pages)
    parts = re.findall(
        r"I четверть \([^)]*\) — отметки и посещаемость \(часть (\d) из (\d)\)", body
    )
    assert parts and {p[1] for p in parts} == {"3"}  # 2 + 68 lessons: 24 + 23 + 23
    headers = re.findall(r"\(часть \d из 3\)\s*\n№ Обучающийся([^\n]*)", body)
    dates = [len(re.findall(r"\d\d\.\d\d", h)) for h in headers]
    # three parts (a part's header repeats where its pupils run onto the next sheet)
    assert len(dates) >= 3 and max(dates) - min(dates) <= 1, headers
    # the long table runs on; on every sheet its caption names the period it continues
    caption = "I четверть — темы уроков и домашние задания\nДата Урок Тема урока"
    on = [i for i, t in enumerate(pages) if caption in t]
    assert len(on) >= 2 and on == list(range(on[0], on[0] + len(on)))


def test_no_sheet_for_a_period_without_lessons(
    documents: dict[tuple[str, str], RenderedDocument],
) -> None:
    body = "\n".join(texts(documents[("5a", CLASS_JOURNAL)].path))
    assert "IV четверть (" not in body and "Уроков в этом периоде нет" not in body


def test_templates_folder_copy_renders(tmp_path: Path, school: dict[str, Any]) -> None:
    """A school's own copy of the templates is used (its wording printed)."""
    own = tmp_path / "templates"
    shutil.copytree(builtin("templates"), own)
    course = own / "course.typ"
    course.write_text(
        course.read_text(encoding="utf-8").replace("темы уроков и домашние задания", "ТЕМЫ"),
        encoding="utf-8",
    )
    doc = copy.deepcopy(school)
    doc["classes"] = doc["classes"][1:2]
    docs = render_classes(
        load(doc), tmp_path / "out", workers=1, doc_options=DocumentsOptions(templates=own)
    )
    assert docs and "ТЕМЫ" not in "\n".join(texts(docs[0].path))  # 1st grade: no homework


def test_a_templates_folder_without_a_template_is_named(
    tmp_path: Path, school: dict[str, Any]
) -> None:
    """A school's folder copied before a template existed: the missing file is named."""
    own = tmp_path / "templates"
    shutil.copytree(builtin("templates"), own)
    (own / "title.typ").unlink()
    doc = copy.deepcopy(school)
    doc["classes"] = doc["classes"][1:2]
    with pytest.raises(RenderError) as caught:
        render_classes(
            load(doc), tmp_path / "out", workers=1, doc_options=DocumentsOptions(templates=own)
        )
    assert f"нет шаблона title.typ в папке шаблонов {own}" in str(caught.value)
    assert not list((tmp_path / "out").rglob("*.pdf"))
