"""Validation reports: problems with their JSON paths, and the summary of a valid export."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from archiver.model import LATE_CODES, ClassKind, JournalExport


class Severity(StrEnum):
    """How bad a problem is: errors stop the pipeline, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, located by its JSON path.

    ``path`` looks like ``classes[3].courses[0].marks[17].student``; it is empty
    when the problem concerns the file as a whole. ``code`` is a stable
    machine-readable identifier; ``message`` is the Russian text for the user.
    """

    path: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass(frozen=True, slots=True)
class Summary:
    """Key figures of a valid export, shown to the administrator."""

    school: str
    academic_year: str
    source_system: str
    exported_at: str
    classes: int
    classes_with_marks: int
    clubs: int
    extracurricular: int
    students: int
    students_left: int
    students_joined: int
    courses: int
    lessons: int
    marks: int
    absences: int
    absences_illness: int
    late: int

    @classmethod
    def of(cls, export: JournalExport) -> Summary:
        """Count the figures of ``export``."""
        students: dict[str, tuple[bool, bool]] = {}
        lessons = marks = absences = illness = late = courses = 0
        for school_class in export.classes:
            for student in school_class.students:
                left, joined = students.get(student.id, (False, False))
                students[student.id] = (
                    left or student.left is not None,
                    joined or student.enrolled > export.academic_year.start,
                )
            for course in school_class.courses:
                courses += 1
                lessons += len(course.lessons)
                marks += len(course.marks)
                for entry in course.attendance:
                    if entry.code in LATE_CODES:
                        late += 1
                    else:
                        absences += 1
                        if entry.code == "б":
                            illness += 1
        kinds = [c.kind for c in export.classes]
        return cls(
            school=export.school.short_name,
            academic_year=export.academic_year.name,
            source_system=export.source_system,
            exported_at=export.exported_at.isoformat(),
            classes=kinds.count(ClassKind.CLASS),
            classes_with_marks=sum(
                1 for c in export.classes if c.kind is ClassKind.CLASS and c.marks_recorded
            ),
            clubs=kinds.count(ClassKind.CLUB),
            extracurricular=kinds.count(ClassKind.EXTRACURRICULAR),
            students=len(students),
            students_left=sum(1 for left, _ in students.values() if left),
            students_joined=sum(1 for _, joined in students.values() if joined),
            courses=courses,
            lessons=lessons,
            marks=marks,
            absences=absences,
            absences_illness=illness,
            late=late,
        )


@dataclass(slots=True)
class ValidationReport:
    """The outcome of reading an export: the model when valid, and every problem found."""

    source: str
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    export: JournalExport | None = None
    summary: Summary | None = None

    @property
    def ok(self) -> bool:
        """True when the export has no errors (warnings allowed) and was read into the model."""
        return not self.errors and self.export is not None

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON-ready data (for ``--json``)."""
        return {
            "source": self.source,
            "ok": self.ok,
            "summary": asdict(self.summary) if self.summary else None,
            "errors": [asdict(p) for p in self.errors],
            "warnings": [asdict(p) for p in self.warnings],
        }


class ProblemSink:
    """Collects problems during validation, keeping their order of discovery."""

    def __init__(self) -> None:
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, path: str, code: str, message: str) -> None:
        """Record an error at ``path``."""
        self.errors.append(Problem(path, code, message))

    def warning(self, path: str, code: str, message: str) -> None:
        """Record a warning at ``path``."""
        self.warnings.append(Problem(path, code, message))

    def extend_errors(self, problems: Iterable[Problem]) -> None:
        """Record several errors at once."""
        self.errors.extend(problems)
