"""The jobs a region run puts on the engine: the year-end stages of one school, cut per class.

Each job is a plain function of picklable arguments (the school's entry and the small
results of the jobs before it), so it runs the same in a local cluster's worker, in a
``dask worker`` on another computer, or in this process. A worker reads the school's
``archiver.toml`` and export itself (from paths that every worker sees) and keeps the
parsed ones for the school's next jobs.

The jobs call the stage functions :mod:`archiver.yearend` calls on one machine:

* ``validate`` (per school): :func:`~archiver.sources.export_v1.read_export`;
* ``prepare`` (per school, under its lock): the classes to do from what the archive holds,
  and the run folder (:func:`~archiver.yearend.prepare_work_dir`);
* ``render`` (per class): :func:`~archiver.render.batch.render_classes`;
* ``sign`` (per class, where the school's signer is): :func:`~archiver.signing.sign.sign_files`
  with the school's session kept open in the worker;
* ``inventory`` (per school, where its signer is): the year's inventory of files once every
  class is rendered (:func:`~archiver.render.inventory.ensure_inventory`), signed;
* ``store`` (per school: both copies, then the verification and the year-end report):
  :func:`~archiver.yearend.run_year_end`, which finds everything rendered and signed and
  stores each record once (an interrupted record is completed, a stored one left alone).

Every job has a key (school, year, class, kind, the input's sha256); its result is
published atomically as ``<working folder>/region-jobs/<key>.json`` and a job whose
result is published returns it at once (``skipped``). A job that cannot succeed (bad
input) returns ``failed`` with the reason; one that may succeed when run again (a
storage or network error, a worker that died) raises, and the engine retries it.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from archiver.errors import ArchiverError, ExitCode, UsageError
from archiver.files import write_atomic
from archiver.kinds import safe_name, year_folder
from archiver.region.model import SchoolEntry
from archiver.settings import Settings, load_settings
from archiver.sources.report import ValidationReport

__all__ = [
    "JOBS_FOLDER",
    "JobError",
    "inventory_job",
    "job_key",
    "prepare_job",
    "published",
    "render_job",
    "sign_job",
    "store_job",
    "validate_job",
    "verify_job",
]

JOBS_FOLDER = "region-jobs"
"""The folder of published job results in a school's working folder."""

DONE = "done"
SKIPPED = "skipped"
FAILED = "failed"
WAITING = "waiting_for_signature"

Result = dict[str, Any]


class JobError(Exception):
    """A job failed in a way that running it again may cure (the engine retries it).

    Carries only a message, so that it crosses process and machine boundaries intact.
    """


def job_key(school: str, year: str | None, class_id: str | None, kind: str, sha: str) -> str:
    """The key of a job: school, year, class (``-``: the whole school), kind, input hash."""
    parts = (school, year or "-", safe_name(class_id) if class_id else "-", kind, sha[:16])
    return "--".join(parts)


def _result_path(working_dir: Path, key: str) -> Path:
    return working_dir / JOBS_FOLDER / f"{key}.json"


def published(working_dir: Path, key: str) -> Result | None:
    """The published result of job ``key``, or ``None``."""
    try:
        data: Result = json.loads(_result_path(working_dir, key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


def _publish(working_dir: Path, result: Result) -> Result:
    folder = working_dir / JOBS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    data = json.dumps(result, ensure_ascii=False, indent=1).encode("utf-8")
    write_atomic(_result_path(working_dir, str(result["key"])), data)
    return result


@functools.lru_cache(maxsize=64)
def _settings_at(config: str, mtime: float) -> Settings:
    return load_settings(Path(config))


def school_settings(entry: SchoolEntry) -> Settings:
    """The school's settings, read once per worker process (again when the file changes)."""
    try:
        mtime = entry.config.stat().st_mtime
    except OSError as exc:
        raise JobError(
            f"школа {entry.id}: файл настроек {entry.config} недоступен: {exc}"
        ) from None
    return _settings_at(str(entry.config), mtime)


EXPORTS_KEPT = 4
"""Parsed exports a worker keeps (the schools it worked for last)."""
_exports: OrderedDict[tuple[str, str], tuple[bytes, str, ValidationReport]] = OrderedDict()


def _read_source(entry: SchoolEntry) -> tuple[bytes, str]:
    """The export's bytes and display name (a file's base name, or the URL)."""
    from archiver.sources.http import is_url, load_source

    raw, name = load_source(entry.source)
    return raw, name if is_url(entry.source) else Path(name).name


def _load_export(
    entry: SchoolEntry, sha: str | None = None, read: tuple[bytes, str] | None = None
) -> tuple[bytes, str, ValidationReport]:
    """The export's bytes, display name and validation, read once per worker.

    ``sha``: the hash the school's validation found; :class:`JobError` when the
    export read now is another one (changed during the run). ``read``: the bytes
    and name read already.
    """
    from archiver.sources.export_v1 import read_export

    if sha is not None and (entry.source, sha) in _exports:
        _exports.move_to_end((entry.source, sha))
        return _exports[entry.source, sha]
    raw, name = read or _read_source(entry)
    found = hashlib.sha256(raw).hexdigest()
    if sha is not None and found != sha:
        raise JobError(f"школа {entry.id}: выгрузка {entry.source} изменилась во время работы")
    _exports[entry.source, found] = (raw, name, read_export(raw, name=name))
    while len(_exports) > EXPORTS_KEPT:
        _exports.popitem(last=False)
    return _exports[entry.source, found]


def _worker_name() -> str | None:
    """The engine worker's name (``dask worker --name``), or ``None`` outside a worker."""
    try:
        from distributed import get_worker

        return str(get_worker().name)
    except (ImportError, ValueError):
        return None


def _base(
    entry: SchoolEntry, kind: str, key: str, year: str | None, class_id: str | None
) -> Result:
    return {
        "key": key,
        "school": entry.id,
        "year": year,
        "class_id": class_id,
        "kind": kind,
        "host": socket.gethostname(),
        "worker": _worker_name(),
    }


def _failed(result: Result, message: str) -> Result:
    return {**result, "status": FAILED, "message": message}


def _blocked(entry: SchoolEntry, kind: str, inputs: Sequence[Result]) -> Result | None:
    """A ``failed`` result when an input job failed (the job cannot run), else ``None``."""
    bad = [r for r in inputs if r.get("status") == FAILED]
    if not bad:
        return None
    names = ", ".join(str(r.get("class_id") or r.get("kind")) for r in bad)
    return {
        "key": "",
        "school": entry.id,
        "year": inputs[0].get("year"),
        "class_id": None,
        "kind": kind,
        "status": FAILED,
        "message": f"не выполнено: не готовы {names}",
        "blocked": True,
    }


def _run(result: Result, work: Any) -> Result:
    """Run ``work()`` into ``result``: bad input → ``failed``; a transient error → :class:`JobError`."""
    started = time.monotonic()
    try:
        result.update(work())
    except ArchiverError as exc:
        where = f"школа {result['school']}" + (
            f", класс {result['class_id']}" if result.get("class_id") else ""
        )
        if exc.exit_code in (ExitCode.BAD_INPUT, ExitCode.PROBLEMS_FOUND):
            return _failed(result, f"{where}: {exc}")
        raise JobError(f"{where}: {exc}") from None
    result.setdefault("status", DONE)
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


def _school_job(
    entry: SchoolEntry,
    kind: str,
    validated: Result,
    inputs: Sequence[Result],
    work: Callable[[Settings, Path], Result],
    *,
    class_id: str | None = None,
    key_input: str | None = None,
) -> Result:
    """The frame of every job after ``validate``: ``failed`` when an input failed, the
    published result when it was done before (``skipped``), else ``work(settings, working
    folder)`` run into a result that is published when done.

    ``key_input``: what the job works from (default: the school's export and classes).
    """
    blocked = _blocked(entry, kind, [validated, *inputs])
    if blocked is not None:
        return blocked
    settings = school_settings(entry)
    working = settings.working_dir()
    year = str(validated["year"])
    key = job_key(entry.id, year, class_id, kind, key_input or _school_input(validated))
    earlier = published(working, key)
    if earlier is not None:
        return {**earlier, "status": SKIPPED}
    result = _run(_base(entry, kind, key, year, class_id), lambda: work(settings, working))
    return _publish(working, result) if result["status"] == DONE else result


# -- the jobs


def validate_job(entry: SchoolEntry) -> Result:
    """Read and validate the school's export; the year, the classes to do and the export's hash."""
    from archiver.render.batch import select_classes
    from archiver.yearend import RUN_FILE, work_folder

    settings = school_settings(entry)
    working = settings.working_dir()
    read = _read_source(entry)
    sha = hashlib.sha256(read[0]).hexdigest()
    key = job_key(entry.id, None, None, "validate", sha)
    earlier = published(working, key)
    if earlier is not None and earlier.get("classes_asked") == entry.classes:
        return {**earlier, "status": SKIPPED}
    _, name, report = _load_export(entry, sha, read)
    result = _base(entry, "validate", key, None, None)
    result.update(export_sha256=sha, source_name=name, classes_asked=entry.classes)
    export = report.export
    if not report.ok or export is None:
        first = f"; первая: {report.errors[0]}" if report.errors else ""
        return _failed(
            result,
            f"школа {entry.id}: выгрузка {name} не прошла проверку "
            f"(ошибок: {len(report.errors)}){first}",
        )

    def work() -> Result:
        ids = select_classes(export, entry.classes)
        run_file = work_folder(working, export) / RUN_FILE
        if run_file.is_file():
            previous = json.loads(run_file.read_text(encoding="utf-8"))
            if previous.get("export_sha256") != sha:
                return {
                    "status": FAILED,
                    "message": f"школа {entry.id}: в рабочей папке {run_file.parent} документы "
                    f"по другой выгрузке ({previous.get('source')}); исправленную выгрузку "
                    "архивируйте в этой школе командой archiver year-end --correction",
                }
        return {
            "year": year_folder(export),
            "academic_year": export.academic_year.name,
            "school_name": export.school.short_name,
            "export_school_id": export.school.id,
            "classes": [{"id": c, "name": export.classes_by_id[c].name} for c in ids],
            "warnings": len(report.warnings),
        }

    result = _run(result, work)
    return _publish(working, result) if result["status"] == DONE else result


def prepare_job(entry: SchoolEntry, validated: Result) -> Result:
    """Plan the school's classes from its archive, check, and prepare its run folder (under its lock).

    The one-machine run's first steps (:func:`~archiver.archive.holdings.plan_classes`,
    :func:`~archiver.check.run_checks` without the key, which its sign jobs use where it
    is, :func:`~archiver.yearend.prepare_work_dir`): the classes to do, those left alone
    (their documents for this data are in both copies), and those whose archived
    documents can be taken instead of new ones (then the school runs as one job).
    """
    from archiver.archive.holdings import plan_classes, refuse_without_correction, year_holdings
    from archiver.check import CheckFailed, run_checks
    from archiver.storage.open import open_locations
    from archiver.yearend import prepare_work_dir, work_folder

    sha, year = str(validated["export_sha256"]), str(validated["year"])

    def work(settings: Settings, working: Path) -> Result:
        raw, name, report = _load_export(entry, sha)
        export = report.export
        assert export is not None  # validated
        locations = open_locations(settings.require_storage())
        holdings = year_holdings(locations, export.school.id, year)
        ids = [c["id"] for c in validated["classes"]]
        plan = plan_classes(export, sha, ids, holdings)
        refuse_without_correction(plan, holdings, sha, None)
        if plan.todo:  # archiver check: storage, templates (the key is checked where it is)
            checks = run_checks(settings, locations, secret=None)
            if checks.blocking:
                return {"status": FAILED, "message": f"школа {entry.id}: {CheckFailed(checks)}"}
        prepare_work_dir(export, work_folder(working, export), raw, sha, name, plan.todo)
        adopted = sorted({c for c, _ in plan.adopt if c in plan.todo})
        return {"todo": plan.todo, "unchanged": plan.unchanged, "adopted": adopted}

    return _school_job(entry, "prepare", validated, (), work)


def render_job(entry: SchoolEntry, validated: Result, class_id: str) -> Result:
    """Render one class's documents (unless they are there already)."""
    from archiver.render.batch import render_classes
    from archiver.yearend import documents_root, expected_documents, work_folder

    sha = str(validated["export_sha256"])

    def work(settings: Settings, working: Path) -> Result:
        _, _, report = _load_export(entry, sha)
        export = report.export
        assert export is not None  # validated
        out_dir = documents_root(work_folder(working, export))
        expected = expected_documents(export, out_dir, class_id)
        if all(p.is_file() for _, p in expected):  # rendered by a worker that died after it
            pages = sum(_pages(p) for _, p in expected)
        else:
            docs = render_classes(
                export, out_dir, [class_id], workers=1, doc_options=settings.documents
            )
            pages = sum(d.pages for d in docs)
        return {"documents": [str(p) for _, p in expected], "pages": pages}

    return _school_job(entry, "render", validated, (), work, class_id=class_id, key_input=sha)


def _pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


def _school_input(validated: Result) -> str:
    """The hash of what a school-wide job works from: the export and the classes."""
    classes = ",".join(c["id"] for c in validated.get("classes", []))
    return hashlib.sha256(f"{validated['export_sha256']}|{classes}".encode()).hexdigest()


SESSIONS_KEPT = 4
"""Signing sessions a worker keeps open (the schools it signed for last)."""
_sessions: OrderedDict[tuple[str, float], tuple[ExitStack, Any]] = OrderedDict()


def _close_sessions() -> None:
    while _sessions:
        _, (stack, _) = _sessions.popitem(last=False)
        stack.close()


atexit.register(_close_sessions)


def _signer(entry: SchoolEntry, settings: Settings, secret: str) -> Any:
    """The school's loaded signer, opened once per worker process and kept for its next jobs.

    Opening a session (loading the key, starting the demo timestamping service) costs
    ~0.2 s; a school's classes are signed by separate jobs, so a worker keeps the last
    :data:`SESSIONS_KEPT` schools' sessions open.
    """
    from archiver.demo.keys import demo_timestamping
    from archiver.signing.sign import signing_session

    key = (str(entry.config), entry.config.stat().st_mtime)
    if key in _sessions:
        _sessions.move_to_end(key)
        return _sessions[key][1]
    stack = ExitStack()
    signature = settings.signature
    signer = stack.enter_context(signing_session(signature, secret, demo_timestamping(signature)))
    _sessions[key] = (stack, signer)
    while len(_sessions) > SESSIONS_KEPT:
        _, (old, _) = _sessions.popitem(last=False)
        old.close()
    return signer


def sign_job(entry: SchoolEntry, validated: Result, rendered: Result) -> Result:
    """Sign one class's unsigned documents with the school's signer (on the worker that holds it)."""
    from archiver.signing.sign import is_signed, sign_files

    def work(settings: Settings, working: Path) -> Result:
        paths = [Path(p) for p in rendered["documents"]]
        unsigned = [p for p in paths if not is_signed(p.read_bytes())]
        if unsigned:  # no key's secret on this worker: failed, naming the variable
            sign_files(_signer(entry, settings, _secret_of(settings)()), unsigned, workers=1)
        return {"documents": len(paths), "signed_now": len(unsigned)}

    return _school_job(
        entry,
        "sign",
        validated,
        [rendered],
        work,
        class_id=str(rendered["class_id"]),
        key_input=str(validated["export_sha256"]),
    )


def inventory_job(entry: SchoolEntry, validated: Result, renders: list[Result]) -> Result:
    """Make the year's inventory of files (опись дел) once every class's documents are there, and sign it.

    :func:`~archiver.render.inventory.ensure_inventory`, as the one-machine run does after
    rendering; signed here (where the school's signer is) so that the store job never
    needs the key. Without every class's documents it is not made (``made: false``).
    """
    from archiver.render.inventory import ensure_inventory
    from archiver.signing.sign import is_signed, sign_files
    from archiver.yearend import documents_root, work_folder

    def work(settings: Settings, working: Path) -> Result:
        _, _, report = _load_export(entry, str(validated["export_sha256"]))
        export = report.export
        assert export is not None  # validated
        out_dir = documents_root(work_folder(working, export))
        path, pending = ensure_inventory(export, out_dir, settings.documents)
        if path is None:
            return {"made": False, "pending": pending}
        if not is_signed(path.read_bytes()):
            sign_files(_signer(entry, settings, _secret_of(settings)()), [path], workers=1)
        return {"made": True, "documents": [str(path)]}

    return _school_job(entry, "inventory", validated, renders, work)


def _secret_of(settings: Settings) -> Callable[[], str]:
    """The signer's passphrase or PIN from this worker's environment (asked only when needed)."""
    from archiver.signing.sign import secret_env

    def secret() -> str:
        variable = secret_env(settings.signature)
        value = os.environ.get(variable)
        if value is None:
            raise UsageError(
                f"на исполнителе {socket.gethostname()} не задан пароль ключа подписи "
                f"(переменная окружения {variable})"
            )
        return value

    return secret


def store_job(entry: SchoolEntry, validated: Result, inputs: list[Result]) -> Result:
    """Store both copies, verify them and write the year-end report: :func:`run_year_end`.

    ``inputs``: the sign jobs' results, or (the director signs: ``mode = "director"``) the
    render jobs' results. Everything is rendered (and signed) by now, so the one-machine
    run goes straight to storing (each record once; an interrupted one is completed) and
    verifying, or, with documents waiting for the director, writes the director's batch
    and stops: ``waiting_for_signature``, not published, so that the run after the
    director's signature stores them.
    """
    from archiver.demo.keys import demo_timestamping
    from archiver.storage.open import open_locations
    from archiver.yearend import run_year_end

    def work(settings: Settings, working: Path) -> Result:
        raw, name, report = _load_export(entry, str(validated["export_sha256"]))
        storage = settings.require_storage()
        outcome = run_year_end(
            report,
            raw,
            name,
            working_dir=working,
            signature=settings.signature,
            locations=open_locations(storage),
            secret=_secret_of(settings),
            timestamping=demo_timestamping(settings.signature),
            class_ids=[c["id"] for c in validated["classes"]],
            zone=storage.timezone,
            doc_options=settings.documents,
            workers=1,
            lock_held=True,  # by the coordinator, for the whole school
        )
        statuses = [r.status for r in outcome.records]
        states: dict[str, int] = {}
        for standing in outcome.classes:
            states[standing.state] = states.get(standing.state, 0) + 1
        found: Result = {
            "records": {s: statuses.count(s) for s in sorted(set(statuses))},
            "states": states,
            "pages": sum(d.pages for d in outcome.documents),
            "level": outcome.level,
            "timings": {k: round(v, 2) for k, v in outcome.timings.items()},
        }
        if outcome.waiting:
            found["status"] = WAITING
            found["message"] = (
                f"школа {entry.id}: ждёт подписи директора (документов: {outcome.waiting}); "
                "директор подписывает их командой «archiver sign --review», затем запустите "
                "ту же команду снова"
            )
        elif not outcome.ok:
            found["status"] = FAILED
            found["message"] = f"школа {entry.id}: " + "; ".join(outcome.problems[:5])
        return found

    return _school_job(entry, "store", validated, inputs, work)


def verify_job(entry: SchoolEntry) -> Result:
    """Check every record of the school in both locations (``archiver verify`` of one school)."""
    from archiver.archive.verify import verify_archive
    from archiver.storage.open import open_locations

    settings = school_settings(entry)
    result = _base(entry, "verify", "", None, None)

    def work() -> Result:
        locations = open_locations(settings.require_storage())
        checked = verify_archive(locations, settings.working_dir(), threads=4)
        found: Result = {"records": len(checked.records), "counts": checked.counts()}
        if not checked.clean:
            problems = [f"{r.record_id}: {r.status}" for r in checked.records if r.status != "ok"]
            problems += [f"{loc.name}: {loc.error}" for loc in checked.locations if loc.error]
            found["status"] = FAILED
            found["message"] = f"школа {entry.id}: " + "; ".join(problems[:5] or ["есть замечания"])
        return found

    return _run(result, work)
