"""Staff and the weekly timetables (step 3 of the generation).

Every class gets its courses and their teachers, hired as the load needs them, and
a weekly timetable in which no teacher is in two rooms at once; Профильный труд is
taught in double lessons.
"""

from __future__ import annotations

from archiver.demo import curriculum as cur
from archiver.demo.generator.school import Course, Group, School


def make_staff(school: School) -> None:
    staff = school.staff
    school.director = staff.name(False)
    school.deputy = staff.name(False)
    for group in school.class_groups:
        primary = None
        if group.grade <= 4:
            primary = staff.hire("primary")
            primary.class_teacher = True
            group.class_teacher = primary
        for plan in cur.weekly_plan(group.grade):
            if plan.group == "primary":
                assert primary is not None
                teacher = primary
                teacher.load += plan.hours
            else:
                teacher = staff.take(plan.group, plan.hours)
            group.courses.append(
                Course(
                    id=f"{group.id}-{plan.subject}",
                    subject=plan.subject,
                    hours=plan.hours,
                    group=plan.group,
                    marked=plan.marked,
                    double=plan.double,
                    teacher=teacher,
                )
            )
        if group.class_teacher is None:
            options = [
                c.teacher
                for c in group.courses
                if c.group in ("rus", "math", "nat", "hist", "prof") and not c.teacher.class_teacher
            ]
            chosen = school.rng.choice(options) if options else group.courses[0].teacher
            chosen.class_teacher = True
            group.class_teacher = chosen
    count = max(3, (len(school.class_groups) + 1) // 2)
    school.educators = [
        (f"v{i + 1:02d}", staff.name(school.rng.random() < 0.1)) for i in range(count)
    ]


def build_timetable(school: School, group: Group) -> None:
    """Place every weekly hour of the class so that no teacher is in two places at once."""
    rng = school.rng
    total = sum(c.hours for c in group.courses)
    base, extra = divmod(total, 5)
    group.day_counts = [base + (1 if d < extra else 0) for d in range(5)]
    free = {(d, s) for d in range(5) for s in range(1, group.day_counts[d] + 1)}
    doubles: list[Course] = []
    singles: list[Course] = []
    for course in group.courses:
        pairs = course.hours // 2 if course.double else 0
        doubles.extend([course] * pairs)
        singles.extend([course] * (course.hours - 2 * pairs))
    for course in doubles:
        options = []
        for d, s in sorted(free):
            if (d, s + 1) in free and not course.teacher.busy & {(d, s), (d, s + 1)}:
                same_day = any(group.grid.get((d, k)) is course for k in range(1, 8))
                options.append((10 * same_day + (s < 3) + rng.random(), d, s))
        if not options:
            reassign(school, course, group)
            build_timetable_retry(school, group)
            return
        _, d, s = min(options)
        for cell in ((d, s), (d, s + 1)):
            free.discard(cell)
            group.grid[cell] = course
            course.teacher.busy.add(cell)
    rng.shuffle(singles)
    singles.sort(key=lambda c: (c.group == "primary", -c.teacher.load))
    for course in singles:
        options = []
        for d, s in sorted(free):
            if (d, s) in course.teacher.busy:
                continue
            on_day = sum(group.grid.get((d, k)) is course for k in range(1, 8))
            options.append((8 * on_day + _slot_penalty(course.subject, s) + rng.random(), d, s))
        if options:
            _, d, s = min(options)
            cell = (d, s)
        else:
            found = swap_for(course, group, free)
            if found is None:
                reassign(school, course, group)
                cell = min(free)
            else:
                cell = found
        free.discard(cell)
        group.grid[cell] = course
        course.teacher.busy.add(cell)


def build_timetable_retry(school: School, group: Group) -> None:
    """Start the class's timetable again (after a course got a new teacher)."""
    for cell, course in group.grid.items():
        course.teacher.busy.discard(cell)
    group.grid.clear()
    build_timetable(school, group)


def swap_for(course: Course, group: Group, free: set[tuple[int, int]]) -> tuple[int, int] | None:
    """Move a placed single lesson to a free cell so that ``course`` fits; the freed cell."""
    for target in sorted(free):
        for cell in sorted(group.grid):
            other = group.grid[cell]
            if other.double or other is course or cell in course.teacher.busy:
                continue
            if target in other.teacher.busy:
                continue
            other.teacher.busy.discard(cell)
            other.teacher.busy.add(target)
            group.grid[target] = other
            del group.grid[cell]
            free.discard(target)
            free.add(cell)
            return cell
    return None


def reassign(school: School, course: Course, group: Group) -> None:
    """Give ``course`` to a newly hired teacher of its group (the old one is fully booked)."""
    old = course.teacher
    new = school.staff.hire(course.group)
    for cell, placed in group.grid.items():
        if placed is course:
            old.busy.discard(cell)
            new.busy.add(cell)
    old.load -= course.hours
    new.load += course.hours
    course.teacher = new


def _slot_penalty(subject: str, slot: int) -> float:
    """Main subjects early in the day, practical and correctional ones later."""
    if subject in ("rus", "math", "read", "litread"):
        return max(0, slot - 3) * 1.5
    if subject in ("pe", "music", "art", "craft", "rhythm", "logo", "prof"):
        return max(0, 3 - slot) * 1.0
    return 0.0
