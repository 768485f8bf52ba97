"""Stage progress for long commands: a bar per stage on a terminal, JSON lines with ``--json``."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from archiver.yearend import STAGE_NAMES, YearEndEvent


class StageProgress:
    """Turns :class:`YearEndEvent` callbacks into bars (stderr) or JSON lines (stderr)."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.bar: Any = None
        self.shown = 0

    def __call__(self, event: YearEndEvent) -> None:
        if self.as_json:
            line = {
                "stage": event.stage,
                "event": event.event,
                "done": event.done,
                "total": event.total,
            }
            if event.item:
                line["item"] = event.item
            print(json.dumps(line, ensure_ascii=False), file=sys.stderr, flush=True)
            return
        if event.event == "start":
            self.close()
            label = STAGE_NAMES.get(event.stage, event.stage)
            if event.total == 0:
                click.echo(f"{label}: делать нечего, уже готово", err=True)
                return
            self.bar = click.progressbar(
                length=event.total, label=label, file=sys.stderr, show_pos=True
            )
            self.bar.__enter__()
            self.shown = 0
        elif event.event == "step" and self.bar is not None:
            self.bar.update(max(0, event.done - self.shown))
            self.shown = max(self.shown, event.done)
        elif event.event == "done":
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
