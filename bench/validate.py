"""Measure reading and validating a generated export (default: 40 classes).

Prints the export's size, the seconds to read + validate + build the model, and the
peak RSS of the measuring process. The export is generated in a separate process
first, so the generator's memory does not count.

    .venv/bin/python bench/validate.py [--classes 40] [--seed 1] [--repeat 3]
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
    parser.add_argument("--classes", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.json"
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from archiver.cli.main import main; main()",
                "demo-data",
                "--out",
                str(path),
                "--seed",
                str(args.seed),
                "--classes",
                str(args.classes),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        size = path.stat().st_size

        from archiver.sources.export_v1 import read_export

        times = []
        report = None
        for _ in range(args.repeat):
            start = time.perf_counter()
            report = read_export(path)
            times.append(time.perf_counter() - start)
        assert report is not None and report.ok, (
            [str(p) for p in report.errors[:5]] if report else None
        )
        summary = report.summary
        assert summary is not None
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"export: {args.classes} classes, {size / 1e6:.1f} MB, {summary.students} students, "
        f"{summary.lessons} lessons, {summary.marks} marks, {summary.absences + summary.late} "
        "attendance entries"
    )
    print(
        f"read+validate+model: best {min(times):.2f} s, median {sorted(times)[len(times) // 2]:.2f} s "
        f"over {args.repeat} runs"
    )
    print(f"peak RSS: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
