"""Step 3 of disposal: destroying exactly the records of an approved act, then the acts that prove it.

Before anything is deleted, for the whole act at once: the act is read back from
the archive (hash-checked in both locations: only an approved act stored there
counts); both locations must be available; every record it lists must still be the
version approved (same SHA-256, no newer version added since), its ``retain_until``
passed by the library's clock, and no hold may cover it. One failure refuses the
whole act; nothing is deleted.

Then, record by record, the locations that enforce retention themselves (S3 Object
Lock, by the server's clock) delete first; a local folder is emptied only after such
a location has accepted deleting the same record, or — where there is none — when the
computer's real clock has passed ``retain_until`` too. So a clock set by hand
(``ARCHIVER_TODAY``) can make archiver *list* records as expired, never delete one
early. The access log notes the execution before the first deletion (so an
interrupted run continues: records of the act already gone count as destroyed), and
afterwards the personal-data destruction act (Приказ Роскомнадзора № 179) with the
log extract is stored as a record of its own (kind ``pd_destruction_act``, 3 years).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from archiver.archive.access_log import AccessLog, AccessRequest, Entry, os_user
from archiver.archive.dispose.act import ACT_KIND, DISPOSAL_FOLDER, PD_ACT_KIND, Act, ActItem
from archiver.archive.dispose.pd_act import PdAct, Subject, render_pd_act
from archiver.archive.dispose.records import act_manifest, approved_acts
from archiver.archive.holds import holds_in_force, holds_on, pupil_classes
from archiver.archive.record import MARKER, RecordManifest
from archiver.archive.retrieve import (
    EMBEDDING_KINDS,
    complete_records,
    fetch_record,
    journal_data,
    read_manifest,
)
from archiver.archive.write import write_record
from archiver.clock import Clock, real_now
from archiver.errors import ArchiverError, ExitCode, UsageError
from archiver.kinds import JOURNAL_EXPORT
from archiver.render.engines import Engines
from archiver.retention import load_policy
from archiver.storage.base import RetentionActive, Storage, StorageError
from archiver.storage.locations import Locations

EXECUTE = "dispose_execute"


class DisposalRefused(ArchiverError):
    """The act cannot be executed now; nothing was deleted."""

    exit_code = ExitCode.PROBLEMS_FOUND


@dataclass(slots=True)
class ExecuteResult:
    """What executing an act did (or, in a dry run, would do)."""

    act: Act
    applied: bool
    records: list[str]
    """Record ids destroyed (or to be destroyed)."""
    already_gone: list[str] = field(default_factory=list)
    removed: dict[str, int] = field(default_factory=dict)
    """Location → objects (versions) removed."""
    pd_act_record: str | None = None
    subjects: int = 0
    log_seq: int | None = None


def find_act(locations: Locations, number: str) -> tuple[Act, RecordManifest]:
    """The approved act ``number`` as stored in the archive, read back and hash-checked."""
    source = locations.first()
    wanted = [
        rid
        for rid in complete_records(source)
        if rid.split("/")[1] == DISPOSAL_FOLDER
        and rid.split("/")[2] == number
        and rid.split("/")[3] == ACT_KIND
    ]
    if not wanted:
        raise UsageError(
            f"утверждённого акта № {number} в архиве нет: сначала archiver dispose approve "
            f"{number} --protocol «№ … от ДД.ММ.ГГГГ»"
        )
    fetched = fetch_record(locations, wanted[-1])
    act = Act.from_pdf(fetched.payload, wanted[-1])
    if not act.approved or act.number != number:
        raise DisposalRefused(f"{wanted[-1]}: акт № {number} не утверждён; ничего не удалено")
    return act, fetched.manifest


def _executions(entries: list[Entry], number: str) -> list[Entry]:
    return [
        e
        for e in entries
        if e.doc.get("action") == EXECUTE and (e.doc.get("what") or {}).get("act") == number
    ]


def _present(location: Storage, series: str) -> dict[str, RecordManifest]:
    """Complete versions of ``series`` in ``location``."""
    return {
        rid: read_manifest(location, rid)[0] for rid in complete_records(location, series + "/")
    }


def _check_item(
    item: ActItem,
    locations: list[Storage],
    now: datetime,
    started: bool,
    problems: list[str],
) -> tuple[list[RecordManifest], list[str]]:
    """The item's manifests to destroy and its records already gone; problems appended."""
    present: dict[str, RecordManifest] = {}
    for location in locations:
        for rid, manifest in _present(location, item.series).items():
            present.setdefault(rid, manifest)
    extra = sorted(set(present) - set(item.records))
    if extra:
        problems.append(
            f"{item.series}: после утверждения акта добавлена версия {', '.join(extra)}; "
            "она в акт не входит — нужен новый акт"
        )
    to_destroy: list[RecordManifest] = []
    gone: list[str] = []
    for rid, sha256 in item.records.items():
        if rid not in present:
            if started:
                gone.append(rid)
            else:
                problems.append(f"{rid}: записи нет в архиве (акт утверждён для неё)")
            continue
        manifest = present[rid]
        if manifest.sha256 != sha256:
            problems.append(f"{rid}: документ не тот, что в утверждённом акте (sha256 отличается)")
        if manifest.retain_until_instant > now:
            problems.append(
                f"{rid}: срок хранения не истёк — хранится до {manifest.retain_until_instant:%d.%m.%Y}"
            )
        if not any(loc.enforces_retention for loc in locations) and (
            real_now() < manifest.retain_until_instant
        ):
            problems.append(
                f"{rid}: по часам этого компьютера срок хранения не истёк "
                f"({manifest.retain_until_instant:%d.%m.%Y}); локальные копии раньше не удаляются"
            )
        to_destroy.append(manifest)
    return to_destroy, gone


def _subjects(locations: Locations, manifests: list[RecordManifest]) -> tuple[list[Subject], int]:
    """The pupils whose data the records hold (read before deleting); and records not readable."""
    found: dict[str, Subject] = {}
    unknown = 0
    readable = [m for m in manifests if m.kind == JOURNAL_EXPORT or m.kind in EMBEDDING_KINDS]
    for manifest in readable:
        try:
            export = journal_data(fetch_record(locations, manifest.record_id))
        except ArchiverError:
            unknown += 1
            continue
        for school_class in export.classes:
            if manifest.class_id is not None and school_class.id != manifest.class_id:
                continue
            for student in school_class.students:
                name = " ".join(
                    p for p in (student.last_name, student.first_name, student.middle_name) if p
                )
                where = f"{school_class.name}, {export.academic_year.name}"
                subject = found.get(student.id)
                if subject is None:
                    found[student.id] = Subject(
                        student.id,
                        name,
                        student.birth_date.strftime("%d.%m.%Y") if student.birth_date else "—",
                        [where],
                    )
                elif where not in subject.classes:
                    subject.classes.append(where)
    return sorted(found.values(), key=lambda s: (s.name, s.id)), unknown


def _destroy(
    manifest: RecordManifest,
    locations: list[Storage],
    now: datetime,
    removed: dict[str, int],
    resumed: bool,
) -> None:
    """One record out of every location: those enforcing retention first (see the module).

    A location that enforces retention vouches for the date when it accepted deleting the
    record's objects now, or in the interrupted run this one continues (``resumed``).
    """
    until = manifest.retain_until_instant
    rid = manifest.record_id
    witnessed = False
    for location in sorted(locations, key=lambda loc: not loc.enforces_retention):
        if location.enforces_retention:
            count = location.destroy(rid, until, now)
            removed[location.name] = removed.get(location.name, 0) + count
            witnessed = witnessed or count > 0 or resumed
            continue
        if not witnessed and real_now() < until:
            raise RetentionActive(
                f"{rid}: по часам этого компьютера срок хранения не истёк "
                f"({until:%d.%m.%Y}); локальная копия не удалена"
            )
        removed[location.name] = removed.get(location.name, 0) + location.destroy(rid, until, now)


def execute_act(
    locations: Locations,
    log: AccessLog,
    *,
    number: str,
    zone: tzinfo,
    clock: Clock,
    catalog: Path,
    policies: Path | None = None,
    engines: Engines | None = None,
    operator: str | None = None,
    apply: bool = False,
    sign: Callable[[bytes], bytes] | None = None,
) -> ExecuteResult:
    """Destroy the records of approved act ``number`` (a dry run unless ``apply``); see the module."""
    act, act_manifest_ = find_act(locations, number)
    everywhere = locations.usable()
    if len(everywhere) != len(locations.all):
        raise DisposalRefused(
            "уничтожение выполняется только при доступных обоих хранилищах:\n"
            + "\n".join(f"  - {n}" for n in locations.fallback_notes())
        )
    pd_record = act.record_id(PD_ACT_KIND)
    if locations.first().stat(f"{pd_record}/{MARKER}") is not None:
        raise UsageError(f"акт № {number} уже исполнен: {pd_record}")
    now = clock.now(zone)
    _, entries = log.entries()
    started = bool(_executions(entries, number))
    holds = holds_in_force(log)
    pupils = {h.target for h in holds if h.scope == "pupil"}
    classes_of = {p: pupil_classes(catalog, p) for p in pupils} if pupils else {}
    problems: list[str] = []
    manifests: list[RecordManifest] = []
    gone: list[str] = []
    for item in act.items:
        found, already = _check_item(item, everywhere, now, started, problems)
        manifests += found
        gone += already
        for manifest in found:
            problems += [
                f"{manifest.record_id}: {h.describe()}"
                for h in holds_on(manifest, holds, classes_of)
            ]
    if problems:
        raise DisposalRefused(
            f"акт № {number} не может быть исполнен, ничего не удалено:\n"
            + "\n".join(f"  - {p}" for p in dict.fromkeys(problems))
        )
    result = ExecuteResult(act, apply, [m.record_id for m in manifests], gone)
    if not apply:
        return result
    subjects, unknown = _subjects(locations, manifests)
    if not started:
        log.append(
            AccessRequest(
                action=EXECUTE,
                what={"act": number, "record_id": act_manifest_.record_id},
                reason=f"уничтожение по акту № {number} ({act.approval and act.approval['protocol']})",
                operator=operator,
                sources=[{"record_id": m.record_id, "sha256": m.sha256} for m in manifests],
            )
        )
    for manifest in sorted(manifests, key=lambda m: m.record_id):
        try:
            _destroy(manifest, everywhere, now, result.removed, started)
        except StorageError as exc:
            raise DisposalRefused(
                f"уничтожение по акту № {number} остановлено на {manifest.record_id}: {exc}\n"
                "Уже удалённое не восстанавливается; повторите команду, когда причина устранена"
            ) from exc
    _, entries = log.entries()
    destroyed = set(result.records) | set(gone)
    extract = [e for e in entries if _concerns(e, number, destroyed)]
    pd = PdAct(
        act=act,
        destroyed_at=now,
        destroyed_by=(operator or os_user()).strip(),
        records=sorted(destroyed),
        subjects=subjects,
        unknown_subjects=unknown,
        log=[e.to_json() for e in extract],
    )
    pdf = render_pd_act(pd, engines or Engines(), now)
    if sign is not None:
        pdf = sign(pdf)
    policy = load_policy(PD_ACT_KIND, policies)
    manifest = act_manifest(act, PD_ACT_KIND, policy, pdf, now, zone, f"pd-act-{number}.pdf")
    write_record(everywhere, manifest, manifest.dumps(), pdf)
    result.pd_act_record = manifest.record_id
    result.subjects = len(subjects)
    return result


def _concerns(entry: Entry, number: str, destroyed: set[str]) -> bool:
    doc = entry.doc
    what: dict[str, Any] = doc.get("what") or {}
    if what.get("act") == number:
        return True
    return any(s.get("record_id") in destroyed for s in doc.get("sources") or [])


def destroyed_series(locations: Locations) -> dict[str, str]:
    """Record series destroyed under an act (listed in an approved act, no longer archived) → act №."""
    live = {rid.rsplit("/", 1)[0] for rid in complete_records(locations.first())}
    found: dict[str, str] = {}
    for act, _ in approved_acts(locations):
        protocol = act.approval["protocol"] if act.approval else ""
        for item in act.items:
            if item.series not in live:
                found[item.series] = f"№ {act.number} (протокол экспертной комиссии {protocol})"
    return found
