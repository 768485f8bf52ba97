"""Measure rendering the demo school's documents.

Generates the demo export (default: 12 classes) in a subprocess, then renders
every class with the given number of worker processes and prints pages,
seconds, pages/s and the peak RSS of the main process and of the largest worker.

    .venv/bin/python bench/render.py [--classes 12] [--seed 1] [--workers 2]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--classes", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0, help="0: one per core")
    args = parser.parse_args()

    from archiver.kinds import CLASS_JOURNAL
    from archiver.parallel import cores
    from archiver.render.batch import render_classes
    from archiver.sources.export_v1 import read_export

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "export.json"
        subprocess.run(
            [sys.executable, "-c", "from archiver.cli.main import main; main()", "demo-data",
             "--out", str(source), "--seed", str(args.seed), "--classes", str(args.classes)],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        report = read_export(source)
        assert report.export is not None, [str(e) for e in report.errors[:5]]
        workers = args.workers or cores()
        start = time.perf_counter()
        documents = render_classes(report.export, Path(tmp) / "out", workers=workers)
        seconds = time.perf_counter() - start
        size = sum(d.path.stat().st_size for d in documents)
    pages = sum(d.pages for d in documents)
    bundles = [d for d in documents if d.kind == CLASS_JOURNAL]
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"classes: {len(bundles)}, documents: {len(documents)}, pages: {pages}, "
          f"PDF size: {size / 1e6:.1f} MB ({size / pages / 1e3:.0f} kB/page)")  # fmt: skip
    print(f"workers: {workers}, time: {seconds:.1f} s, {pages / seconds:.1f} pages/s, "
          f"{seconds / len(bundles):.2f} s per class")  # fmt: skip
    print(f"peak RSS: main process {own:.0f} MB, largest worker {children:.0f} MB")


if __name__ == "__main__":
    main()
