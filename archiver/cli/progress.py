"""Progress of long commands on stderr: a bar per stage, the command's own lines, or JSON lines.

Every command turns the library's :class:`~archiver.progress.ProgressEvent` into
output here: with ``--json`` each event is one JSON object per line
(:meth:`~archiver.progress.ProgressEvent.to_json`); otherwise a stage named in
``labels`` gets a bar that always reaches its end (``done`` fills it up to ``total``),
and ``lines`` may turn an event into a line of the command's own. When stderr is not
a terminal (a log file, a scheduled run), a bar cannot move: each finished step (a
class rendered, a document signed, a record stored) is then a line of its own.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from archiver.progress import DONE, START, STEP, ProgressEvent
from archiver.yearend import STAGE_NAMES

__all__ = ["NOTHING_TO_DO", "ProgressDisplay", "year_end_display"]

NOTHING_TO_DO = "{label}: делать нечего, уже готово"


class ProgressDisplay:
    """Turns progress events into bars and lines (stderr) or JSON lines (stderr).

    ``bars``: draw bars (on a terminal they move; elsewhere click prints the label
    once). ``nothing`` is said for a stage that starts with nothing to do.
    """

    def __init__(
        self,
        as_json: bool,
        labels: Mapping[str, str],
        *,
        lines: Callable[[ProgressEvent], str | None] | None = None,
        bars: bool = True,
        nothing: str | None = None,
    ) -> None:
        self.as_json = as_json
        self.labels = labels
        self.lines = lines
        self.bars = bars
        self.nothing = nothing
        self.bar: Any = None
        self.stage: str | None = None
        self.shown = 0
        self.terminal = sys.stderr.isatty()

    def __call__(self, event: ProgressEvent) -> None:
        if self.as_json:
            print(json.dumps(event.to_json(), ensure_ascii=False), file=sys.stderr, flush=True)
            return
        text = self.lines(event) if self.lines is not None else None
        if text is not None:
            click.echo(text, err=True)
        label = self.labels.get(event.stage)
        if not self.bars or label is None:
            return
        if event.event == START:
            self.close()
            if event.total == 0:
                if self.nothing is not None:
                    click.echo(self.nothing.format(label=label), err=True)
                return
            self._open(event.stage, label, event.total)
        elif event.event == STEP:
            if self.bar is None or self.stage != event.stage:  # e.g. after a prompt
                self._open(event.stage, label, event.total)
            self._advance(event.done)
            if not self.terminal:
                item = event.item or ""
                if event.stage == "sign" and item:
                    item = Path(item).name
                click.echo(f"  {label}: {event.done}/{event.total} {item}".rstrip(), err=True)
        elif event.event == DONE and self.stage == event.stage:
            self._advance(event.total)
            self.close()

    def _open(self, stage: str, label: str, total: int) -> None:
        self.close()
        self.bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
        self.bar.__enter__()
        self.stage = stage
        self.shown = 0

    def _advance(self, done: int) -> None:
        if self.bar is not None and done > self.shown:
            self.bar.update(done - self.shown)
            self.shown = done

    def close(self) -> None:
        """End the bar shown now, as it stands (before a prompt, an error, the result)."""
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
        self.stage = None


def year_end_display(as_json: bool) -> ProgressDisplay:
    """A bar per stage of the year-end run (``archiver year-end``, ``archiver demo``)."""
    return ProgressDisplay(as_json, STAGE_NAMES, nothing=NOTHING_TO_DO)
