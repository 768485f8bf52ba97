"""The access log: who read what from the archive, when and why — append-only and hash-chained.

Children's personal data (and the fact of attending a correctional school) may be read
only with a reason, and every read is logged. Each ``archiver get`` and
``archiver extract`` adds one entry **to the archive itself**, in every storage
location, before the document is handed out.

Storage objects are write-once and cannot be appended to, so every entry is its own
object, ``_access-log/<seq:08d>.json`` (the folder cannot clash with a school's, as
school folders never start with ``_``): indented UTF-8 JSON holding its sequence
number and the sha256 of the exact bytes of the previous entry (``null`` for the
first). Removing, editing or reordering an entry breaks the chain at that entry;
comparing the locations catches what the chain alone cannot (a removed or edited
last entry), and the S3 copy, locked by Object Lock, cannot be changed at all.

Appending: the next number is the highest one found in any location; the entry is
written to the first available location (the primary one) first. That write is
the serialization point: two appenders racing for the same number both try to put
an object under the same key, the location accepts one and refuses the other
(:class:`~archiver.storage.base.StorageConflict`, as every entry carries a random
``entry_id`` the bytes always differ), and the loser retries with the next number.
The entry then goes to the other locations; entries an interrupted appender left in
the first location only are copied to the others first (after checking that they
continue the chain there).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import re
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from archiver import __version__
from archiver.archive.log_anchor import Head, load_head, locked_entries, save_head
from archiver.errors import ArchiverError, ExitCode, UsageError
from archiver.kinds import LOG_FOLDER
from archiver.retention import RetentionPolicy, retain_until
from archiver.storage.base import Lock, Storage, StorageConflict, StorageError
from archiver.storage.locations import Locations

ENTRY_FORMAT = "archiver-access-log/1"
POLICY_KIND = "access_log"
GET = "get"
EXTRACT = "extract"
REVIEW = "review"
"""The director looked through a batch before signing (``archiver sign --review``): who, when, which documents."""
FIND = "find"
"""A search for students that showed names, birth dates and classes (the web service's «Поиск»)."""
VIEW = "view"
"""A record's description or a document waiting for signature looked at in the web service."""
ACTIONS = {
    GET: "выдача документа",
    EXTRACT: "выписка итоговых отметок",
    REVIEW: "просмотр документов директором перед подписью",
    "hold_add": "запрет уничтожения (hold) установлен",
    "hold_remove": "запрет уничтожения (hold) снят",
    "dispose_approve": "акт о выделении к уничтожению утверждён",
    "dispose_execute": "уничтожение документов по акту",
    "renew": "продление метки времени",
    FIND: "поиск обучающегося",
    VIEW: "просмотр записи",
}
"""Actions an entry may record: reads of the archive, the director's review, and the decisions on
its records' lives (:mod:`archiver.archive.holds`, :mod:`archiver.archive.dispose`,
:mod:`archiver.archive.renew`)."""
_ENTRY_KEY = re.compile(rf"^{LOG_FOLDER}/(\d{{8}})\.json$")
MAX_ATTEMPTS = 100


class AccessLogError(ArchiverError):
    """The access log cannot be written or read, or its locations disagree."""

    exit_code = ExitCode.FAILURE


def entry_key(seq: int) -> str:
    """``_access-log/00000012.json``."""
    return f"{LOG_FOLDER}/{seq:08d}.json"


def sha256_hex(data: bytes) -> str:
    """sha256 of ``data``, lowercase hex."""
    return hashlib.sha256(data).hexdigest()


def os_user() -> str:
    """The name of the operating-system user running archiver."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, no USER/LOGNAME
        return "неизвестен"


@dataclass(frozen=True, slots=True)
class AccessRequest:
    """What one entry records (everything but its place in the chain)."""

    action: str
    """``get``, ``extract`` or ``review``."""
    what: dict[str, Any]
    """``{"record_id": …}`` for get, ``{"school_id": …, "student_id": …}`` for extract."""
    reason: str
    operator: str | None = None
    """Who asked for the access (``--operator``); default: the OS user."""
    output: dict[str, Any] = field(default_factory=dict)
    """The written file: ``{"path", "sha256", "size"}``."""
    sources: list[dict[str, str]] = field(default_factory=list)
    """The records read: ``[{"record_id", "sha256", "location"}]``."""
    role: str | None = None
    """The account's role when the access came through the web service (``archivist`` …)."""
    client: str | None = None
    """The web client's address (the service's own view of it, or the proxy's X-Forwarded-For)."""

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}")
        if not self.reason.strip():
            raise UsageError("укажите причину обращения к архиву (--reason «…»)")
        if self.operator is not None and not self.operator.strip():
            raise UsageError("имя сотрудника (--operator) не может быть пустым")


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry as read back from a location."""

    seq: int
    data: bytes
    doc: dict[str, Any]

    @property
    def sha256(self) -> str:
        """sha256 of the entry's exact bytes (what the next entry's ``prev_sha256`` holds)."""
        return sha256_hex(self.data)

    def to_json(self) -> dict[str, Any]:
        """The entry's JSON with its own sha256 added (for ``archiver log show --json``)."""
        return {**self.doc, "sha256": self.sha256}


def entry_bytes(
    seq: int,
    prev_sha256: str | None,
    at: datetime,
    request: AccessRequest,
    lock: Lock,
    *,
    entry_id: str | None = None,
    unavailable: list[str] | None = None,
) -> bytes:
    """The exact bytes of one entry: indented UTF-8 JSON, Cyrillic as is, one final newline.

    ``unavailable``: the locations the entry could not be written to (named in the
    entry, so that a copy lacking it later is known to have fallen behind, not to
    have lost it).
    """
    user = os_user()
    doc = {
        "format": ENTRY_FORMAT,
        "seq": seq,
        "prev_sha256": prev_sha256,
        "entry_id": entry_id or uuid.uuid4().hex,
        "at": at.isoformat(timespec="seconds"),
        "who": {
            "operator": (request.operator or user).strip(),
            "os_user": user,
            "host": socket.gethostname(),
            **({"role": request.role, "via": "web"} if request.role else {}),
            **({"client": request.client} if request.client else {}),
        },
        "action": request.action,
        "what": request.what,
        "why": request.reason.strip(),
        "output": request.output,
        "sources": request.sources,
        "retention": {
            "retain_until": lock.retain_until.isoformat(),
            "lock_mode": lock.mode,
        },
        "software": {"name": "archiver", "version": __version__},
    }
    if unavailable:
        doc["unavailable"] = list(unavailable)
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _lock_of(data: bytes) -> Lock:
    """The lock an entry asks for (stated in the entry itself)."""
    doc = json.loads(data.decode("utf-8"))
    retention = doc["retention"]
    return Lock(datetime.fromisoformat(retention["retain_until"]), retention["lock_mode"])


def _parse(data: bytes) -> dict[str, Any]:
    doc = json.loads(data.decode("utf-8"))
    if not isinstance(doc, dict) or doc.get("format") != ENTRY_FORMAT:
        raise ValueError("не запись журнала доступа archiver")
    if not isinstance(doc.get("seq"), int):
        raise ValueError("нет номера записи (seq)")
    return doc


def scan(location: Storage) -> tuple[dict[int, str], list[str]]:
    """The log's objects in one location: seq → key, and keys that are not entries."""
    entries: dict[int, str] = {}
    foreign: list[str] = []
    for key in location.list_keys(LOG_FOLDER + "/"):
        match = _ENTRY_KEY.match(key)
        if match and int(match.group(1)) > 0:
            entries[int(match.group(1))] = key
        else:
            foreign.append(key)
    return entries, foreign


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Where one new entry went."""

    seq: int
    sha256: str
    key: str
    written: tuple[str, ...]
    """Names of the locations holding the entry."""
    notes: tuple[str, ...] = ()


class AccessLog:
    """The access log of the archive in its storage locations."""

    def __init__(
        self,
        locations: Locations,
        policy: RetentionPolicy,
        zone: tzinfo,
        anchor_folder: Path | None = None,
    ) -> None:
        self.locations = locations
        self.policy = policy
        self.zone = zone
        self.anchor_folder = anchor_folder
        """Where the head seen last is kept (:mod:`archiver.archive.log_anchor`)."""

    def lock_for(self, at: datetime) -> Lock:
        """Kept ``policy.years`` from 1 January after the entry's year (as the records are)."""
        return Lock(retain_until(at.year, self.policy.years, self.zone), self.policy.lock_mode)

    def append(self, request: AccessRequest, *, now: datetime | None = None) -> AppendResult:
        """Add one entry to every available location; retried with the next number on a race."""
        usable = self.locations.usable()
        if not usable:
            self.locations.first()  # raises: no location is available
        notes = self.locations.fallback_notes()
        for _ in range(MAX_ATTEMPTS):
            state = {loc.name: scan(loc)[0] for loc in usable}
            top = max((max(s, default=0) for s in state.values()), default=0)
            notes.extend(self._complete(usable, state, top))
            prev = None
            if top:
                holder = next(loc for loc in usable if top in state[loc.name])
                prev = sha256_hex(holder.read(entry_key(top)).data)
            seq = top + 1
            at = (now or datetime.now(self.zone)).astimezone(self.zone)
            lock = self.lock_for(at)
            missing = [loc.name for loc in self.locations.all if loc not in usable]
            data = entry_bytes(seq, prev, at, request, lock, unavailable=missing)
            key = entry_key(seq)
            first, *rest = usable
            try:
                first.put(key, data, lock)
            except StorageConflict:
                continue  # another appender took this number: try the next one
            written = [first.name]
            for location in rest:
                try:
                    location.put(key, data, lock)
                except StorageConflict as exc:
                    raise AccessLogError(
                        f"журнал доступа: запись № {seq} в хранилище «{location.name}» уже есть "
                        f"с другим содержимым; копии журнала расходятся, проверьте их: "
                        f"archiver log verify ({exc})"
                    ) from exc
                written.append(location.name)
            for location in usable:
                if location.read(key).data != data:
                    raise AccessLogError(
                        f"журнал доступа: запись {location.url(key)} не читается такой, "
                        "какой была записана"
                    )
            save_head(self.anchor_folder, Head(seq, sha256_hex(data), at.isoformat()))
            return AppendResult(seq, sha256_hex(data), key, tuple(written), tuple(notes))
        raise AccessLogError(
            f"журнал доступа: не удалось занять номер записи за {MAX_ATTEMPTS} попыток "
            "(слишком много одновременных обращений); повторите команду"
        )

    def _complete(
        self, usable: list[Storage], state: dict[str, dict[int, str]], top: int
    ) -> list[str]:
        """Copy entries an interrupted appender left in some locations only to the others."""
        notes: list[str] = []
        for location in usable:
            own = state[location.name]
            own_top = max(own, default=0)
            if own_top >= top:
                continue
            prev = sha256_hex(location.read(entry_key(own_top)).data) if own_top else None
            for seq in range(own_top + 1, top + 1):
                source = next((loc for loc in usable if seq in state[loc.name]), None)
                if source is None:
                    raise AccessLogError(
                        f"журнал доступа: записи № {seq} нет ни в одном хранилище; "
                        "проверьте журнал: archiver log verify"
                    )
                data = source.read(entry_key(seq)).data
                try:
                    doc = _parse(data)
                    lock = _lock_of(data)
                except (ValueError, KeyError, TypeError) as exc:
                    raise AccessLogError(
                        f"журнал доступа: запись {source.url(entry_key(seq))} не читается ({exc})"
                    ) from exc
                if doc.get("seq") != seq or doc.get("prev_sha256") != prev:
                    raise AccessLogError(
                        f"журнал доступа: запись № {seq} из хранилища «{source.name}» не "
                        f"продолжает журнал в хранилище «{location.name}»; копии журнала "
                        "расходятся, проверьте их: archiver log verify"
                    )
                location.put(entry_key(seq), data, lock)
                state[location.name][seq] = entry_key(seq)
                prev = sha256_hex(data)
                notes.append(
                    f"журнал доступа: запись № {seq} дописана в хранилище «{location.name}» "
                    "(предыдущее обращение было прервано)"
                )
        return notes

    def entries(self) -> tuple[Storage, list[Entry]]:
        """Every readable entry of the first available location, in order."""
        location = self.locations.first()
        keys, _ = scan(location)
        found: list[Entry] = []
        for seq in sorted(keys):
            data = location.read(keys[seq]).data
            try:
                doc = _parse(data)
            except (ValueError, UnicodeDecodeError) as exc:
                raise AccessLogError(
                    f"журнал доступа: запись {location.url(keys[seq])} не читается ({exc}); "
                    "проверьте журнал: archiver log verify"
                ) from exc
            found.append(Entry(seq, data, doc))
        return location, found


# -- verification


@dataclass(frozen=True, slots=True)
class LogProblem:
    """One thing wrong with the log: where, which entry, and what."""

    location: str | None
    seq: int | None
    code: str
    """``unavailable``, ``foreign``, ``missing``, ``unreadable``, ``moved``, ``chain``,
    ``first``, ``absent``, ``differs``, ``unlocked``, ``hidden`` (S3: a delete marker over a
    locked entry), ``replaced`` (S3: a newer version over it), ``tail`` (the last entry
    seen before is gone or changed)."""
    message: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "location": self.location,
            "seq": self.seq,
            "code": self.code,
            "message": self.message,
        }


@dataclass(slots=True)
class ChainReport:
    """The chain as found in one location."""

    location: str
    where: str
    available: bool = True
    entries: int = 0
    last_seq: int = 0
    last_at: str | None = None
    problems: list[LogProblem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "location": self.location,
            "where": self.where,
            "available": self.available,
            "entries": self.entries,
            "last_seq": self.last_seq,
            "last_at": self.last_at,
            "ok": self.available and not self.problems,
        }


@dataclass(slots=True)
class LogCheckReport:
    """The outcome of :func:`verify_log`."""

    chains: list[ChainReport]
    problems: list[LogProblem]
    heads: dict[int, str] = field(default_factory=dict)
    """sha256 of every entry found, by number (the first location's copy)."""

    @property
    def ok(self) -> bool:
        """Whether every location holds the same unbroken chain."""
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (for ``archiver log verify --json``)."""
        return {
            "ok": self.ok,
            "locations": [c.to_json() for c in self.chains],
            "problems": [p.to_json() for p in self.problems],
        }


def _check_chain(location: Storage, report: ChainReport) -> dict[int, bytes]:
    """Read one location's log and check its chain; problems go into ``report``."""
    keys, foreign = scan(location)
    name = location.name

    def problem(seq: int | None, code: str, message: str) -> None:
        report.problems.append(LogProblem(name, seq, code, f"хранилище «{name}»: {message}"))

    for key in foreign:
        problem(None, "foreign", f"посторонний объект в журнале доступа: {location.url(key)}")
    originals = locked_entries(location)  # S3: the locked first versions (log_anchor)
    data: dict[int, bytes] = {}
    docs: dict[int, dict[str, Any]] = {}
    for seq in sorted(set(originals) - set(keys)):
        problem(
            seq,
            "hidden",
            f"запись № {seq} ({location.url(entry_key(seq))}) скрыта (удалена маркером удаления); "
            "её заблокированная версия цела и проверена",
        )
        keys[seq] = entry_key(seq)
    for seq, key in sorted(keys.items()):
        stored = originals[seq] if seq in originals else location.read(key)
        hidden = {p.seq for p in report.problems}
        if seq in originals and seq not in hidden and location.read(key).data != stored.data:
            problem(
                seq,
                "replaced",
                f"текущая версия записи № {seq} ({location.url(key)}) отличается от "
                "заблокированной исходной; проверена исходная",
            )
        data[seq] = stored.data
        if location.enforces_retention and not stored.info.lock_mode:
            problem(
                seq, "unlocked", f"запись № {seq} ({location.url(key)}) не защищена блокировкой"
            )
        try:
            docs[seq] = _parse(stored.data)
        except (ValueError, UnicodeDecodeError) as exc:
            problem(seq, "unreadable", f"запись № {seq} ({location.url(key)}) не читается: {exc}")
    top = max(keys, default=0)
    report.entries = len(keys)
    report.last_seq = top
    if top in docs:
        report.last_at = str(docs[top].get("at"))
    for seq in range(1, top + 1):
        if seq not in keys:
            problem(seq, "missing", f"записи № {seq} ({entry_key(seq)}) нет: она удалена")
    moved = {seq for seq, doc in docs.items() if doc["seq"] != seq}
    for seq in sorted(moved):
        problem(
            seq,
            "moved",
            f"в файле записи № {seq} ({location.url(keys[seq])}) лежит запись № "
            f"{docs[seq]['seq']}: записи переставлены или переименованы",
        )
    for seq, doc in sorted(docs.items()):
        prev = doc.get("prev_sha256")
        if seq == 1:
            if prev is not None:
                problem(1, "first", "первая запись ссылается на предыдущую: начало журнала удалено")
        elif (
            seq - 1 in data
            and seq not in moved
            and seq - 1 not in moved
            and prev != sha256_hex(data[seq - 1])
        ):
            problem(
                seq - 1,
                "chain",
                f"цепочка прервана между записями № {seq - 1} и № {seq}: sha256 записи "
                f"№ {seq - 1} ({location.url(keys[seq - 1])}) "
                f"{sha256_hex(data[seq - 1])[:16]}… не совпадает с её prev_sha256 в записи "
                f"№ {seq} ({str(prev)[:16]}…): запись № {seq - 1} изменена или заменена",
            )
    return data


def verify_log(locations: Locations, anchor_folder: Path | None = None) -> LogCheckReport:
    """Re-read the chain from every location, check it, and compare the locations.

    ``anchor_folder`` (the working folder) keeps the head seen last
    (:mod:`archiver.archive.log_anchor`): a log shorter than that, or with other bytes
    there, lost its tail. A clean log moves the anchor forward.
    """
    report = _verify_log(locations)
    head = load_head(anchor_folder)
    if head is not None:
        report.problems += _tail_problems(head, report)
    if report.ok:
        top = max((c.last_seq for c in report.chains), default=0)
        if top and report.heads.get(top):
            save_head(anchor_folder, Head(top, report.heads[top], _now_text()))
    return report


def _now_text() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _tail_problems(head: Head, report: LogCheckReport) -> list[LogProblem]:
    """The last entry seen before must still be there, with the same bytes."""
    found = report.heads.get(head.seq)
    if found is None and not all(c.available for c in report.chains):
        return []  # may be in the copy unavailable now (written while the other was away)
    if found is None:
        top = max((c.last_seq for c in report.chains), default=0)
        return [
            LogProblem(
                None,
                head.seq,
                "tail",
                f"конец журнала доступа удалён: {head.seen_at[:19]} в журнале была запись "
                f"№ {head.seq} (sha256 {head.sha256[:16]}…), а теперь "
                + (f"последняя — № {top}" if top else "журнала нет ни в одном хранилище"),
            )
        ]
    if found != head.sha256:
        return [
            LogProblem(
                None,
                head.seq,
                "tail",
                f"запись № {head.seq} журнала доступа изменена: {head.seen_at[:19]} её sha256 "
                f"был {head.sha256[:16]}…, теперь {found[:16]}…",
            )
        ]
    return []


def _verify_log(locations: Locations) -> LogCheckReport:
    """Re-read the chain from every location, check it, and compare the locations."""
    chains: list[ChainReport] = []
    contents: dict[str, dict[int, bytes]] = {}
    problems: list[LogProblem] = []
    for location in locations.all:
        report = ChainReport(location.name, location.where)
        chains.append(report)
        if not locations.available(location):
            report.available = False
            report.problems.append(
                LogProblem(
                    location.name,
                    None,
                    "unavailable",
                    f"хранилище «{location.name}» недоступно, журнал в нём не проверен: "
                    f"{locations.unavailable.get(location.name, '')}",
                )
            )
            continue
        try:
            contents[location.name] = _check_chain(location, report)
        except StorageError as exc:
            report.available = False
            report.problems.append(LogProblem(location.name, None, "unavailable", str(exc)))
    for report in chains:
        problems.extend(report.problems)
    reported = {(p.location, p.seq) for p in problems}
    names = list(contents)
    by_name = {loc.name: loc for loc in locations.all}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            for seq in sorted(set(contents[a]) | set(contents[b])):
                in_a, in_b = contents[a].get(seq), contents[b].get(seq)
                if in_a is not None and in_b is not None:
                    if in_a != in_b:
                        suspect = _suspect(a, b, seq, by_name, reported)
                        problems.append(
                            LogProblem(
                                suspect,
                                seq,
                                "differs",
                                f"запись № {seq} в хранилищах «{a}» и «{b}» различается"
                                + (f"; изменена копия в «{suspect}»" if suspect else ""),
                            )
                        )
                    continue
                lacking, having = (b, a) if in_b is None else (a, b)
                if (lacking, seq) in reported:
                    continue
                problems.append(
                    LogProblem(
                        lacking,
                        seq,
                        "absent",
                        f"хранилище «{lacking}»: записи № {seq} нет, а в хранилище «{having}» "
                        "она есть (удалена, или её запись была прервана — тогда её допишет "
                        "следующее обращение)",
                    )
                )
    heads: dict[int, str] = {}
    for entries in contents.values():
        for seq, raw in entries.items():
            heads.setdefault(seq, sha256_hex(raw))
    return LogCheckReport(chains, _attribute_links(problems), heads)


def _attribute_links(problems: list[LogProblem]) -> list[LogProblem]:
    """A broken link k-1 → k where only entry k differs from the other copy: entry k was changed."""
    differing = {(p.location, p.seq) for p in problems if p.code == "differs"} | {
        (None, p.seq) for p in problems if p.code == "differs"
    }
    fixed: list[LogProblem] = []
    for p in problems:
        if p.code == "chain" and p.seq is not None:
            k = p.seq + 1
            later = (p.location, k) in differing or (None, k) in differing
            earlier = (p.location, p.seq) in differing or (None, p.seq) in differing
            if later and not earlier:
                p = LogProblem(
                    p.location,
                    k,
                    "chain",
                    f"хранилище «{p.location}»: запись № {k} изменена: её prev_sha256 не "
                    f"совпадает с sha256 записи № {k - 1}, а запись № {k - 1} совпадает с "
                    "копией в другом хранилище",
                )
        fixed.append(p)
    return fixed


def _suspect(
    a: str,
    b: str,
    seq: int,
    by_name: dict[str, Storage],
    reported: set[tuple[str | None, int | None]],
) -> str | None:
    """Which copy of a differing entry was changed, when that can be told."""
    broken = [n for n in (a, b) if (n, seq) in reported]
    if len(broken) == 1:
        return broken[0]
    locked = [n for n in (a, b) if by_name[n].enforces_retention]
    if len(locked) == 1:
        return b if locked[0] == a else a
    return None


__all__ = [
    "ACTIONS",
    "ENTRY_FORMAT",
    "EXTRACT",
    "GET",
    "POLICY_KIND",
    "AccessLog",
    "AccessLogError",
    "AccessRequest",
    "AppendResult",
    "ChainReport",
    "Entry",
    "LogCheckReport",
    "LogProblem",
    "entry_bytes",
    "entry_key",
    "os_user",
    "scan",
    "sha256_hex",
    "verify_log",
]
