"""Measure a region's year-end on the engine (Dask distributed) with 1, 2 and 4 workers.

Generates ``--schools`` small schools (the demo generator with ``--classes`` lists each,
its own demo keys, two local storage folders), then for each worker count runs the whole
region year-end (validate → render per class → sign → store ×2 → verify) on a fresh
local cluster in a fresh folder and prints pages/s, classes/s, the scaling efficiency
against one worker, each worker's peak memory, and the engine's overhead per job (a
round trip of an empty job, and the run's wall time not spent inside jobs). Then the
projection for 1,000 schools × ``--sheets`` sheets on ``--machines`` two-core workers,
from the measured per-worker rate.

The machine may be shared: the figures are only as quiet as it is (the load average is printed).

    .venv/bin/python bench/region.py [--schools 4] [--classes 3] [--workers 1,2,4]
    .venv/bin/python bench/region.py --schools 1 --classes 12 --workers 2   # the demo school
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any


def make_schools(folder: Path, schools: int, classes: int) -> Path:
    """Exports and keys made once; a region folder is copied from them per measurement."""
    from archiver.demo.generator import export_bytes, generate_export
    from archiver.demo.keys import make_demo_keys

    for number in range(1, schools + 1):
        data = generate_export(seed=number, classes=classes)
        data["school"]["id"] = f"bench-{number}"
        school = folder / f"school-{number}"
        school.mkdir(parents=True)
        (school / "export.json").write_bytes(export_bytes(data))
        make_demo_keys(
            school / "keys", data["school"]["director"]["name"], data["school"]["short_name"]
        )
    return folder


def lay_out(source: Path, folder: Path, schools: int, workers: int) -> Path:
    from archiver.init_config import DEMO_SIGNER

    lines = [f'name = "bench"\n[engine]\nworkers = {workers}\n']
    for number in range(1, schools + 1):
        school = folder / f"school-{number}"
        shutil.copytree(source / f"school-{number}", school)
        for room in ("room-1", "room-2"):
            (school / room).mkdir()
        (school / "archiver.toml").write_text(
            '[archive]\nstate_dir = "state"\n\n'
            '[storage.primary]\nkind = "local"\npath = "room-1"\n\n'
            '[storage.secondary]\nkind = "local"\npath = "room-2"\n\n' + DEMO_SIGNER,
            encoding="utf-8",
        )
        lines.append(
            f'[[school]]\nid = "school-{number}"\nconfig = "school-{number}/archiver.toml"\n'
            f'source = "school-{number}/export.json"\n'
        )
    (folder / "region.toml").write_text("\n".join(lines), encoding="utf-8")
    return folder / "region.toml"


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _nothing() -> None:
    return None


def empty_job_seconds(client: Any, count: int = 200) -> float:
    """Mean wall time of one empty job submitted and gathered, ``count`` of them at once."""
    started = time.perf_counter()
    futures = [client.submit(_nothing, pure=False) for _ in range(count)]
    client.gather(futures)
    return (time.perf_counter() - started) / count


def measure(source: Path, schools: int, workers: int) -> dict[str, Any]:
    from archiver.region.engine import open_engine
    from archiver.region.model import load_region
    from archiver.region.run import run_region

    with tempfile.TemporaryDirectory() as tmp:
        region_file = lay_out(source, Path(tmp), schools, workers)
        region = load_region(region_file)
        started = time.perf_counter()
        with open_engine(region.engine) as engine:
            up = time.perf_counter() - started
            report = run_region(region, region.schools, engine)
            assert report.ok, report.to_text()
            peaks = engine.client.run(_peak_rss_mb)
            overhead = empty_job_seconds(engine.client)
        jobs = []
        for path in Path(tmp).glob("school-*/state/region-jobs/*.json"):
            import json

            jobs.append(json.loads(path.read_text(encoding="utf-8")))
    busy = sum(float(j.get("seconds", 0)) for j in jobs)
    return {
        "workers": workers,
        "startup": up,
        "wall": report.seconds,
        "pages": sum(s.pages for s in report.schools),
        "classes": sum(s.classes for s in report.schools),
        "jobs": len(jobs),
        "busy": busy,
        "peak_mb": max(peaks.values()),
        "empty_job": overhead,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schools", type=int, default=4)
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--sheets", type=int, default=1300, help="sheets per school (projection)")
    parser.add_argument("--machines", type=int, default=8, help="two-core workers (projection)")
    args = parser.parse_args()
    os.environ["ARCHIVER_SIGNER_PASSPHRASE"] = "demo"
    counts = [int(n) for n in args.workers.split(",")]

    with tempfile.TemporaryDirectory() as tmp:
        source = make_schools(Path(tmp), args.schools, args.classes)
        print(
            f"{args.schools} schools × {args.classes} lists; cores {os.cpu_count()}, "
            f"load average {os.getloadavg()[0]:.1f} before"
        )
        results = [measure(source, args.schools, n) for n in counts]
    base = results[0]["pages"] / results[0]["wall"] / results[0]["workers"]
    print(
        f"{'workers':>7} {'wall s':>7} {'pages':>6} {'pages/s':>8} {'classes/s':>9} "
        f"{'effic.':>6} {'peak MB':>8} {'empty job ms':>12} {'outside jobs':>12}"
    )
    for r in results:
        rate = r["pages"] / r["wall"]
        efficiency = rate / (base * r["workers"])
        outside = 1 - r["busy"] / (r["wall"] * r["workers"])
        print(
            f"{r['workers']:>7} {r['wall']:>7.1f} {r['pages']:>6} {rate:>8.2f} "
            f"{r['classes'] / r['wall']:>9.2f} {efficiency:>6.2f} {r['peak_mb']:>8.0f} "
            f"{r['empty_job'] * 1000:>12.1f} {outside:>11.0%}"
        )
        print(
            f"        (cluster start {r['startup']:.1f} s, jobs {r['jobs']}, in jobs {r['busy']:.1f} s)"
        )
    two_core = max((r["pages"] / r["wall"] for r in results if r["workers"] == 2), default=2 * base)
    total = 1000 * args.sheets
    for label, rate in (
        ("measured with 2 workers here", two_core),
        ("2 × one worker's rate", 2 * base),
    ):
        hours = total / (rate * args.machines) / 3600
        print(
            f"Projection: 1000 schools × {args.sheets} sheets = {total} pages on {args.machines} "
            f"two-core workers at {rate:.2f} pages/s each ({label}): {hours:.1f} h"
        )
    print(f"load average {os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()
