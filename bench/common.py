"""What the bench scripts share: the export to measure, and peak memory.

:func:`demo_export` reads the export given, or generates the demo school's.

Peak memory of this process and of every process it started, however started:
``resource.getrusage(RUSAGE_CHILDREN)`` only sees children that ended and were
waited for by this process: render workers are forked by a fork server (a child of
this process that outlives the pool), so they were invisible to it. :class:`Peaks`
reads the kernel's high-water mark (``VmHWM`` in ``/proc/PID/status``) of every
descendant a few times a second while the measured work runs (Linux only).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archiver.model import JournalExport


def demo_export(folder: Path, export: Path | None, seed: int, classes: int) -> JournalExport:
    """``export`` read, or the demo school (``seed``, ``classes``) generated into ``folder``."""
    from archiver.sources.export_v1 import read_export

    source = export or folder / "export.json"
    if export is None:
        subprocess.run(
            [sys.executable, "-c", "from archiver.cli.main import main; main()", "demo-data",
             "--out", str(source), "--seed", str(seed), "--classes", str(classes)],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
    report = read_export(source)
    assert report.export is not None, [str(e) for e in report.errors[:5]]
    return report.export


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def _descendants(root: int) -> list[int]:
    parents = _parents()
    found, frontier = [], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def _high_water_mb(pid: int | str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Peaks:
    """``with Peaks() as peaks: ...``; then ``peaks.own`` and ``peaks.largest_child`` in MB."""

    def __init__(self, every: float = 0.1) -> None:
        self.every = every
        self.children: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while True:
            for pid in _descendants(os.getpid()):
                self.children[pid] = max(self.children.get(pid, 0.0), _high_water_mb(pid))
            if self._stop.wait(self.every):
                return

    @property
    def own(self) -> float:
        return _high_water_mb("self")

    @property
    def largest_child(self) -> float:
        return max(self.children.values(), default=0.0)

    def __enter__(self) -> Peaks:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
