"""Measure rendering the demo school's documents.

Generates the demo export (default: 12 classes) in a subprocess, then renders
every class with the given number of worker processes and prints pages,
seconds, pages/s and the peak RSS of the main process and of the largest worker.
``--export FILE`` renders that export instead (the same file before and after a
change: put the older code first on ``PYTHONPATH`` to measure it).

    .venv/bin/python bench/render.py [--classes 12] [--seed 1] [--workers 2] [--export FILE]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import Peaks, demo_export


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--classes", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0, help="0: one per core")
    parser.add_argument("--export", type=Path, help="render this export (not a generated one)")
    args = parser.parse_args()

    from archiver.kinds import CLASS_JOURNAL
    from archiver.parallel import cores
    from archiver.render.batch import render_classes

    with tempfile.TemporaryDirectory() as tmp:
        export = demo_export(Path(tmp), args.export, args.seed, args.classes)
        workers = args.workers or cores()
        with Peaks() as peaks:
            start = time.perf_counter()
            documents = render_classes(export, Path(tmp) / "out", workers=workers)
            seconds = time.perf_counter() - start
        size = sum(d.path.stat().st_size for d in documents)
    pages = sum(d.pages for d in documents)
    bundles = [d for d in documents if d.kind == CLASS_JOURNAL]
    print(f"classes: {len(bundles)}, documents: {len(documents)}, pages: {pages}, "
          f"PDF size: {size / 1e6:.1f} MB ({size / pages / 1e3:.0f} kB/page)")  # fmt: skip
    print(f"workers: {workers}, time: {seconds:.1f} s, {pages / seconds:.1f} pages/s, "
          f"{seconds / len(bundles):.2f} s per class")  # fmt: skip
    print(f"peak RSS: main process {peaks.own:.0f} MB, largest worker {peaks.largest_child:.0f} MB")


if __name__ == "__main__":
    main()
