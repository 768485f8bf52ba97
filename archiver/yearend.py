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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archiver.archive.record import record_prefix
from archiver.archive.store import RecordResult, holds_document, store_records
from archiver.archive.verify import CopyStatus, RecordReport, RecordStatus, verify_archive
from archiver.errors import InputError, UsageError
from archiver.files import write_atomic
from archiver.kinds import CLASS_JOURNAL, FINAL_MARKS, document_paths, year_folder
from archiver.model import JournalExport
from archiver.parallel import cores, fork_map
from archiver.progress import DONE, START, ProgressCallback, ProgressEvent, StageProgress
from archiver.render.batch import render_classes, select_classes
from archiver.settings import (
    LEVELS,
    MODE_DIRECTOR,
    CommandSigner,
    DocumentsOptions,
    Pkcs12Signer,
    SignatureSettings,
)
from archiver.signing.check import DocumentReport, check_document
from archiver.signing.external import external_report, is_gost
from archiver.signing.review import make_batch, read_request, write_request
from archiver.signing.sign import (
    TimestampingService,
    is_signed,
    load_trust_roots,
    sign_files,
    signing_session,
)
from archiver.sources.report import ValidationReport
from archiver.storage.base import Storage

STAGES = ("validate", "render", "sign", "store", "verify")
STAGE_NAMES = {
    "validate": "Проверка выгрузки",
    "render": "Вёрстка",
    "sign": "Подпись",
    "store": "Сохранение в архив",
    "verify": "Проверка архива",
}
RUN_FILE = "run.json"
REPORT_TEXT = "year-end-report.txt"
REPORT_JSON = "year-end-report.json"

# where a class stands, in order
NOT_RENDERED = "not_rendered"
RENDERED = "rendered"
WAITING = "waiting_for_signature"
SIGNED = "signed"
STORED_ONE = "stored_one"
STORED_BOTH = "stored_both"
VERIFIED = "verified"
STATE_TEXT = {
    NOT_RENDERED: "не сверстан",
    RENDERED: "сверстан, не подписан",
    WAITING: "ждёт подписи директора",
    SIGNED: "подписан, не сохранён в архив",
    STORED_ONE: "сохранён только в одной копии",
    STORED_BOTH: "сохранён в двух копиях",
    VERIFIED: "сохранён в двух копиях и проверен",
}


SecretProvider = Callable[[], str]


@dataclass(slots=True)
class DocumentStanding:
    """One document of the run."""

    kind: str
    class_id: str
    path: Path
    pages: int = 0
    signed: bool = False
    level: str | None = None
    signature_ok: bool | None = None
    verdict: str | None = None


@dataclass(slots=True)
class ClassStanding:
    """Where one class stands."""

    class_id: str
    name: str
    state: str
    documents: list[DocumentStanding] = field(default_factory=list)


@dataclass(slots=True)
class YearEndReport:
    """The outcome of a run: what was done, how long it took, what is wrong."""

    school: str
    academic_year: str
    source: str
    export_sha256: str
    work_dir: Path
    started: str
    classes: list[ClassStanding] = field(default_factory=list)
    records: list[RecordResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    rendered_now: int = 0
    signed_now: int = 0
    level: str | None = None
    waiting: int = 0
    """Documents waiting for the director's signature (the run stopped before storing)."""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def documents(self) -> list[DocumentStanding]:
        return [d for c in self.classes for d in c.documents]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (``year-end-report.json``, ``archiver year-end --json``)."""
        return {
            "ok": self.ok,
            "school": self.school,
            "academic_year": self.academic_year,
            "source": self.source,
            "export_sha256": self.export_sha256,
            "work_dir": str(self.work_dir),
            "started": self.started,
            "signature_level": self.level,
            "classes": [
                {
                    "class_id": c.class_id,
                    "name": c.name,
                    "state": c.state,
                    "documents": [
                        {
                            "kind": d.kind,
                            "path": str(d.path),
                            "pages": d.pages,
                            "signed": d.signed,
                            "level": d.level,
                            "signature_ok": d.signature_ok,
                            "signature_verdict": d.verdict,
                        }
                        for d in c.documents
                    ],
                }
                for c in self.classes
            ],
            "records": [r.to_json() for r in self.records],
            "warnings": self.warnings,
            "problems": self.problems,
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
            "rendered_now": self.rendered_now,
            "signed_now": self.signed_now,
            "waiting_for_signature": self.waiting,
        }

    def to_text(self) -> str:
        """The Russian report for the administrator."""
        docs = self.documents
        pages = sum(d.pages for d in docs)
        done = sum(1 for c in self.classes if c.state == VERIFIED)
        lines = [
            f"Итоги архивирования за {self.academic_year} учебный год",
            f"Школа: {self.school}",
            f"Выгрузка: {self.source} (sha256 {self.export_sha256[:16]}…)",
            f"Начато: {self.started}",
            "",
            f"Классов и групп: {len(self.classes)}, полностью в архиве и проверено: {done}",
            f"Документов: {len(docs)} (сверстано сейчас: {self.rendered_now}), страниц: {pages}",
            f"Подписано сейчас: {self.signed_now}; уровень подписи: PAdES {self.level or '—'}",
        ]
        copies = sum(len(r.copies) for r in self.records)
        statuses = [r.status for r in self.records]
        lines.append(
            f"Записей в архиве: {len(self.records)} (новых {statuses.count('stored')}, "
            f"без изменений {statuses.count('unchanged')}, дописано после прерывания "
            f"{statuses.count('completed')}), копий: {copies}"
        )
        until: dict[str, set[str]] = {}
        for record in self.records:
            until.setdefault(record.kind, set()).add(record.retain_until[:10])
        kinds = {
            CLASS_JOURNAL: "журналы",
            FINAL_MARKS: "сводные ведомости",
            "journal_export": "выгрузка",
        }
        for kind, dates in until.items():
            lines.append(f"  хранить до: {kinds.get(kind, kind)} — {', '.join(sorted(dates))}")
        lines.append("")
        lines.append("Классы:")
        for c in self.classes:
            sheets = sum(d.pages for d in c.documents)
            lines.append(
                f"  {c.name}: {STATE_TEXT[c.state]} (документов {len(c.documents)}, страниц {sheets})"
            )
        if self.warnings:
            lines.append("")
            lines.append(f"Предупреждения ({len(self.warnings)}):")
            lines.extend(f"  {w}" for w in self.warnings)
        if self.problems:
            lines.append("")
            lines.append(f"ОШИБКИ ({len(self.problems)}):")
            lines.extend(f"  {p}" for p in self.problems)
        lines.append("")
        lines.append("Время по этапам:")
        for stage in STAGES:
            if stage in self.timings:
                lines.append(f"  {STAGE_NAMES[stage]}: {self.timings[stage]:.1f} с")
        lines.append(f"  Всего: {sum(self.timings.values()):.1f} с")
        lines.append("")
        if self.waiting:
            lines += [
                f"Итог: ждёт подписи директора (документов: {self.waiting}). Директор смотрит "
                "документы и подписывает их командой «archiver sign --review»; затем запустите "
                "«archiver year-end» снова: документы будут сохранены в архив и проверены.",
            ]
            return "\n".join(lines) + "\n"
        lines.append(
            "Итог: " + ("всё сделано и проверено." if self.ok else "есть ошибки, см. выше.")
        )
        return "\n".join(lines) + "\n"


def work_folder(working_dir: Path, export: JournalExport) -> Path:
    """The run's folder for the export's academic year."""
    return working_dir / "year-end" / year_folder(export)


def documents_root(work_dir: Path) -> Path:
    """The folder the documents are rendered into (they land in ``<year>/<class>/`` below it)."""
    return work_dir.parent


def expected_documents(
    export: JournalExport, out_dir: Path, class_id: str
) -> list[tuple[str, Path]]:
    """The documents a class must have: the journal bundle, and the summary statement if marked."""
    paths = document_paths(out_dir, export, class_id)
    kinds = [CLASS_JOURNAL]
    if export.classes_by_id[class_id].marks_recorded:
        kinds.append(FINAL_MARKS)
    return [(kind, paths[kind]) for kind in kinds]


def _pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


def class_standings(
    export: JournalExport,
    work_dir: Path,
    class_ids: Sequence[str],
    locations: Sequence[Storage] | None,
    verified: set[str] | None = None,
) -> list[ClassStanding]:
    """Where each class stands, from the documents on disk and what the locations hold."""
    states = []
    for class_id in class_ids:
        school_class = export.classes_by_id[class_id]
        docs = [
            DocumentStanding(kind, class_id, path)
            for kind, path in expected_documents(export, work_dir, class_id)
        ]
        state = NOT_RENDERED
        if all(d.path.is_file() for d in docs):
            state = RENDERED
            for doc in docs:
                doc.signed = is_signed(doc.path.read_bytes())
                doc.pages = _pages(doc.path)
            if not all(d.signed for d in docs) and _requested(work_dir, export, docs):
                state = WAITING
            if all(d.signed for d in docs):
                state = SIGNED
                if locations:
                    held = []
                    for location in locations:
                        held.append(
                            all(
                                holds_document(
                                    location,
                                    record_prefix(
                                        export.school.id, year_folder(export), class_id, d.kind
                                    ),
                                    hashlib.sha256(d.path.read_bytes()).hexdigest(),
                                )
                                for d in docs
                            )
                        )
                    if all(held):
                        state = STORED_BOTH
                        if verified is not None and class_id in verified:
                            state = VERIFIED
                    elif any(held):
                        state = STORED_ONE
        states.append(ClassStanding(class_id, school_class.name, state, docs))
    return states


def _requested(out_dir: Path, export: JournalExport, docs: list[DocumentStanding]) -> bool:
    """Whether the unsigned documents of a class are in the batch waiting for the director."""
    batch = read_request(out_dir / year_folder(export))
    listed = {Path(d.path) for d in batch.documents} if batch is not None else set()
    return any(d.path.resolve() in listed for d in docs if not d.signed)


GOOD_CHECKS = (RecordStatus.OK, RecordStatus.REPAIRED)
"""Results of ``archiver verify`` (``verify-state.json``) that leave a record verified."""


def verified_classes(report: dict[str, Any], checks: dict[str, dict[str, Any]]) -> set[str]:
    """The classes whose records stand verified, from the run's report and later checks.

    ``report`` is a saved year-end report (``year-end-report.json``), ``checks`` the
    records of ``verify-state.json``. A class whose every record was checked by
    ``archiver verify`` after the run takes that verdict (all ``ok`` or ``repaired``);
    otherwise the run's own verification counts.
    """
    started = _instant(str(report.get("started", "")))
    verified = set()
    for state in report.get("classes", []):
        class_id = str(state.get("class_id"))
        rids = [r["record_id"] for r in report.get("records", []) if r.get("class_id") == class_id]
        entries = [checks.get(rid, {}) for rid in rids]
        times = [_instant(str(entry.get("checked_at", ""))) for entry in entries]
        if rids and started is not None and all(t is not None and t >= started for t in times):
            if all(entry.get("checked_status") in GOOD_CHECKS for entry in entries):
                verified.add(class_id)
        elif state.get("state") == VERIFIED:
            verified.add(class_id)
    return verified


def _instant(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


EXPORT_COPY = "export.json"


def _prepare_work_dir(
    work_dir: Path, raw: bytes, export_sha: str, source: str, correction: str | None
) -> None:
    """Make sure the folder's documents belong to this export (or move old ones aside)."""
    run_file = work_dir / RUN_FILE
    if run_file.is_file():
        previous = json.loads(run_file.read_text(encoding="utf-8"))
        if previous.get("export_sha256") != export_sha:
            if correction is None:
                raise InputError(
                    f"в рабочей папке {work_dir} документы по другой выгрузке "
                    f"({previous.get('source')}, sha256 {str(previous.get('export_sha256'))[:16]}…). "
                    'Если выгрузка исправлена, запустите с --correction "причина": '
                    "прежние документы будут отложены, архив получит новые версии"
                )
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            shutil.move(str(work_dir), str(work_dir.with_name(f"{work_dir.name}.replaced-{stamp}")))
    work_dir.mkdir(parents=True, exist_ok=True)
    if not (work_dir / EXPORT_COPY).is_file():
        write_atomic(work_dir / EXPORT_COPY, raw)
    if not run_file.is_file():
        write_atomic(
            run_file,
            json.dumps(
                {
                    "export_sha256": export_sha,
                    "source": source,
                    "created": datetime.now(UTC).isoformat(),
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
) -> YearEndReport:
    """Run render → sign → store → verify for a validated export; return the report.

    ``validation`` is the validation report of ``raw`` (it must be ``ok``). The report
    is also written to ``year-end-report.txt`` and ``.json`` in the run's folder.
    Progress: each stage starts, steps and ends (:mod:`archiver.progress`).
    ``doc_options`` names a school's own templates and retention policies (else the built-in ones).
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
    work_dir = work_folder(working_dir, export)
    _prepare_work_dir(work_dir, raw, export_sha, source, correction)
    out_dir = documents_root(work_dir)
    report = YearEndReport(
        school=export.school.full_name,
        academic_year=export.academic_year.name,
        source=source,
        export_sha256=export_sha,
        work_dir=work_dir,
        started=datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
        warnings=[str(w) for w in validation.warnings],
    )
    report.timings["validate"] = validate_seconds

    # render what is missing
    started = time.monotonic()
    missing = [
        c for c in ids if not all(p.is_file() for _, p in expected_documents(export, out_dir, c))
    ]
    if missing:
        render_classes(
            export, out_dir, missing, workers=workers, progress=progress, doc_options=doc_options
        )
    else:
        _nothing_to_do(progress, "render")
    report.rendered_now = sum(len(expected_documents(export, out_dir, c)) for c in missing)
    report.timings["render"] = time.monotonic() - started

    # sign what is unsigned
    started = time.monotonic()
    owners = {p: c for c in ids for _, p in expected_documents(export, out_dir, c)}
    documents = list(owners)
    unsigned = [p for p in documents if not is_signed(p.read_bytes())]
    if unsigned and signature.signer.mode == MODE_DIRECTOR:
        # separation of duties: the key is the director's; stop here, listing what waits
        batch = make_batch(
            unsigned,
            school=export.school.full_name,
            academic_year=export.academic_year.name,
            director=export.school.director.name,
        )
        write_request(work_dir, batch)
        _nothing_to_do(progress, "sign")
        report.timings["sign"] = time.monotonic() - started
        report.waiting = len(unsigned)
        report.classes = class_standings(export, out_dir, ids, None)
        save_report(report)
        return report
    if unsigned:
        passphrase = secret()  # asked before the stage's bar starts
        with signing_session(signature, passphrase, timestamping) as signer:
            # a token session cannot be shared with forked processes; a key in memory can
            parallel = (workers or cores()) if isinstance(signature.signer, Pkcs12Signer) else 1
            outcomes = sign_files(signer, unsigned, progress, workers=parallel)
        report.signed_now = sum(1 for o in outcomes if o.signed)
    else:
        _nothing_to_do(progress, "sign")
    report.timings["sign"] = time.monotonic() - started

    # store both copies (idempotent; finishes interrupted records)
    started = time.monotonic()
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
    )
    report.timings["store"] = time.monotonic() - started

    # verify: every copy matches its manifest, every signature validates
    started = time.monotonic()
    bad_classes, levels, verdicts = _verify(
        report, documents, owners, signature, locations, working_dir, workers, progress
    )
    verified = {c for c in ids if c not in bad_classes}
    report.classes = class_standings(export, out_dir, ids, locations, verified)
    for state in report.classes:
        for doc in state.documents:  # each document's own check
            doc.level = levels.get(doc.path)
            if doc.path in verdicts:
                doc.signature_ok, doc.verdict = verdicts[doc.path]
    report.timings["verify"] = time.monotonic() - started
    save_report(report)
    return report


def _nothing_to_do(progress: ProgressCallback | None, stage: str) -> None:
    tracker = StageProgress(progress, stage)
    tracker.start(0)
    tracker.finish()


def _verify(
    report: YearEndReport,
    documents: list[Path],
    owners: dict[Path, str],
    signature: SignatureSettings,
    locations: Sequence[Storage],
    working_dir: Path,
    workers: int | None,
    progress: ProgressCallback | None,
) -> tuple[set[str], dict[Path, str | None], dict[Path, tuple[bool, str]]]:
    """Verify the run's records (:func:`verify_archive`) and its documents' signatures.

    Fills the report's problems and signature level; returns the classes with a
    problem, and each document's signature level and verdict. The stage ``verify``
    steps per record and ends after the signatures.
    """
    stage = StageProgress(progress, "verify")
    stage.start(len(report.records))

    def record_checked(event: ProgressEvent) -> None:  # the stage ends after the signatures
        if progress is not None and event.event not in (START, DONE):
            progress(event)

    checked = verify_archive(
        locations,
        working_dir,
        record_ids=[r.record_id for r in report.records],
        progress=record_checked,
    )
    report.warnings += checked.notes
    class_of = {r.record_id: r.class_id or "" for r in report.records}
    bad_classes: set[str] = set()
    for location in checked.locations:
        if location.error is not None:
            report.problems.append(f"{location.name}: {location.error}")
    for record in checked.records:
        if record.status == RecordStatus.OK:
            continue
        bad_classes.add(class_of.get(record.record_id, ""))
        report.problems += _record_problems(record)
    roots = load_trust_roots(signature.trust_roots) if signature.trust_roots else []
    levels: dict[Path, str | None] = {}
    verdicts: dict[Path, tuple[bool, str]] = {}
    command = signature.signer if isinstance(signature.signer, CommandSigner) else None
    if not roots and command is None:
        report.problems.append(
            "не заданы доверенные корневые сертификаты ([signature] trust_roots): "
            "подписи не проверены"
        )
    else:

        def check(path: Path) -> DocumentReport:
            if is_gost(path.read_bytes()):  # pyHanko knows no ГОСТ: archiver's checks + the tool's
                return external_report(path, command)
            return check_document(path, roots, deep=False)

        checks = fork_map(check, documents, workers=workers)
        for path, result in zip(documents, checks, strict=True):
            levels[path] = result.signatures[0].level if result.signatures else None
            verdicts[path] = (result.ok, result.message)
            if not result.ok:
                report.problems.append(f"{path.name}: {result.message}")
                bad_classes.add(owners[path])
    report.level = (
        min(levels.values(), key=lambda lv: LEVELS.index(lv or "B-B")) if levels else None
    )
    stage.finish()
    return bad_classes, levels, verdicts


def _record_problems(record: RecordReport) -> list[str]:
    """The administrator's lines for one record that is not in order."""
    rid = record.record_id
    lines = []
    for copy in record.copies:
        if copy.status in (CopyStatus.OK, CopyStatus.UNAVAILABLE):
            continue
        if copy.status in (CopyStatus.CHANGED, CopyStatus.MISSING):
            lines.append(f"{copy.location}: копия {rid} не совпадает с описанием записи")
        else:
            lines += [f"{copy.location}: {rid}: {p.path}: {p.message}" for p in copy.problems]
    lines += [f"{rid}: {note}" for note in record.notes]
    return lines or [f"{rid}: {record.status}"]


def save_report(report: YearEndReport) -> tuple[Path, Path]:
    """Write the report next to the run's outputs, as text and as JSON."""
    text_path = report.work_dir / REPORT_TEXT
    json_path = report.work_dir / REPORT_JSON
    write_atomic(text_path, report.to_text().encode("utf-8"))
    write_atomic(
        json_path, json.dumps(report.to_json(), ensure_ascii=False, indent=1).encode("utf-8")
    )
    return text_path, json_path
