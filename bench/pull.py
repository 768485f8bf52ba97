"""Measure ``archiver pull epos`` against a fake ЭПОС.Школа serving the demo school.

Generates the demo export (default: 12 classes), serves its classes through the fake
МЭШ-family server of the tests (127.0.0.1, pages of at most ``--page-cap`` items),
pulls them with the importer and prints requests, seconds, requests/s, lessons and
marks, and whether the pulled contents equal the generated ones.

    .venv/bin/python bench/pull.py [--classes 12] [--page-cap 100]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--classes", type=int, default=12)
    parser.add_argument("--page-cap", type=int, default=100)
    args = parser.parse_args()

    from archiver.demo.generator import generate_export
    from archiver.settings import SourceSettings
    from archiver.sources.importers import run_pull
    from tests.fixtures.journal_systems import TOKEN, FakeSystem, epos_from_export, journal_facts

    original = generate_export(classes=args.classes)
    fake = FakeSystem(epos_from_export(original), "Auth-Token", paged=True, page_cap=args.page_cap)
    settings = SourceSettings.model_validate(
        {
            "school": {
                "id": "s",
                "short_name": "Школа",
                "full_name": "Школа",
                "director": "Директор Д. Д.",
            },
            "epos": {"base_url": fake.url, "profile_id": "1"},
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "export.json"
        started = time.perf_counter()
        outcome = run_pull("epos", settings, TOKEN, out)
        seconds = time.perf_counter() - started
        pulled = json.loads(out.read_bytes())
        size = out.stat().st_size
        raw = sum(p.stat().st_size for p in outcome.responses.iterdir())
    fake.stop()
    summary = outcome.report.summary
    assert summary is not None
    same = journal_facts(original) == journal_facts(pulled)
    print(f"classes pulled: {summary.classes}, pupils: {summary.students}")
    print(f"lessons: {summary.lessons}, marks: {summary.marks}, absences: {summary.absences}")
    print(f"requests: {outcome.requests} (page cap {args.page_cap})")
    print(f"seconds: {seconds:.2f}, requests/s: {outcome.requests / seconds:.0f}")
    print(f"export: {size / 1e6:.1f} MB, raw responses gzipped: {raw / 1e6:.1f} MB")
    print(f"round trip equal: {same}")


if __name__ == "__main__":
    main()
