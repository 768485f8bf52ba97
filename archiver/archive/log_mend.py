"""The access log's copies told apart and mended (``archiver log verify [--repair]``).

:func:`~archiver.archive.access_log.verify_log` reports everything that differs
between the locations. Two situations are not damage and are told apart here:

* a location that is **unavailable** now (an unmounted disk): its copy was not
  checked — that is not a broken chain;
* a copy that **fell behind**: it lacks only the last entries, and each of them
  says it was written while that location was unavailable (``"unavailable"`` in the
  entry). The next ``get``/``extract`` copies them over; ``--repair`` does it now.

Mending (``--repair``) copies the entries a copy lacks from a copy whose chain is
whole and replaces damaged entries of one copy with the good copy's bytes
(:meth:`~archiver.storage.base.Storage.restore`: atomically, the good one is never
overwritten; on S3 a new version, the old one stays). The good copy is the one
whose own chain has no problem — the S3 copy when both are whole but differ, as it
cannot have been changed; between two local folders that differ and are both
whole, nobody can tell and nothing is touched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from archiver.archive.access_log import (
    LogCheckReport,
    LogProblem,
    entry_key,
    scan,
    sha256_hex,
    verify_log,
)
from archiver.archive.log_anchor import locked_entries
from archiver.storage.base import Lock, Storage, StorageError
from archiver.storage.locations import Locations

OWN_CODES = ("missing", "unreadable", "moved", "chain", "first", "unlocked", "foreign")
"""Problems of one copy's own chain (found without looking at the other copy)."""


@dataclass(slots=True)
class LogAssessment:
    """The log verified, with the unavailable and fallen-behind copies told from damage."""

    report: LogCheckReport
    problems: list[LogProblem] = field(default_factory=list)
    """Real damage: a broken chain, a deleted or changed entry, copies that differ."""
    unavailable: list[LogProblem] = field(default_factory=list)
    behind: dict[str, list[int]] = field(default_factory=dict)
    """Location → the last entries it lacks because it was unavailable when they were written."""
    mended: list[str] = field(default_factory=list)
    """What ``--repair`` did, one line per entry written."""

    @property
    def ok(self) -> bool:
        """No damage, and every location was checked."""
        return not self.problems and not self.unavailable

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (for ``archiver log verify --json``)."""
        return {
            **self.report.to_json(),
            "ok": self.ok,
            "damaged": bool(self.problems),
            "problems": [p.to_json() for p in self.problems],
            "unavailable": [p.to_json() for p in self.unavailable],
            "behind": {k: v for k, v in self.behind.items()},
            "mended": self.mended,
        }


def _said_unavailable(location: Storage, seq: int, lacking: str) -> bool:
    """Whether entry ``seq`` in ``location`` says ``lacking`` was unavailable when it was written."""
    try:
        doc = json.loads(location.read(entry_key(seq)).data.decode("utf-8"))
    except (StorageError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(doc, dict) and lacking in (doc.get("unavailable") or [])


def assess(locations: Locations, report: LogCheckReport) -> LogAssessment:
    """Split ``report``'s problems into damage, unavailable locations and copies behind."""
    result = LogAssessment(report)
    by_name = {loc.name: loc for loc in locations.all}
    last = {c.location: c.last_seq for c in report.chains}
    own = {p.location for p in report.problems if p.code in OWN_CODES}
    absent: dict[str, list[LogProblem]] = {}
    for problem in report.problems:
        if problem.code == "unavailable":
            result.unavailable.append(problem)
        elif problem.code == "absent" and problem.location is not None:
            absent.setdefault(problem.location, []).append(problem)
        else:
            result.problems.append(problem)
    for name, missing in absent.items():
        holders = [
            loc
            for loc in locations.all
            if loc.name != name and loc.name not in own and locations.available(loc)
        ]
        behind = name not in own and all(
            p.seq is not None
            and p.seq > last.get(name, 0)
            and any(_said_unavailable(h, p.seq, name) for h in holders)
            for p in missing
        )
        if behind and name in by_name:
            result.behind[name] = sorted(p.seq for p in missing if p.seq is not None)
        else:
            result.problems.extend(missing)
    return result


def _reference(locations: Locations, assessment: LogAssessment, target: str) -> Storage | None:
    """The copy to mend ``target`` from: whole, available, S3 preferred."""
    damaged = {p.location for p in assessment.problems if p.code in OWN_CODES} | {
        p.location for p in assessment.problems if p.code == "differs"
    }
    candidates = [
        loc
        for loc in locations.usable()
        if loc.name != target and loc.name not in damaged and loc.name not in assessment.behind
    ]
    if not candidates:
        return None
    candidates.sort(key=lambda loc: not loc.enforces_retention)
    return candidates[0]


def _lock_of(data: bytes) -> Lock:
    retention = json.loads(data.decode("utf-8"))["retention"]
    return Lock(datetime.fromisoformat(retention["retain_until"]), retention["lock_mode"])


def mend(
    locations: Locations, assessment: LogAssessment, anchor_folder: Path | None = None
) -> LogAssessment:
    """Copy missing entries and restore damaged ones from the good copy; verify again.

    On S3 the source's entries are its locked first versions (a newer version or a delete
    marker over an entry is never copied); ``anchor_folder``: the log's tail anchor
    (:mod:`archiver.archive.log_anchor`), checked again after mending.
    """
    mended: list[str] = []
    targets = sorted(
        {n for n in assessment.behind}
        | {p.location for p in assessment.problems if p.location is not None}
    )
    refused: list[str] = []
    for name in targets:
        target = next((loc for loc in locations.usable() if loc.name == name), None)
        if target is None:
            continue
        source = _reference(locations, assessment, name)
        if source is None:
            refused.append(
                f"журнал доступа в хранилище «{name}» не восстановлен: нет другой копии, "
                "цепочка которой не нарушена (нужна проверка человеком)"
            )
            continue
        good, _ = scan(source)
        originals = locked_entries(source)
        have, _ = scan(target)
        for seq in sorted(set(good) | set(originals)):
            data = originals[seq].data if seq in originals else source.read(good[seq]).data
            if seq in have and target.read(have[seq]).data == data:
                continue
            result = target.restore(entry_key(seq), data, _lock_of(data), sha256_hex(data))
            if result.created:
                how = "дописана" if seq not in have else "восстановлена"
                mended.append(
                    f"запись № {seq} {how} в хранилище «{name}» из хранилища «{source.name}»"
                )
    again = assess(locations, verify_log(locations, anchor_folder))
    again.mended = mended + refused
    return again


__all__ = ["LogAssessment", "assess", "mend"]
