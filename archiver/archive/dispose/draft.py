"""Steps 1 and 2 of disposal: the draft act (nothing deleted) and the commission's approval.

``draft``: every record series whose latest version's ``retain_until`` has passed as of
the given day, minus those under a legal hold, becomes a line of a new act; the act's
JSON and PDF go to the working folder (``disposal/<number>.json``, ``…-draft.pdf``).

``approve``: the protocol of the expert commission («№ 3 от 15.01.2032») and who
entered it are added, the act is rendered again, signed when a signer is configured,
and stored in the archive as a record (kind ``disposal_act``) in both locations; the
access log notes the approval. Only an act stored so can be executed.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from pathlib import Path

from archiver.archive.access_log import AccessLog, AccessRequest, os_user
from archiver.archive.catalog.schema import CatalogError, connect
from archiver.archive.dispose.act import (
    ACT_KIND,
    ACT_KINDS,
    DISPOSAL_FOLDER,
    Act,
    ActItem,
    make_item,
    render_act,
)
from archiver.archive.dispose.records import act_manifest, approved_acts, series_versions
from archiver.archive.handout import Archive, refresh_catalog
from archiver.archive.holds import holds_in_force, holds_on, pupil_classes
from archiver.archive.record import RecordManifest
from archiver.archive.write import write_record
from archiver.clock import Clock
from archiver.errors import ArchiverError, UsageError
from archiver.files import write_atomic
from archiver.kinds import safe_name
from archiver.render.engines import Engines
from archiver.retention import PolicyError, RetentionPolicy, load_policy
from archiver.storage.base import Storage
from archiver.storage.locations import Locations

PROTOCOL = re.compile(r"^№\s*(?P<number>[^\s].*?)\s+от\s+(?P<date>\d{2}\.\d{2}\.\d{4})$")


@dataclass(frozen=True, slots=True)
class DraftResult:
    """A draft act written to the working folder."""

    act: Act
    json_path: Path
    pdf_path: Path
    held: list[str]
    """Expired series left out, and why (a hold, or an approved act not executed yet)."""


def drafts_dir(working_dir: Path) -> Path:
    """``<working dir>/disposal``."""
    return working_dir / "disposal"


def _policy(kind: str, folder: Path | None) -> RetentionPolicy | None:
    try:
        return load_policy(kind, folder)
    except PolicyError:
        return None


def _director(catalog: Path, school: str) -> tuple[str, str]:
    """The school's director (name, position) as of the latest year in the catalog, if any."""
    try:
        with connect(catalog) as db:
            row = db.execute(
                "SELECT director_name, director_position FROM years WHERE school_id = ? "
                "ORDER BY academic_year DESC LIMIT 1",
                (school,),
            ).fetchone()
    except (CatalogError, sqlite3.Error):
        return "", "Директор"
    return (str(row[0]), str(row[1])) if row else ("", "Директор")


def _next_number(year: int, working_dir: Path, source: Storage, school: str) -> str:
    taken = {p.stem.removesuffix("-draft") for p in drafts_dir(working_dir).glob("*")}
    folder = f"{safe_name(school)}/{DISPOSAL_FOLDER}/"
    taken |= {key.split("/")[2] for key in source.list_keys(folder)}
    n = 1
    while f"{year}-{n}" in taken:
        n += 1
    return f"{year}-{n}"


def draft_act(
    locations: Locations,
    log: AccessLog,
    *,
    working_dir: Path,
    catalog: Path,
    as_of: date,
    zone: tzinfo,
    clock: Clock,
    policies: Path | None = None,
    engines: Engines | None = None,
    school_id: str | None = None,
    operator: str | None = None,
) -> DraftResult | None:
    """Draft an act of the series expired as of ``as_of`` and not held; ``None`` when there are none."""
    source = locations.first()
    moment = datetime.combine(as_of, time(0, 0), tzinfo=zone)
    holds = holds_in_force(log)
    pupils = {h.target for h in holds if h.scope == "pupil"}
    classes_of = {p: pupil_classes(catalog, p) for p in pupils} if pupils else {}
    expired: dict[str, list[list[RecordManifest]]] = {}
    held: list[str] = []
    pending = {
        item.series: act.number
        for act, executed in approved_acts(locations)
        if not executed
        for item in act.items
    }
    for series, manifests in sorted(series_versions(source).items()):
        latest = manifests[-1]
        if latest.kind in ACT_KINDS or latest.retain_until_instant > moment:
            continue
        if series in pending:
            held.append(f"{series}: уже в утверждённом акте № {pending[series]}")
            continue
        if school_id is not None and latest.school_id != school_id:
            continue
        found = holds_on(latest, holds, classes_of)
        if found:
            held.append(f"{series}: {found[0].describe()}")
            continue
        expired.setdefault(latest.school_id, []).append(manifests)
    if not expired:
        return None
    if len(expired) > 1:
        raise UsageError(
            "в архиве документы нескольких школ; акт составляется для одной: --school "
            + " | ".join(sorted(expired))
        )
    school, groups = next(iter(expired.items()))
    items: list[ActItem] = [
        make_item(n, manifests, _policy(manifests[-1].kind, policies))
        for n, manifests in enumerate(groups, 1)
    ]
    now = clock.now(zone)
    act = Act(
        number=_next_number(now.year, working_dir, source, school),
        school_id=school,
        school_name=groups[0][-1].school_name,
        as_of=as_of.isoformat(),
        drafted_at=now.isoformat(timespec="seconds"),
        drafted_by=(operator or os_user()).strip(),
        items=items,
    )
    act.director_name, act.director_position = _director(catalog, school)
    folder = drafts_dir(working_dir)
    folder.mkdir(parents=True, exist_ok=True)
    pdf = render_act(act, engines or Engines(), now)
    json_path = folder / f"{act.number}.json"
    pdf_path = folder / f"{act.number}-draft.pdf"
    write_atomic(pdf_path, pdf)
    write_atomic(json_path, act.dumps())
    return DraftResult(act, json_path, pdf_path, held)


def draft_for_archive(
    archive: Archive,
    *,
    as_of: date | None = None,
    school_id: str | None = None,
    operator: str | None = None,
    clock: Clock,
) -> DraftResult | None:
    """:func:`draft_act` on the configured archive (``dispose draft``, the web «Уничтожение» page).

    The catalog is refreshed first; ``as_of`` defaults to today in the school's zone.
    """
    refresh_catalog(archive)
    return draft_act(
        archive.locations,
        archive.access_log(),
        working_dir=archive.working_dir,
        catalog=archive.catalog,
        as_of=as_of or clock.today(archive.zone),
        zone=archive.zone,
        clock=clock,
        policies=archive.settings.documents.retention_policies,
        engines=Engines(archive.settings.documents.templates),
        school_id=school_id,
        operator=operator,
    )


def list_drafts(working_dir: Path) -> list[Act]:
    """The draft acts in the working folder, newest number last."""
    acts = []
    for path in sorted(drafts_dir(working_dir).glob("*.json")):
        try:
            acts.append(Act.loads(path.read_bytes(), str(path)))
        except ArchiverError:
            continue  # not an act (a stray file): the folder is the archivist's too
    return acts


def load_draft(working_dir: Path, number: str) -> Act:
    """The draft act ``number`` from the working folder."""
    path = drafts_dir(working_dir) / f"{number}.json"
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise UsageError(
            f"проекта акта № {number} нет ({path}); составьте его: archiver dispose draft"
        ) from exc
    return Act.loads(data, str(path))


def parse_protocol(text: str) -> tuple[str, date]:
    """«№ 3 от 15.01.2032» → ``("3", date(2032, 1, 15))``; :class:`UsageError` otherwise."""
    match = PROTOCOL.match(text.strip())
    if match is None:
        raise UsageError(
            f"--protocol: нужен номер и дата протокола экспертной комиссии в виде "
            f"«№ 3 от 15.01.2032», а не «{text}»"
        )
    try:
        return match.group("number"), datetime.strptime(match.group("date"), "%d.%m.%Y").date()
    except ValueError as exc:
        raise UsageError(f"--protocol: нет такой даты {match.group('date')}") from exc


@dataclass(frozen=True, slots=True)
class ApproveResult:
    """The approved act, stored as a record."""

    act: Act
    record_id: str
    written: list[str]
    signed_by: str | None
    log_seq: int


def approve_act(
    locations: Locations,
    log: AccessLog,
    *,
    working_dir: Path,
    number: str,
    protocol: str,
    zone: tzinfo,
    clock: Clock,
    policies: Path | None = None,
    engines: Engines | None = None,
    operator: str | None = None,
    sign: Callable[[bytes], bytes] | None = None,
) -> ApproveResult:
    """Record the commission's approval of draft ``number`` and store the act in the archive.

    ``sign`` (bytes → signed bytes), when given, signs the approved act's PDF.
    """
    protocol_number, protocol_date = parse_protocol(protocol)
    act = load_draft(working_dir, number)
    now = clock.now(zone)
    if protocol_date > now.date():
        raise UsageError(f"--protocol: дата протокола {protocol_date:%d.%m.%Y} ещё не наступила")
    existing = locations.first().stat(f"{act.record_id()}/bagit.txt")
    if existing is not None:
        raise UsageError(f"акт № {number} уже утверждён и хранится в архиве: {act.record_id()}")
    act.approval = {
        "protocol": f"№ {protocol_number} от {protocol_date:%d.%m.%Y}",
        "protocol_number": protocol_number,
        "protocol_date": protocol_date.isoformat(),
        "entered_by": (operator or os_user()).strip(),
        "os_user": os_user(),
        "entered_at": now.isoformat(timespec="seconds"),
    }
    pdf = render_act(act, engines or Engines(), now)
    signed_by = None
    if sign is not None:
        pdf = sign(pdf)
        from archiver.signing.signer_of import signer_of

        info = signer_of(pdf)
        signed_by = info.subject if info is not None else None
    policy = load_policy(ACT_KIND, policies)
    manifest = act_manifest(act, ACT_KIND, policy, pdf, now, zone, f"act-{act.number}.pdf")
    written = write_record(locations.usable(), manifest, manifest.dumps(), pdf)
    logged = log.append(
        AccessRequest(
            action="dispose_approve",
            what={"act": act.number, "record_id": manifest.record_id},
            reason=f"протокол экспертной комиссии {act.approval['protocol']}",
            operator=operator,
            sources=[{"record_id": manifest.record_id, "sha256": manifest.sha256}],
        )
    )
    return ApproveResult(act, manifest.record_id, written, signed_by, logged.seq)
