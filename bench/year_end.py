"""Measure the whole year-end run on a generated school.

Generates the demo school (default 12 classes; ``--classes 40`` for a big one),
demo keys (B-LTA with the demo TSA on 127.0.0.1) and two local storage folders,
then runs validate → render → sign → store → verify in this process and prints
the time per stage, the share of everything but rendering, pages/s and peak RSS.

    .venv/bin/python bench/year_end.py [--classes 12] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from common import Peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--classes", type=int, default=12)
    parser.add_argument("--workers", type=int, default=0, help="0: one per core")
    args = parser.parse_args()

    from archiver.demo.generator import export_bytes, generate_export
    from archiver.demo.keys import demo_timestamping, make_demo_keys
    from archiver.init_config import write_config
    from archiver.settings import load_settings
    from archiver.sources.export_v1 import read_export
    from archiver.storage.open import open_locations
    from archiver.yearend import STAGE_NAMES, STAGES, run_year_end

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wall = time.perf_counter()
        config_path = write_config(folder, primary="room-1", secondary="room-2", demo=True)
        raw = export_bytes(generate_export(classes=args.classes))
        started = time.perf_counter()
        report = read_export(raw, name="export.json")
        validated = time.perf_counter() - started
        assert report.export is not None
        school = report.export.school
        make_demo_keys(folder / "keys", school.director.name, school.short_name)
        settings = load_settings(config_path)
        with Peaks() as peaks:
            result = run_year_end(
                report,
                raw,
                "export.json",
                working_dir=settings.working_dir(),
                signature=settings.signature,
                locations=open_locations(settings.require_storage()),
                secret=lambda: "demo",
                timestamping=demo_timestamping(settings.signature),
                workers=args.workers or None,
                validate_seconds=validated,
            )
        wall = time.perf_counter() - wall
        archive = sum(p.stat().st_size for p in (folder / "room-1").rglob("*") if p.is_file())
    assert result.ok, result.problems
    pages = sum(d.pages for d in result.documents)
    total = sum(result.timings.values())
    print(f"classes: {len(result.classes)}, documents: {len(result.documents)}, pages: {pages}, "
          f"records: {len(result.records)}, archive copy: {archive / 1e6:.1f} MB, "
          f"signature: PAdES {result.level}")  # fmt: skip
    for stage in STAGES:
        seconds = result.timings.get(stage, 0.0)
        print(
            f"  {stage:9s} {seconds:7.1f} s  {100 * seconds / total:5.1f} %  ({STAGE_NAMES[stage]})"
        )
    other = total - result.timings["render"]
    print(f"total: {total:.1f} s (wall {wall:.1f} s, cores {os.cpu_count()}); "
          f"rendering {pages / result.timings['render']:.1f} pages/s; "
          f"validate+sign+store+verify: {100 * other / total:.1f} % of the total")  # fmt: skip
    print(f"peak RSS: main process {peaks.own:.0f} MB, "
          f"largest worker {peaks.largest_child:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
