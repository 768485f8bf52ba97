"""Progress of long operations: one event type for every stage, handed to a callback.

A stage (``validate``, ``render``, ``sign``, ``store``, ``verify``) reports

* ``start`` with the number of items it will do (``total``; 0: nothing to do),
* ``step`` after each item (``done`` of ``total``; ``item`` names it, ``status`` says
  how it went),
* ``done`` when it is over (``done == total``),

and, in between, notices of its own: ``location`` (a storage location was checked
or listed; ``status`` ``unavailable`` when it cannot be used), ``copy`` (one copy of
a record was written), ``repaired`` (a record was repaired). The library never
prints: the command line turns these events into bars or JSON lines
(:meth:`ProgressEvent.to_json`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["DONE", "START", "STEP", "ProgressCallback", "ProgressEvent", "StageProgress"]

START = "start"
STEP = "step"
DONE = "done"


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """One moment of one stage."""

    stage: str
    event: str
    done: int = 0
    total: int = 0
    item: str | None = None
    """What the event is about: a class, a document, a record id."""
    location: str | None = None
    """The storage location it is about, if any."""
    status: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON line: every field that is set."""
        line: dict[str, Any] = {
            "stage": self.stage,
            "event": self.event,
            "done": self.done,
            "total": self.total,
        }
        for name in ("item", "location", "status"):
            value = getattr(self, name)
            if value is not None:
                line[name] = value
        return line


ProgressCallback = Callable[[ProgressEvent], None]


class StageProgress:
    """Emits one stage's events to an optional callback, counting the steps."""

    def __init__(self, callback: ProgressCallback | None, stage: str) -> None:
        self.callback = callback
        self.stage = stage
        self.done = 0
        self.total = 0

    def emit(
        self,
        event: str,
        done: int = 0,
        total: int = 0,
        *,
        item: str | None = None,
        location: str | None = None,
        status: str | None = None,
    ) -> None:
        """Any event of this stage (a notice such as ``location``)."""
        if self.callback is not None:
            self.callback(ProgressEvent(self.stage, event, done, total, item, location, status))

    def start(self, total: int) -> None:
        self.done, self.total = 0, total
        self.emit(START, 0, total)

    def step(self, item: str | None = None, *, status: str | None = None) -> None:
        self.done += 1
        self.emit(STEP, self.done, self.total, item=item, status=status)

    def finish(self) -> None:
        self.emit(DONE, self.total, self.total)
