"""The year-end run: validate → render → sign → store ×2 → verify, resumable.

The run works in a folder of its own (``<working folder>/year-end/<year>/``, the folder set by ``[archive] state_dir``): the
rendered documents (signed in place), ``run.json`` (which export the documents
were made from) and the reports. Every step is idempotent, so a run interrupted
at any point (Ctrl-C, SIGKILL, power loss) is continued by starting it again:
documents already rendered are not rendered again, signed ones are not signed
again (files are replaced atomically), and records already stored are not
stored again (the store operation finishes interrupted records). The library
never prints: progress goes to a callback, the outcome is a :class:`YearEndReport`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archiver.archive.holdings import (
    ClassPlan,
    adopt_archived,
    data_hashes,
    plan_classes,
    refuse_without_correction,
    year_holdings,
)
from archiver.archive.store import store_records
from archiver.archive.verify.documents import owners_of, unproven, verify_run
from archiver.errors import InputError, UsageError
from archiver.files import write_atomic
from archiver.kinds import (
    INVENTORY,
    inventory_path,
    safe_name,
    year_folder,
)
from archiver.lock import year_lock
from archiver.model import JournalExport
from archiver.parallel import cores, preload, start_fork_server
from archiver.progress import ProgressCallback, StageProgress
from archiver.render.batch import render_classes, select_classes
from archiver.render.inventory import ensure_inventory
from archiver.settings import MODE_DIRECTOR, DocumentsOptions, Pkcs12Signer, SignatureSettings
from archiver.signing.review import make_batch, write_request
from archiver.signing.sign import TimestampingService, is_signed, sign_files, signing_session
from archiver.sources.report import ValidationReport
from archiver.storage.base import Storage
from archiver.yearend.standing import (
    INVENTORY_TEXT,
    NOT_RENDERED,
    RENDERED,
    REPORT_JSON,
    REPORT_TEXT,
    RUN_FILE,
    SIGNED,
    STAGE_NAMES,
    STAGES,
    STATE_TEXT,
    STORED_BOTH,
    STORED_ONE,
    VERIFIED,
    WAITING,
    ClassStanding,
    DocumentStanding,
    YearEndReport,
    class_standings,
    documents_root,
    expected_documents,
    work_folder,
)

__all__ = [  # the run, and the standings it reports (archiver.yearend.standing)
    "EXPORT_COPY",
    "INVENTORY_TEXT",
    "NOT_RENDERED",
    "RENDERED",
    "REPORT_JSON",
    "REPORT_TEXT",
    "RUN_FILE",
    "SIGNED",
    "STAGES",
    "STAGE_NAMES",
    "STATE_TEXT",
    "STORED_BOTH",
    "STORED_ONE",
    "VERIFIED",
    "WAITING",
    "ClassStanding",
    "DocumentStanding",
    "SecretProvider",
    "YearEndReport",
    "class_standings",
    "documents_root",
    "expected_documents",
    "prepare_work_dir",
    "run_year_end",
    "save_report",
    "work_folder",
]

SecretProvider = Callable[[], str]


EXPORT_COPY = "export.json"


def _read_run(work_dir: Path) -> dict[str, Any]:
    run_file = work_dir / RUN_FILE
    if not run_file.is_file():
        return {}
    data: dict[str, Any] = json.loads(run_file.read_text(encoding="utf-8"))
    return data


def prepare_work_dir(
    export: JournalExport,
    work_dir: Path,
    raw: bytes,
    export_sha: str,
    source: str,
    todo: Sequence[str],
) -> None:
    """Make sure the documents of the classes to do were made from this export's data.

    The run's folder remembers (``run.json``) which data each class's documents were
    made from; those of a class whose data changed are moved aside
    (``<year>.replaced-<time>/<class>``) and made again. The folder's copy of the
    export becomes this export.
    """
    previous = _read_run(work_dir)
    known: dict[str, dict[str, str]] = dict(previous.get("classes") or {})
    same_export = previous.get("export_sha256") == export_sha
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for class_id in todo:
        folder = work_dir / safe_name(class_id)
        wanted = data_hashes(export, class_id)
        made_from = known.get(class_id)
        if folder.is_dir() and (made_from != wanted if made_from else not same_export):
            aside = work_dir.with_name(f"{work_dir.name}.replaced-{stamp}") / folder.name
            aside.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(folder), str(aside))
        known[class_id] = wanted
    work_dir.mkdir(parents=True, exist_ok=True)
    if not same_export or not (work_dir / EXPORT_COPY).is_file():
        write_atomic(work_dir / EXPORT_COPY, raw)
    write_atomic(
        work_dir / RUN_FILE,
        json.dumps(
            {
                "export_sha256": export_sha,
                "source": source,
                "created": previous.get("created") or datetime.now(UTC).isoformat(),
                "updated": datetime.now(UTC).isoformat(),
                "classes": known,
            },
            ensure_ascii=False,
            indent=1,
        ).encode("utf-8"),
    )


def run_year_end(
    validation: ValidationReport,
    raw: bytes,
    source: str,
    *,
    working_dir: Path,
    signature: SignatureSettings,
    locations: Sequence[Storage],
    secret: SecretProvider,
    timestamping: TimestampingService | None = None,
    class_ids: Sequence[str] | None = None,
    correction: str | None = None,
    zone: Any = None,
    doc_options: DocumentsOptions | None = None,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    validate_seconds: float = 0.0,
    preflight: Callable[[bool], None] | None = None,
    lock_held: bool = False,
) -> YearEndReport:
    """Run render → sign → store → verify for a validated export; return the report.

    ``validation`` is the validation report of ``raw`` (it must be ``ok``). The report
    is also written to ``year-end-report.txt`` and ``.json`` in the run's folder.
    Progress: each stage starts, steps and ends (:mod:`archiver.progress`).
    ``doc_options`` names a school's own templates and retention policies (else the built-in ones).

    The run holds the school's year lock (:func:`year_lock`; :class:`~archiver.lock.LockBusy`
    when another run holds it), asks the archive what it holds already, leaves alone the
    classes whose documents for this data are in both copies («без изменений»), and refuses
    before any work what would need ``correction``. ``preflight(signing)`` runs the checks
    of ``archiver check`` before rendering (``signing``: something will be signed).
    ``lock_held``: the caller holds the year lock already (a region's coordinator, whose
    engine jobs call this): it is not taken again.
    """
    export = validation.export
    if not validation.ok or export is None:
        raise InputError("выгрузка содержит ошибки; архивирование не начато")
    if signature.signer is None:
        raise UsageError(
            "в файле настроек не задан подписант (раздел [signer]): документы в архив "
            "сдаются только подписанными"
        )
    ids = select_classes(export, class_ids)
    export_sha = hashlib.sha256(raw).hexdigest()
    # the workers of the render and of the signature checks start with their code imported
    preload("archiver.render.bundle", "typst", "archiver.signing.check", "archiver.archive.renew")
    if (workers or cores()) > 1:
        start_fork_server()  # it imports them while this process plans the run
    with nullcontext() if lock_held else year_lock(working_dir, export, zone):
        holdings = year_holdings(locations, export.school.id, year_folder(export))
        plan = plan_classes(export, export_sha, ids, holdings)
        refuse_without_correction(plan, holdings, export_sha, correction)
        if preflight is not None:
            preflight(bool(plan.todo))
        work_dir = work_folder(working_dir, export)
        prepare_work_dir(export, work_dir, raw, export_sha, source, plan.todo)
        report = YearEndReport(
            school=export.school.full_name,
            academic_year=export.academic_year.name,
            source=source,
            export_sha256=export_sha,
            work_dir=work_dir,
            started=datetime.now(UTC).isoformat(timespec="seconds"),
            warnings=[str(w) for w in validation.warnings],
            zone=zone or export.exported_at.tzinfo,
        )
        report.timings["validate"] = validate_seconds
        verified, levels, verdicts = _run_stages(
            report,
            export,
            raw,
            source,
            plan,
            working_dir=working_dir,
            signature=signature,
            locations=locations,
            secret=secret,
            timestamping=timestamping,
            correction=correction,
            zone=zone,
            doc_options=doc_options,
            workers=workers,
            progress=progress,
        )
        standings = class_standings(
            export,
            documents_root(work_dir),
            ids,
            year_holdings(locations, export.school.id, year_folder(export), strict=False),
            verified,
            export_sha,
        )
        for standing in standings:
            standing.unchanged = standing.class_id in plan.unchanged
            for doc in standing.documents:  # each document's own check
                doc.level = levels.get(doc.path)
                if doc.path in verdicts:
                    doc.signature_ok, doc.verdict = verdicts[doc.path]
        report.classes = standings
        _final_verdict(report, plan.todo if report.records else ())  # stored: all verified?
        save_report(report)
        return report


def _run_stages(
    report: YearEndReport,
    export: JournalExport,
    raw: bytes,
    source: str,
    plan: ClassPlan,
    *,
    working_dir: Path,
    signature: SignatureSettings,
    locations: Sequence[Storage],
    secret: SecretProvider,
    timestamping: TimestampingService | None,
    correction: str | None,
    zone: Any,
    doc_options: DocumentsOptions | None,
    workers: int | None,
    progress: ProgressCallback | None,
) -> tuple[set[str], dict[Path, str | None], dict[Path, tuple[bool, str]]]:
    """Render, sign, store and verify the classes to do (``plan.todo``), filling ``report``.

    Returns the classes verified, and each document's signature level and verdict.
    """
    ids = plan.todo
    out_dir = documents_root(report.work_dir)

    # render what is missing (a document archived from this data is taken from the archive)
    started = time.monotonic()
    missing = [
        c
        for c in ids
        if not all(
            p.is_file() or (c, kind) in plan.adopt
            for kind, p in expected_documents(export, out_dir, c)
        )
    ]
    if missing:
        render_classes(
            export, out_dir, missing, workers=workers, progress=progress, doc_options=doc_options
        )
    else:
        _nothing_to_do(progress, "render")
    adopt_archived(plan, out_dir, export, locations)
    report.rendered_now = sum(
        1
        for c in missing
        for kind, _ in expected_documents(export, out_dir, c)
        if (c, kind) not in plan.adopt
    )
    made = inventory_path(out_dir, export).is_file()
    inventory, pending = ensure_inventory(export, out_dir, doc_options)
    report.rendered_now += inventory is not None and not made
    if pending:
        report.warnings.append(
            f"опись дел за год не составлена: не сверстаны документы классов {', '.join(pending)} "
            "(запустите year-end для всех классов)"
        )
    report.timings["render"] = time.monotonic() - started

    # sign what is unsigned
    started = time.monotonic()
    owners = owners_of({c: [p for _, p in expected_documents(export, out_dir, c)] for c in ids})
    if inventory is not None:
        owners[inventory] = ""  # the school's, not a class's
    documents = list(owners)
    unsigned = [p for p in documents if not is_signed(p.read_bytes())]
    if unsigned and signature.signer is not None and signature.signer.mode == MODE_DIRECTOR:
        # separation of duties: the key is the director's; stop here, listing what waits
        batch = make_batch(
            unsigned,
            school=export.school.full_name,
            academic_year=export.academic_year.name,
            director=export.school.director.name,
        )
        write_request(report.work_dir, batch)
        _nothing_to_do(progress, "sign")
        report.timings["sign"] = time.monotonic() - started
        report.waiting = len(unsigned)
        return set(), {}, {}  # the classes' standings say «ждёт подписи директора»
    if unsigned:
        passphrase = secret()  # asked before the stage's bar starts
        with signing_session(signature, passphrase, timestamping, zone=zone) as signer:
            # a token session cannot be shared with forked processes; a key in memory can
            parallel = (workers or cores()) if isinstance(signature.signer, Pkcs12Signer) else 1
            outcomes = sign_files(signer, unsigned, progress, workers=parallel)
        report.signed_now = sum(1 for o in outcomes if o.signed)
    else:
        _nothing_to_do(progress, "sign")
    report.timings["sign"] = time.monotonic() - started

    # store both copies (idempotent; finishes interrupted records)
    started = time.monotonic()
    if documents:
        report.records = store_records(
            export,
            raw,
            source,
            documents,
            locations,
            correction=correction,
            zone=zone,
            policies_folder=doc_options.retention_policies if doc_options else None,
            progress=progress,
            trust_roots=signature.trust_roots,
        )
    else:
        _nothing_to_do(progress, "store")
    report.timings["store"] = time.monotonic() - started

    # verify: every copy matches its manifest, every signature validates
    started = time.monotonic()
    if documents:
        checked = verify_run(
            [(r.record_id, r.class_id) for r in report.records],
            owners,
            signature,
            locations,
            working_dir,
            workers=workers,
            progress=progress,
        )
        report.warnings += checked.warnings
        report.problems += checked.problems
        report.level = checked.level
        bad_classes, levels, verdicts = checked.bad_classes, checked.levels, checked.verdicts
        # the verdict per document: the one on disk is the one stored and verified in both copies
        kinds = {p: (c, k) for c in ids for k, p in expected_documents(export, out_dir, c)}
        for path, why in unproven(kinds, report.records, checked.good_records).items():
            report.problems.append(f"{export.classes_by_id[owners[path]].name}: {path.name} {why}")
            bad_classes.add(owners[path])
    else:
        _nothing_to_do(progress, "verify")
        bad_classes, levels, verdicts = set(), {}, {}
    report.timings["verify"] = time.monotonic() - started
    if inventory is not None:
        stored = any(r.kind == INVENTORY and r.copies for r in report.records)
        ok = stored and "" not in bad_classes
        report.inventory = VERIFIED if ok else STORED_BOTH if stored else SIGNED
    return {c for c in ids if c not in bad_classes}, levels, verdicts


def _final_verdict(report: YearEndReport, todo: Sequence[str] | None = None) -> None:
    """Every class of ``todo`` (all: ``None``) not verified in both copies is a problem."""
    for state in report.classes:
        line = f"{state.name}: {STATE_TEXT[state.state]}"
        if state.state != VERIFIED and (todo is None or state.class_id in todo):
            report.problems += [] if line in report.problems else [line]


def _nothing_to_do(progress: ProgressCallback | None, stage: str) -> None:
    tracker = StageProgress(progress, stage)
    tracker.start(0)
    tracker.finish()


def save_report(report: YearEndReport) -> tuple[Path, Path]:
    """Write the report next to the run's outputs, as text and as JSON."""
    text_path = report.work_dir / REPORT_TEXT
    json_path = report.work_dir / REPORT_JSON
    write_atomic(text_path, report.to_text().encode("utf-8"))
    write_atomic(
        json_path, json.dumps(report.to_json(), ensure_ascii=False, indent=1).encode("utf-8")
    )
    return text_path, json_path
