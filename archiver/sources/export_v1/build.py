"""Building the domain model (:mod:`archiver.model`) from a validated wire document."""

from __future__ import annotations

from types import MappingProxyType

from archiver import model
from archiver.sources.export_v1.wire import AcademicYearV1, ClassV1, CourseV1, ExportV1, SchoolV1


def school_model(school: SchoolV1) -> model.School:
    """The school as the model has it (the export's and a statement's alike)."""
    return model.School(
        id=school.id,
        short_name=school.short_name,
        full_name=school.full_name,
        address=school.address,
        director=model.Director(school.director.name, school.director.position),
    )


def academic_year_model(year: AcademicYearV1) -> model.AcademicYear:
    """The academic year and its periods as the model has them."""
    return model.AcademicYear(
        name=year.name,
        start=year.start,
        end=year.end,
        periods=tuple(
            model.Period(p.id, p.name, model.PeriodKind(p.kind), p.start, p.end)
            for p in year.periods
        ),
    )


def to_model(wire: ExportV1) -> model.JournalExport:
    """Turn a validated wire document into the domain model."""
    return model.JournalExport(
        format_version=wire.format_version,
        exported_at=wire.exported_at,
        source_system=wire.source_system,
        school=school_model(wire.school),
        academic_year=academic_year_model(wire.academic_year),
        staff=tuple(model.StaffMember(s.id, s.name, s.position) for s in wire.staff),
        subjects=tuple(model.Subject(s.id, s.name) for s in wire.subjects),
        classes=tuple(_class_model(c) for c in wire.classes),
        grading_scale=(
            tuple(wire.grading_scale)
            if wire.grading_scale is not None
            else model.DEFAULT_GRADING_SCALE
        ),
        attendance_codes=(
            MappingProxyType(dict(wire.attendance_codes))
            if wire.attendance_codes is not None
            else model.DEFAULT_ATTENDANCE_CODES
        ),
    )


def _class_model(c: ClassV1) -> model.SchoolClass:
    return model.SchoolClass(
        id=c.id,
        name=c.name,
        grade=c.grade,
        kind=model.ClassKind(c.kind),
        marks_recorded=c.marks_recorded,
        period_ids=tuple(c.period_ids),
        class_teacher=c.class_teacher,
        students=tuple(
            model.Student(
                id=s.id,
                last_name=s.last_name,
                first_name=s.first_name,
                middle_name=s.middle_name or None,
                birth_date=s.birth_date,
                enrolled=s.enrolled,
                left=s.left,
                left_reason=s.left_reason,
            )
            for s in c.students
        ),
        courses=tuple(_course_model(k) for k in c.courses),
        promotion=tuple(model.Promotion(p.student, p.decision, p.protocol) for p in c.promotion),
    )


def _course_model(k: CourseV1) -> model.Course:
    return model.Course(
        id=k.id,
        subject=k.subject,
        teacher=k.teacher,
        lessons=tuple(
            model.Lesson(x.id, x.date, x.number, x.topic, x.homework, x.teacher) for x in k.lessons
        ),
        marks=tuple(model.Mark(x.student, x.lesson, x.value, x.note) for x in k.marks),
        attendance=tuple(model.Attendance(x.student, x.lesson, x.code) for x in k.attendance),
        period_marks=tuple(model.PeriodMark(x.student, x.period, x.value) for x in k.period_marks),
        year_marks=tuple(model.FinalMark(x.student, x.value) for x in k.year_marks),
        exam_marks=tuple(model.FinalMark(x.student, x.value) for x in k.exam_marks),
    )
