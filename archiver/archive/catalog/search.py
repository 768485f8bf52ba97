"""Searching the catalog: students by name with every class they were in, and their records.

Every word of a query must occur in the student's full name (or the query is the
student's id). Matches are ranked by the field each word matched — surname first,
then first name, then middle name (patronymic) — and, within a field, a whole-field
match before a prefix before a part; the match says which fields matched. When a
word occurs in no name at all, :func:`suggest_names` offers the names closest to it
(a typo: «Симёнов» → «Семёнов»).
"""

from __future__ import annotations

import difflib
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from archiver.archive.catalog.schema import connect, normalize, normalize_class, normalize_year
from archiver.errors import UsageError
from archiver.kinds import CLASS_JOURNAL, FINAL_MARKS, JOURNAL_EXPORT
from archiver.model import ClassKind


@dataclass(frozen=True, slots=True)
class ClassEntry:
    """A student's place in one class of one academic year, and that class's records."""

    academic_year: str
    class_id: str
    class_name: str
    class_kind: str
    grade: int
    marks_recorded: bool
    enrolled: str
    left: str | None
    left_reason: str | None
    class_journal: str | None
    """Record id of the latest version of the class's journal bundle, if archived."""
    final_marks: str | None
    """Record id of the latest version of the summary statement of final marks, if archived."""
    journal_export: str | None
    """Record id of the year's export, while it is archived."""
    data_record: str
    """Record id the entry was read from: the export, or a class document's embedded data."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "academic_year": self.academic_year,
            "class_id": self.class_id,
            "class_name": self.class_name,
            "class_kind": self.class_kind,
            "grade": self.grade,
            "marks_recorded": self.marks_recorded,
            "enrolled": self.enrolled,
            "left": self.left,
            "left_reason": self.left_reason,
            "records": {
                CLASS_JOURNAL: self.class_journal,
                FINAL_MARKS: self.final_marks,
                JOURNAL_EXPORT: self.journal_export,
            },
            "data_record": self.data_record,
        }


@dataclass(frozen=True, slots=True)
class StudentMatch:
    """A student found in the catalog, with every class they were in."""

    school_id: str
    school_name: str
    student_id: str
    last_name: str
    first_name: str
    middle_name: str | None
    full_name: str
    birth_date: str | None
    entries: tuple[ClassEntry, ...]
    matched: tuple[str, ...] = ()
    """The fields the query matched, best first: ``last_name``, ``first_name``,
    ``middle_name`` or ``student_id``."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (for ``archiver find --json``)."""
        return {
            "school_id": self.school_id,
            "school_name": self.school_name,
            "student_id": self.student_id,
            "full_name": self.full_name,
            "last_name": self.last_name,
            "first_name": self.first_name,
            "middle_name": self.middle_name,
            "birth_date": self.birth_date,
            "matched": list(self.matched),
            "classes": [e.to_json() for e in self.entries],
        }


NAME_FIELDS = ("last_name", "first_name", "middle_name")
"""The name fields in the order their matches rank."""
FIELD_TEXT = {
    "last_name": "фамилия",
    "first_name": "имя",
    "middle_name": "отчество",
    "student_id": "id",
}
"""The Russian name of each matched field, for the output."""


def _word_rank(word: str, fields: tuple[str, ...]) -> tuple[int, int]:
    """(field index, closeness) of the best field ``word`` occurs in: 0 equal, 1 prefix, 2 part.

    A part of a double surname counts as the whole («Семёнов» in «Семёнов-Фёдоров»
    is closeness 0). A word found in no field alone (it spans two of them) ranks last.
    """
    best = (len(fields), 3)
    for index, value in enumerate(fields):
        if not value or word not in value:
            continue
        parts = value.replace("-", " ").split()
        if value == word or word in parts:
            closeness = 0
        elif value.startswith(word) or any(p.startswith(word) for p in parts):
            closeness = 1
        else:
            closeness = 2
        best = min(best, (index, closeness))
    return best


def _rank(match: StudentMatch, words: list[str], by_id: bool) -> tuple[Any, ...]:
    """The sort key of a match: its words' fields and closeness, then the name."""
    fields = (
        normalize(match.last_name),
        normalize(match.first_name),
        normalize(match.middle_name or ""),
    )
    ranks = sorted(_word_rank(word, fields) for word in words)
    return (
        0 if by_id else 1,
        ranks,
        fields[0],
        fields[1],
        match.birth_date or "",
        match.student_id,
    )


def _matched_fields(match: StudentMatch, words: list[str], by_id: bool) -> tuple[str, ...]:
    fields = (
        normalize(match.last_name),
        normalize(match.first_name),
        normalize(match.middle_name or ""),
    )
    found = {NAME_FIELDS[i] for w in words if (i := _word_rank(w, fields)[0]) < len(fields)}
    named = tuple(f for f in NAME_FIELDS if f in found)
    return ("student_id", *named) if by_id else named


def find_students(
    path: Path,
    query: str,
    *,
    year: str | None = None,
    class_filter: str | None = None,
    school_id: str | None = None,
) -> list[StudentMatch]:
    """Students whose name contains every word of ``query`` (or whose id is ``query``).

    Case- and ё/е-insensitive; ``year`` (``2025/2026``) and ``class_filter`` (a class id
    or name, e.g. ``5a`` or «5 «А»») keep only the matching classes, and the students
    who have one.
    """
    words = normalize(query).split()
    query = query.strip()
    if not words:
        raise UsageError("пустой запрос: укажите фамилию, имя или их часть")
    wanted_year = normalize_year(year) if year else None
    wanted_class = class_filter.strip() if class_filter else None
    with connect(path) as db:
        condition = " AND ".join("instr(name_norm, ?) > 0" for _ in words)
        sql = (
            f"SELECT DISTINCT school_id, student_id FROM students WHERE ({condition}) "
            "OR student_id = ?"
        )
        params: list[Any] = [*words, query]
        if school_id is not None:
            sql = f"SELECT * FROM ({sql}) WHERE school_id = ?"
            params.append(school_id)
        found = db.execute(sql, params).fetchall()
        matches = []
        for row in found:
            match = _student(db, str(row["school_id"]), str(row["student_id"]))
            entries = tuple(
                e
                for e in match.entries
                if (wanted_year is None or e.academic_year == wanted_year)
                and (
                    wanted_class is None
                    or e.class_id == wanted_class
                    or normalize_class(e.class_name) == normalize_class(wanted_class)
                )
            )
            if entries:
                by_id = match.student_id == query
                matches.append(
                    replace(match, entries=entries, matched=_matched_fields(match, words, by_id))
                )
    return sorted(matches, key=lambda m: _rank(m, words, m.student_id == query))


def suggest_names(path: Path, query: str, *, limit: int = 5) -> dict[str, list[str]]:
    """Word of the query → the closest names in the catalog, for each word found in no name.

    Surnames (and each half of a double one), first names and middle names are
    compared whole (``difflib``, ratio ≥ 0.75, case- and ё/е-insensitive); a name is
    offered as written in the catalog.
    """
    words = normalize(query).split()
    with connect(path) as db:
        rows = db.execute(
            "SELECT DISTINCT last_name, first_name, middle_name, name_norm FROM students"
        ).fetchall()
    spellings: dict[str, str] = {}
    for row in rows:
        for value in (row[0], row[1], row[2]):
            for part in {str(value or ""), *str(value or "").split("-")}:
                if part.strip():
                    spellings.setdefault(normalize(part), part.strip())
    names = [str(r[3]) for r in rows]
    suggestions: dict[str, list[str]] = {}
    for word in words:
        if any(word in name for name in names):
            continue
        close = difflib.get_close_matches(word, sorted(spellings), n=limit, cutoff=0.75)
        suggestions[word] = [spellings[c] for c in close]
    return suggestions


def _student(db: sqlite3.Connection, school_id: str, student_id: str) -> StudentMatch:
    """A student's name as of the latest year, and every class entry."""
    person = db.execute(
        "SELECT s.*, y.school_short_name FROM students s JOIN years y "
        "USING (school_id, academic_year) WHERE s.school_id = ? AND s.student_id = ? "
        "ORDER BY s.academic_year DESC LIMIT 1",
        (school_id, student_id),
    ).fetchone()
    rows = db.execute(
        """
        SELECT e.*, c.name AS class_name, c.kind, c.grade, c.marks_recorded,
               y.export_record_id, c.data_record_id,
               (SELECT record_id FROM records r WHERE r.school_id = e.school_id
                  AND r.academic_year = e.academic_year AND r.class_id = e.class_id
                  AND r.kind = 'class_journal' AND r.latest = 1) AS class_journal,
               (SELECT record_id FROM records r WHERE r.school_id = e.school_id
                  AND r.academic_year = e.academic_year AND r.class_id = e.class_id
                  AND r.kind = 'final_marks' AND r.latest = 1) AS final_marks
        FROM enrolments e
        JOIN classes c USING (school_id, academic_year, class_id)
        JOIN years y USING (school_id, academic_year)
        WHERE e.school_id = ? AND e.student_id = ?
        ORDER BY e.academic_year, (c.kind != 'class'), c.position
        """,
        (school_id, student_id),
    ).fetchall()
    entries = tuple(
        ClassEntry(
            academic_year=str(r["academic_year"]),
            class_id=str(r["class_id"]),
            class_name=str(r["class_name"]),
            class_kind=str(r["kind"]),
            grade=int(r["grade"]),
            marks_recorded=bool(r["marks_recorded"]),
            enrolled=str(r["enrolled"]),
            left=r["left_on"],
            left_reason=r["left_reason"],
            class_journal=r["class_journal"],
            final_marks=r["final_marks"],
            journal_export=r["export_record_id"],
            data_record=str(r["data_record_id"]),
        )
        for r in rows
    )
    return StudentMatch(
        school_id=school_id,
        school_name=str(person["school_short_name"]),
        student_id=student_id,
        last_name=str(person["last_name"]),
        first_name=str(person["first_name"]),
        middle_name=person["middle_name"],
        full_name=str(person["full_name"]),
        birth_date=person["birth_date"],
        entries=entries,
    )


def student_data_records(path: Path, student_id: str) -> dict[str, list[str]]:
    """School id → the records holding the data of the classes proper the student was in.

    Oldest year first; a year's export serves all its classes, so it is listed once.
    Schools where the student was only in clubs are listed with no records.
    """
    with connect(path) as db:
        rows = db.execute(
            "SELECT e.school_id, e.academic_year, c.kind, c.data_record_id FROM enrolments e "
            "JOIN classes c USING (school_id, academic_year, class_id) WHERE e.student_id = ? "
            "ORDER BY e.school_id, e.academic_year, c.position",
            (student_id,),
        ).fetchall()
    found: dict[str, list[str]] = {}
    for row in rows:
        records = found.setdefault(str(row["school_id"]), [])
        if is_class(str(row["kind"])) and row["data_record_id"] not in records:
            records.append(str(row["data_record_id"]))
    return found


def final_marks_records(path: Path, school_id: str) -> dict[tuple[str, str], str]:
    """(academic year, class id) → the latest summary statement of final marks of the school."""
    with connect(path) as db:
        rows = db.execute(
            "SELECT academic_year, class_id, record_id FROM records "
            "WHERE school_id = ? AND kind = ? AND latest = 1",
            (school_id, FINAL_MARKS),
        ).fetchall()
    return {(str(r[0]), str(r[1])): str(r[2]) for r in rows}


def is_class(kind: str) -> bool:
    """Whether a class entry is a class proper (not a club or extracurricular group)."""
    return kind == ClassKind.CLASS.value


def student_names(path: Path) -> dict[tuple[str, str], str]:
    """(school id, student id) → the student's full name as of the latest year catalogued."""
    with connect(path) as db:
        rows = db.execute(
            "SELECT school_id, student_id, full_name FROM students ORDER BY academic_year"
        ).fetchall()
    return {(str(r[0]), str(r[1])): str(r[2]) for r in rows}


def record_titles(path: Path) -> dict[str, str]:
    """Record id → its title, for every record catalogued (superseded versions too)."""
    with connect(path) as db:
        rows = db.execute("SELECT record_id, title FROM records").fetchall()
    return {str(r[0]): str(r[1]) for r in rows}
