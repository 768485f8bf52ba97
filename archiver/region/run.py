"""The region run: every school's jobs on the engine, the lock per school and year, the outcome.

The coordinator (this process) submits each school's ``validate`` job; when it comes
back it takes the school's year lock (the same lock file a one-machine
``archiver year-end`` takes, with a lease the coordinator keeps renewing, so a run on
any computer that sees the working folder is refused while this one works) and
submits its ``prepare`` job (what the archive holds decides the classes to do), then
its ``render`` and ``sign`` jobs (one each per class to do; signing pinned to the
worker holding ``signer-<school>`` when the school says ``signer_host``; none when the
director signs) and its ``store`` job. Jobs of all schools interleave on the engine. A school whose job fails
for good is reported with the reason, the others go on. Progress goes to a callback as
:class:`RegionEvent` s; the outcome is a :class:`RegionReport`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from archiver.lock import LockBusy, RunLock, year_lock_path
from archiver.region.engine import Engine
from archiver.region.jobs import (
    DONE,
    FAILED,
    SKIPPED,
    WAITING,
    inventory_job,
    prepare_job,
    render_job,
    school_settings,
    sign_job,
    store_job,
    validate_job,
    verify_job,
)
from archiver.region.model import Region, SchoolEntry
from archiver.settings import MODE_DIRECTOR

__all__ = ["RegionEvent", "RegionReport", "SchoolOutcome", "run_region"]

STAGES = ("validate", "prepare", "render", "sign", "store")
COMPLETE = "complete"
REFUSED = "refused"
VALID = "valid"
VERIFIED = "verified"
OUTCOME_TEXT = {
    COMPLETE: "в архиве в двух копиях и проверено",
    VALID: "выгрузка в порядке",
    VERIFIED: "архив проверен, замечаний нет",
    FAILED: "ошибка",
    REFUSED: "отказано: идёт другой запуск",
    WAITING: "ждёт подписи директора",
    "pending": "не завершено",
}


@dataclass(frozen=True, slots=True)
class RegionEvent:
    """One job finished (or a school's state changed)."""

    stage: str
    school: str
    status: str
    """``done``, ``skipped`` (its result was published already), ``failed``, ``refused``, ``waiting_for_signature``."""
    done: int
    """Jobs of this stage finished, all schools."""
    total: int
    school_done: int
    school_total: int
    class_id: str | None = None
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "stage": self.stage,
            "school": self.school,
            "status": self.status,
            "done": self.done,
            "total": self.total,
            "school_done": self.school_done,
            "school_total": self.school_total,
        }
        if self.class_id is not None:
            line["class_id"] = self.class_id
        if self.message is not None:
            line["message"] = self.message
        return line


RegionProgress = Callable[[RegionEvent], None]


@dataclass
class SchoolOutcome:
    """What became of one school."""

    id: str
    name: str = ""
    year: str | None = None
    state: str = "pending"
    messages: list[str] = field(default_factory=list)
    classes: int = 0
    pages: int = 0
    jobs: dict[str, int] = field(default_factory=lambda: {DONE: 0, SKIPPED: 0, FAILED: 0})
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.state in (COMPLETE, VALID, VERIFIED, WAITING)

    def fail(self, message: str, state: str = FAILED) -> None:
        if self.state not in (FAILED, REFUSED):
            self.state = state
        if message not in self.messages:
            self.messages.append(message)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "year": self.year,
            "state": self.state,
            "ok": self.ok,
            "classes": self.classes,
            "pages": self.pages,
            "jobs": self.jobs,
            "messages": self.messages,
            **self.details,
        }


@dataclass
class RegionReport:
    """The outcome of a region command."""

    region: str
    action: str
    engine: str
    schools: list[SchoolOutcome]
    seconds: float = 0.0
    dashboard: str | None = None

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.schools)

    @property
    def waiting(self) -> bool:
        """Some school waits for its director's signature (and none failed)."""
        return self.ok and any(s.state == WAITING for s in self.schools)

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "action": self.action,
            "ok": self.ok,
            "engine": self.engine,
            "dashboard": self.dashboard,
            "seconds": round(self.seconds, 2),
            "schools": [s.to_json() for s in self.schools],
        }

    def to_text(self) -> str:
        lines = [f"{self.region}: школ {len(self.schools)}, время {self.seconds:.1f} с"]
        for school in self.schools:
            title = f"{school.id} ({school.name})" if school.name else school.id
            done, skipped = school.jobs[DONE], school.jobs[SKIPPED]
            counts = f"заданий выполнено {done}, уже было сделано {skipped}"
            extra = f", классов {school.classes}" if school.classes else ""
            extra += f", страниц {school.pages}" if school.pages else ""
            lines.append(
                f"  {title}: {OUTCOME_TEXT.get(school.state, school.state)} ({counts}{extra})"
            )
            lines.extend(f"    {m}" for m in school.messages)
        good = sum(1 for s in self.schools if s.ok)
        lines.append(f"Итог: в порядке {good} из {len(self.schools)} школ.")
        return "\n".join(lines) + "\n"


class _Tracker:
    """Counts finished jobs per stage and per school, and tells the callback."""

    def __init__(self, progress: RegionProgress | None) -> None:
        self.progress = progress
        self.total: dict[str, int] = {}
        self.done: dict[str, int] = {}
        self.school_total: dict[tuple[str, str], int] = {}
        self.school_done: dict[tuple[str, str], int] = {}

    def expect(self, stage: str, school: str, count: int) -> None:
        self.total[stage] = self.total.get(stage, 0) + count
        self.school_total[stage, school] = self.school_total.get((stage, school), 0) + count

    def note(self, stage: str, school: str, status: str, message: str) -> None:
        """A school's state changed without a job finishing (refused, waiting)."""
        if self.progress is not None:
            self.progress(
                RegionEvent(
                    stage,
                    school,
                    status,
                    self.done.get(stage, 0),
                    self.total.get(stage, 0),
                    self.school_done.get((stage, school), 0),
                    self.school_total.get((stage, school), 0),
                    message=message,
                )
            )

    def finished(
        self,
        stage: str,
        school: str,
        status: str,
        class_id: str | None = None,
        message: str | None = None,
    ) -> None:
        self.done[stage] = self.done.get(stage, 0) + 1
        self.school_done[stage, school] = self.school_done.get((stage, school), 0) + 1
        if self.progress is not None:
            self.progress(
                RegionEvent(
                    stage,
                    school,
                    status,
                    self.done[stage],
                    self.total.get(stage, 0),
                    self.school_done[stage, school],
                    self.school_total.get((stage, school), 0),
                    class_id,
                    message,
                )
            )


@dataclass
class _School:
    entry: SchoolEntry
    outcome: SchoolOutcome
    lock: RunLock | None = None
    open_jobs: int = 0
    validated: dict[str, Any] = field(default_factory=dict)

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def run_region(
    region: Region,
    entries: list[SchoolEntry],
    engine: Engine,
    *,
    action: str = "year-end",
    progress: RegionProgress | None = None,
) -> RegionReport:
    """Run ``action`` (``year-end``, ``validate`` or ``verify``) for ``entries`` on ``engine``."""
    from distributed import as_completed

    started = time.monotonic()
    client = engine.client
    retries = region.engine.retries
    tracker = _Tracker(progress)
    schools = {e.id: _School(e, SchoolOutcome(e.id)) for e in entries}
    jobs: dict[Any, tuple[str, str, str | None]] = {}
    queue = as_completed()

    def submit(
        stage: str, school: str, class_id: str | None, fn: Any, *args: Any, **extra: Any
    ) -> Any:
        name = f"{stage}-{school}-{class_id or 'all'}"
        future = client.submit(fn, *args, key=f"{name}-{time.time_ns()}", retries=retries, **extra)
        jobs[future] = (stage, school, class_id)
        schools[school].open_jobs += 1
        queue.add(future)
        return future

    first = "verify" if action == "verify" else "validate"
    tracker.expect(first, "", 0)
    for entry in entries:
        tracker.expect(first, entry.id, 1)
        submit(first, entry.id, None, verify_job if action == "verify" else validate_job, entry)

    try:
        for future in queue:
            stage, school_id, class_id = jobs.pop(future)
            school = schools[school_id]
            school.open_jobs -= 1
            result = _result_of(future, school.entry, stage, class_id)
            status = str(result.get("status", FAILED))
            school.outcome.jobs[status if status in (DONE, SKIPPED, FAILED) else DONE] += 1
            message = result.get("message")
            if status == FAILED and not result.get("blocked"):
                school.outcome.fail(str(message))
            elif status == WAITING:
                school.outcome.fail(str(message), WAITING)
            tracker.finished(stage, school_id, status, class_id, message)
            if stage == "validate":
                _validated(school, result, action)
                if action == "year-end" and status != FAILED:
                    school.validated = result
                    _start_school(school, result, region, tracker, submit)
            elif stage == "prepare" and status != FAILED:
                _plan_school(school, school.validated, result, engine, tracker, submit)
            elif stage == "render":
                school.outcome.pages += int(result.get("pages", 0))
            elif stage == "store":
                _stored(school, result)
            elif stage == "verify":
                if status != FAILED:
                    school.outcome.state = VERIFIED
                school.outcome.details["verify"] = {
                    "records": result.get("records", 0),
                    "counts": result.get("counts", {}),
                }
            if school.open_jobs == 0:
                school.release()
    except BaseException:
        for future in list(jobs):
            future.cancel()
        raise
    finally:
        for school in schools.values():
            school.release()
    return RegionReport(
        region.name,
        action,
        engine.address,
        [s.outcome for s in schools.values()],
        time.monotonic() - started,
        engine.dashboard,
    )


def _result_of(future: Any, entry: SchoolEntry, stage: str, class_id: str | None) -> dict[str, Any]:
    """The job's result; an exception after the retries becomes a ``failed`` result naming the place."""
    try:
        result: dict[str, Any] = future.result()
    except Exception as exc:
        where = f"школа {entry.id}" + (f", класс {class_id}" if class_id else "")
        reason = str(exc) or type(exc).__name__
        if type(exc).__name__ == "KilledWorker":
            reason = "исполнитель, выполнявший задание, несколько раз завершался аварийно"
        text = reason if reason.startswith("школа ") else f"{where}: {STAGE_TEXT[stage]}: {reason}"
        return {"status": FAILED, "message": text}
    return result


STAGE_TEXT = {
    "validate": "проверка выгрузки",
    "prepare": "подготовка",
    "render": "вёрстка",
    "sign": "подпись",
    "store": "сохранение и проверка",
    "verify": "проверка архива",
}


def _validated(school: _School, result: dict[str, Any], action: str) -> None:
    outcome = school.outcome
    outcome.name = str(result.get("school_name", ""))
    outcome.year = result.get("academic_year")
    outcome.classes = len(result.get("classes", []))
    if action == "validate" and result.get("status") != FAILED:
        outcome.state = VALID


def _start_school(
    school: _School,
    validated: dict[str, Any],
    region: Region,
    tracker: _Tracker,
    submit: Callable[..., Any],
) -> None:
    """Take the school's year lock and submit its ``prepare`` job."""
    entry = school.entry
    settings = school_settings(entry)
    storage = settings.require_storage()
    lock = RunLock(
        year_lock_path(
            settings.working_dir(), str(validated["export_school_id"]), str(validated["year"])
        ),
        purpose="region year-end",
        what=f"Архивирование школы {entry.id} за {validated['academic_year']} учебный год",
        lease=timedelta(seconds=region.engine.lease_seconds),
        zone=storage.timezone,
    )
    try:
        lock.acquire()
    except LockBusy as exc:
        school.outcome.fail(f"школа {entry.id}: {exc}", REFUSED)
        tracker.note("validate", entry.id, REFUSED, str(exc))
        return
    school.lock = lock
    tracker.expect("prepare", entry.id, 1)
    submit("prepare", entry.id, None, prepare_job, entry, validated, priority=1)


def _plan_school(
    school: _School,
    validated: dict[str, Any],
    planned: dict[str, Any],
    engine: Engine,
    tracker: _Tracker,
    submit: Callable[..., Any],
) -> None:
    """Submit the school's render and sign jobs (per class to do) and its store job."""
    entry = school.entry
    settings = school_settings(entry)
    signer = settings.signature.signer
    director = signer is not None and signer.mode == MODE_DIRECTOR
    pinned = {"resources": {entry.resource: 1}} if entry.signer_host else {}
    no_signer = entry.signer_host and not director and not engine.has_resource(entry.resource)
    if planned.get("adopted"):
        # a class whose archived documents are taken instead of new ones: the school's
        # year-end runs as one job, exactly as on one machine (rare: a run cut short)
        if no_signer:
            _waits_for_signer(school, tracker)
            return
        tracker.expect("store", entry.id, 1)
        submit("store", entry.id, None, store_job, entry, validated, [planned], **pinned)
        return
    classes = list(planned.get("todo", []))
    tracker.expect("render", entry.id, len(classes))
    renders = [
        submit("render", entry.id, c, render_job, entry, validated, c, priority=1) for c in classes
    ]
    if no_signer:  # rendered; signed once a worker with the school's signer is connected
        _waits_for_signer(school, tracker)
        return
    tracker.expect("store", entry.id, 1)
    if director:
        # separation of duties: the director signs (archiver sign --review); the store job
        # runs the one-machine year-end, which writes the director's batch and stops
        submit("store", entry.id, None, store_job, entry, validated, renders, priority=3)
        return
    tracker.expect("sign", entry.id, len(classes) + 1)
    signed = [
        submit("sign", entry.id, c, sign_job, entry, validated, r, priority=2, **pinned)
        for c, r in zip(classes, renders, strict=True)
    ]
    inventory = submit(  # counted as a sign job: the school's own document
        "sign",
        entry.id,
        "inventory",
        inventory_job,
        entry,
        validated,
        renders,
        priority=2,
        **pinned,
    )
    inputs = [planned, *signed, inventory]
    submit("store", entry.id, None, store_job, entry, validated, inputs, priority=3)


def _waits_for_signer(school: _School, tracker: _Tracker) -> None:
    entry = school.entry
    school.outcome.fail(
        f"школа {entry.id}: ждёт подписи директора — ни один исполнитель не запущен с "
        f"ресурсом {entry.resource} (там, где ключ директора: dask worker АДРЕС "
        f"--resources {entry.resource}=1); после подписи запустите ту же команду снова",
        WAITING,
    )
    tracker.note("sign", entry.id, WAITING, school.outcome.messages[-1])


def _stored(school: _School, result: dict[str, Any]) -> None:
    outcome = school.outcome
    outcome.details["records"] = result.get("records", {})
    outcome.details["states"] = result.get("states", {})
    if "pages" in result:
        outcome.pages = int(result["pages"])
    if result.get("status") != FAILED and outcome.state == "pending":
        outcome.state = COMPLETE
