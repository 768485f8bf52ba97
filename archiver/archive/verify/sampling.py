"""Which records a ``--sample`` run verifies: those verified least recently."""

from __future__ import annotations

import math
from collections.abc import Sequence

from archiver.archive.verify.history import VerifyHistory
from archiver.archive.verify.report import Level
from archiver.errors import UsageError

__all__ = ["check_fraction", "choose_sample"]


def check_fraction(fraction: float) -> None:
    """:class:`UsageError` unless ``0 < fraction <= 1``."""
    if not 0 < fraction <= 1:
        raise UsageError("доля выборки (--sample) должна быть больше 0 и не больше 1")


def choose_sample(
    record_ids: Sequence[str], history: VerifyHistory, level: Level, fraction: float
) -> list[str]:
    """The ``fraction`` of the records verified least recently at ``level`` (never first).

    Deterministic: ties are broken by record id, so ten monthly runs with ``0.1``
    cover every record.
    """
    check_fraction(fraction)
    count = min(len(record_ids), math.ceil(len(record_ids) * fraction - 1e-9))
    order = sorted(record_ids, key=lambda rid: (history.last(rid, level), rid))
    return sorted(order[:count])
