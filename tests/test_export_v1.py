"""The reader of format version 1: accepts the spec's examples, reports every problem by path."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from archiver.model import ClassKind, JournalExport
from archiver.sources.export_v1 import SCHEMA_FILE, json_schema_text, read_export
from archiver.sources.report import ValidationReport


def check(doc: Any) -> ValidationReport:
    return read_export(json.dumps(doc, ensure_ascii=False).encode("utf-8"), name="test.json")


def errors(doc: Any) -> list[str]:
    report = check(doc)
    assert report.export is None or not report.errors
    return [str(p) for p in report.errors]


def test_spec_export_is_accepted_with_right_counts(spec_doc: dict[str, Any]) -> None:
    report = check(spec_doc)
    assert report.errors == [] and report.warnings == []
    s = report.summary
    assert s is not None
    assert (s.classes, s.classes_with_marks, s.clubs, s.extracurricular) == (2, 1, 1, 0)
    assert s.students == 4  # s1 appears in 5 «А» and in the club: one person
    assert (s.students_left, s.students_joined) == (1, 1)
    assert (s.courses, s.lessons, s.marks) == (4, 7, 5)
    assert (s.absences, s.absences_illness, s.late) == (4, 2, 1)


def test_model_is_complete_and_immutable(spec_doc: dict[str, Any]) -> None:
    export = check(spec_doc).export
    assert isinstance(export, JournalExport)
    assert export.school.director.name == "Кузнецова Ольга Петровна"
    assert [p.id for p in export.academic_year.periods] == ["q1", "q2", "q3", "q4", "y"]
    cls = export.classes_by_id["5a"]
    assert cls.kind is ClassKind.CLASS and cls.marks_recorded and cls.class_teacher == "t1"
    s2 = cls.students_by_id["s2"]
    assert s2.left == date(2025, 12, 12) and s2.middle_name is None
    assert s2.full_name == "Петрова-Водкина Алёна"
    assert not s2.enrolled_on(date(2025, 12, 13)) and s2.enrolled_on(date(2025, 12, 12))
    rus = cls.courses[0]
    assert rus.lessons_by_id["l3"].teacher == "t2"  # substitution
    assert [m.value for m in rus.marks if m.lesson == "l1"] == ["4", "5"]  # two marks in one cell
    assert export.grading_scale[0] == "5" and export.attendance_codes["б"] == "по болезни"
    assert export.classes_by_id["club1"].kind is ClassKind.CLUB
    with pytest.raises(AttributeError):
        cls.name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["classes"][0]["courses"][0]["marks"][2].update(student="st-999"),
            'classes[0].courses[0].marks[2].student: неизвестный ученик "st-999" (нет в списке класса)',
        ),
        (
            lambda d: d["classes"][0]["courses"][0]["marks"][0].update(lesson="nope"),
            'classes[0].courses[0].marks[0].lesson: неизвестный урок этого курса "nope"',
        ),
        (
            lambda d: d["classes"][0]["courses"][0].update(teacher="t9"),
            'classes[0].courses[0].teacher: неизвестный сотрудник "t9"',
        ),
        (
            lambda d: d["classes"][0]["courses"][1].update(subject="bio"),
            'classes[0].courses[1].subject: неизвестный предмет "bio"',
        ),
        (
            lambda d: d["classes"][0]["courses"][0]["period_marks"][0].update(period="q7"),
            'classes[0].courses[0].period_marks[0].period: неизвестный период "q7"',
        ),
        (
            lambda d: d["classes"][0]["courses"][0]["period_marks"][0].update(period="y"),
            'classes[0].courses[0].period_marks[0].period: период "y" не входит в периоды '
            "аттестации класса (period_ids)",
        ),
        (
            lambda d: d["classes"][0]["period_ids"].append("q9"),
            'classes[0].period_ids[4]: неизвестный период "q9"',
        ),
        (
            lambda d: d["classes"][1].update(class_teacher="t0"),
            'classes[1].class_teacher: неизвестный сотрудник "t0"',
        ),
        (
            lambda d: d["classes"][0]["courses"][0]["lessons"][2].update(teacher="t8"),
            'classes[0].courses[0].lessons[2].teacher: неизвестный сотрудник "t8"',
        ),
        (
            lambda d: d["classes"][0]["promotion"][0].update(student="s10"),
            'classes[0].promotion[0].student: неизвестный ученик "s10" (нет в списке класса)',
        ),
    ],
)
def test_dangling_references(spec_doc: dict[str, Any], mutate: Any, expected: str) -> None:
    mutate(spec_doc)
    assert errors(spec_doc) == [expected]


def test_duplicate_ids_in_every_list(spec_doc: dict[str, Any]) -> None:
    spec_doc["staff"].append(dict(spec_doc["staff"][0]))
    spec_doc["subjects"][1]["id"] = "rus"
    spec_doc["academic_year"]["periods"][1]["id"] = "q1"
    spec_doc["classes"][1]["id"] = "5a"
    spec_doc["classes"][0]["students"].append(dict(spec_doc["classes"][0]["students"][0]))
    spec_doc["classes"][0]["courses"][1]["id"] = "5a-rus"
    spec_doc["classes"][0]["courses"][1]["lessons"].append(
        dict(spec_doc["classes"][0]["courses"][1]["lessons"][0])
    )
    found = errors(spec_doc)
    for path in [
        "staff[3].id",
        "subjects[1].id",
        "academic_year.periods[1].id",
        "classes[1].id",
        "classes[0].students[3].id",
        "classes[0].courses[1].id",
        "classes[0].courses[1].lessons[1].id",
    ]:
        assert any(e.startswith(f"{path}: повторный идентификатор") for e in found), (path, found)


def test_dates_outside_year_and_enrolment(spec_doc: dict[str, Any]) -> None:
    c = spec_doc["classes"][0]
    c["courses"][0]["lessons"][3]["date"] = "2026-06-15"
    spec_doc["academic_year"]["periods"][3]["end"] = "2026-06-30"
    c["students"][1]["left"] = "2026-08-01"
    c["students"][2]["enrolled"] = "2026-07-01"
    c["courses"][1]["marks"].append({"student": "s3", "lesson": "m1", "value": "4"})
    c["courses"][0]["attendance"].append({"student": "s3", "lesson": "l1", "code": "н"})
    found = errors(spec_doc)
    assert (
        "classes[0].courses[0].lessons[3].date: дата урока 15.06.2026 вне учебного года "
        "(01.09.2025 – 31.05.2026)" in found
    )
    assert any(e.startswith("academic_year.periods[3].end: дата 30.06.2026 вне") for e in found)
    assert any(e.startswith("classes[0].students[1].left: дата выбытия 01.08.2026") for e in found)
    assert any(
        e.startswith("classes[0].students[2].enrolled: дата зачисления 01.07.2026") for e in found
    )
    assert (
        "classes[0].courses[1].marks[1]: отметка за урок 03.09.2025 вне периода обучения ученика "
        '"s3" (зачислен 01.07.2026)' in found
    )
    assert any(
        e.startswith("classes[0].courses[0].attendance[3]: запись посещаемости за урок 02.09.2025")
        for e in found
    )


def test_mark_after_leaving(spec_doc: dict[str, Any]) -> None:
    spec_doc["classes"][0]["courses"][0]["marks"].append(
        {"student": "s2", "lesson": "l4", "value": "5"}
    )
    assert errors(spec_doc) == [
        'classes[0].courses[0].marks[4]: отметка за урок 13.01.2026 вне периода обучения ученика "s2" '
        "(зачислен 01.09.2025, выбыл 12.12.2025)"
    ]


def test_structure_errors_are_all_listed_with_paths(spec_doc: dict[str, Any]) -> None:
    del spec_doc["subjects"][0]["name"]
    spec_doc["classes"][0]["grade"] = "5"
    spec_doc["classes"][0]["marks_recorded"] = "yes"
    spec_doc["classes"][0]["students"][2]["birth_date"] = "02.04.2013"
    spec_doc["classes"][0]["kind"] = "кружок"
    spec_doc["classes"][2]["grade"] = 13
    spec_doc["classes"][0]["courses"][0]["marks"][0]["value"] = 5
    spec_doc["exported_at"] = "2026-03-25T16:30:00"
    spec_doc["staff"].append({"id": "", "name": "Новиков Иван Ильич", "position": "учитель"})
    del spec_doc["classes"][1]["class_teacher"]
    # and a semantic error next to them: still reported in the same run
    spec_doc["classes"][0]["courses"][0]["marks"][1]["student"] = "st-999"
    found = errors(spec_doc)
    expected_prefixes = [
        "exported_at: в отметке времени нет смещения от UTC",
        "subjects[0].name: обязательный ключ отсутствует",
        'classes[0].grade: ожидалось целое число, а не строка "5"',
        'classes[0].marks_recorded: ожидалось true или false, а не строка "yes"',
        'classes[0].students[2].birth_date: ожидалась дата в виде ГГГГ-ММ-ДД, а не строка "02.04.2013"',
        "classes[0].kind: недопустимое значение \"кружок\"; допустимо: 'class', 'club' или",
        "classes[2].grade: значение 13 вне допустимого диапазона",
        "classes[0].courses[0].marks[0].value: ожидалась строка, а не число 5",
        "staff[3].id: пустая строка недопустима",
        "classes[1].class_teacher: обязательный ключ отсутствует",
        'classes[0].courses[0].marks[1].student: неизвестный ученик "st-999"',
    ]
    for prefix in expected_prefixes:
        assert any(e.startswith(prefix) for e in found), (prefix, found)
    assert len(found) == len(expected_prefixes)


def test_inconsistent_student_across_lists(spec_doc: dict[str, Any]) -> None:
    spec_doc["classes"][2]["students"][0]["birth_date"] = "2013-04-03"
    assert errors(spec_doc) == [
        'classes[2].students[0]: ученик "s1" записан иначе, чем в classes[0].students[0] '
        "(фамилия, имя, отчество и дата рождения должны совпадать)"
    ]


def test_overlapping_periods_and_reversed_dates(spec_doc: dict[str, Any]) -> None:
    spec_doc["academic_year"]["periods"][1]["start"] = "2025-10-20"
    spec_doc["classes"][0]["students"][1]["left"] = "2025-08-31"
    found = errors(spec_doc)
    assert any(e.startswith("academic_year.periods[1]: период пересекается") for e in found)
    assert "classes[0].students[1].left: дата выбытия раньше даты зачисления" in found


def test_duplicate_period_and_year_marks(spec_doc: dict[str, Any]) -> None:
    course = spec_doc["classes"][0]["courses"][0]
    course["period_marks"].append({"student": "s1", "period": "q1", "value": "4"})
    course["year_marks"].append({"student": "s1", "value": "4"})
    assert errors(spec_doc) == [
        "classes[0].courses[0].period_marks[2]: повторная отметка за период "
        "(первая: classes[0].courses[0].period_marks[0])",
        "classes[0].courses[0].year_marks[1]: повторная годовая отметка "
        "(первая: classes[0].courses[0].year_marks[0])",
    ]


@pytest.mark.parametrize(
    ("fmt", "version", "expected"),
    [
        (
            "something-else",
            1,
            'format: это не выгрузка электронного журнала: ключ format = "something-else"',
        ),
        (
            "school-journal-export",
            2,
            "format_version: выгрузка в формате версии 2, а эта версия archiver "
            "читает только версию 1",
        ),
        ("school-journal-export", "1", 'format_version: неизвестная версия формата "1"'),
        ("school-journal-export", None, "format_version: обязательный ключ отсутствует"),
    ],
)
def test_format_and_version_decide_readability(
    spec_doc: dict[str, Any], fmt: str, version: Any, expected: str
) -> None:
    spec_doc["format"] = fmt
    if version is None:
        del spec_doc["format_version"]
    else:
        spec_doc["format_version"] = version
    spec_doc["classes"] = "garbage"  # not reported: the document is not read at all
    found = errors(spec_doc)
    assert len(found) == 1 and found[0].startswith(expected)


def test_unknown_mark_values_and_codes_are_warnings_and_kept(spec_doc: dict[str, Any]) -> None:
    course = spec_doc["classes"][0]["courses"][0]
    course["marks"][0]["value"] = "5+"
    course["attendance"][0]["code"] = "ОТ"
    course["year_marks"][0]["value"] = "отл"
    report = check(spec_doc)
    assert report.errors == [] and report.export is not None
    assert [str(w) for w in report.warnings] == [
        'classes[0].courses[0].marks[0].value: отметка "5+" не входит в шкалу оценок; сохранена как есть',
        'classes[0].courses[0].attendance[0].code: код посещаемости "ОТ" не описан в attendance_codes; '
        "сохранён как есть",
        'classes[0].courses[0].year_marks[0].value: отметка "отл" не входит в шкалу оценок; '
        "сохранена как есть",
    ]
    rus = report.export.classes[0].courses[0]
    assert rus.marks[0].value == "5+" and rus.attendance[0].code == "ОТ"


def test_custom_scale_and_codes_are_honoured(spec_doc: dict[str, Any]) -> None:
    spec_doc["grading_scale"] = ["5", "4", "3", "2", "зач"]
    spec_doc["attendance_codes"] = {"н": "отсутствовал", "б": "болел", "оп": "опоздал"}
    report = check(spec_doc)
    assert [w.path for w in report.warnings] == ["classes[0].courses[0].attendance[0].code"] or [
        w.code for w in report.warnings
    ] == ["unknown_attendance_code"]
    spec_doc["classes"][1]["courses"][0]["attendance"][0]["code"] = "н"
    assert check(spec_doc).warnings == []


def test_marks_in_unmarked_class_are_kept_and_warned(spec_doc: dict[str, Any]) -> None:
    course = spec_doc["classes"][1]["courses"][0]
    course["marks"].append({"student": "s10", "lesson": "a1", "value": "5"})
    course["lessons"][0]["homework"] = "нарисовать листья"
    report = check(spec_doc)
    assert report.errors == []
    assert [w.code for w in report.warnings] == ["homework_not_recorded", "marks_not_recorded"]
    assert report.export is not None and report.export.classes[1].courses[0].marks[0].value == "5"


def test_extra_keys_are_ignored(spec_doc: dict[str, Any]) -> None:
    spec_doc["vendor_extension"] = {"x": 1}
    spec_doc["classes"][0]["courses"][0]["lessons"][0]["room"] = "12"
    report = check(spec_doc)
    assert report.ok and report.warnings == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            b'{"format": "school-journal-export", "staff": [',
            "файл обрывается раньше конца документа JSON",
        ),
        (b'{"a": 1,, }', "файл не является корректным JSON"),
        (
            b'{"a": "\xff"}',
            "файл не в кодировке UTF-8: недопустимый байт 0xFF; строка 1, столбец 8",
        ),
        (b"", "файл пуст"),
        (b"[1, 2]", "документ должен быть объектом JSON, а не список"),
    ],
)
def test_unreadable_input_gives_one_problem_with_position(raw: bytes, expected: str) -> None:
    report = read_export(raw)
    assert len(report.errors) == 1 and str(report.errors[0]).startswith(expected)
    assert "\n" not in str(report.errors[0])


def test_truncated_real_file_names_position(spec_export_doc: dict[str, Any]) -> None:
    raw = json.dumps(spec_export_doc, ensure_ascii=False, indent=1).encode()
    cut = raw[: len(raw) // 2]
    report = read_export(cut)
    (problem,) = report.errors
    line = cut.decode("utf-8", errors="ignore").count("\n") + 1
    assert problem.code == "not_json" and f"строка {line}," in problem.message


def test_shipped_schema_is_current_and_accepts_the_spec_export(spec_doc: dict[str, Any]) -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text(), (
        "regenerate with: python -m archiver.sources.export_v1"
    )
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    assert list(validator.iter_errors(spec_doc)) == []
    spec_doc["classes"][0]["grade"] = 13
    assert [e.message for e in validator.iter_errors(spec_doc)] == [
        "13 is greater than the maximum of 12"
    ]


def test_missing_file(tmp_path: Path) -> None:
    report = read_export(tmp_path / "нет.json")
    assert [p.code for p in report.errors] == ["not_found"]
