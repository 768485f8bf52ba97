"""Measure retrieval on an existing archive: find (with its catalog check), list, bag texts.

Run ``archiver demo`` first (or point at any archive's configuration), then:

    .venv/bin/python bench/retrieval.py archiver-demo/archiver.toml [--repeat 3]

Prints, each the best of ``--repeat`` runs in-process: the catalog's up-to-date check
(the listing ``find`` does before every search), a ``find`` of a common surname, the
``list`` of every record with each copy's state, and per signed document the time to
collect its certificate chains and write its README.txt (what storing adds).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def best(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The shortest of ``repeat`` runs, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--query", default="Семёнов")
    args = parser.parse_args()

    from archiver.archive.bag_readme import readme_text
    from archiver.archive.catalog import find_students
    from archiver.archive.handout import open_archive, refresh_catalog
    from archiver.archive.record_list import list_records
    from archiver.archive.retrieve import fetch_record
    from archiver.settings import load_settings
    from archiver.signing.chains import certificate_chains

    archive = open_archive(load_settings(args.config))
    refresh_catalog(archive)  # built once, outside the measurement
    check, _ = best(args.repeat, lambda: refresh_catalog(archive))
    found_time, found = best(args.repeat, lambda: find_students(archive.catalog, args.query))
    listed_time, (records, _) = best(args.repeat, lambda: list_records(archive.locations))
    signed = [r for r in records if r.manifest.signer_cert_sha256 is not None][:20]
    payloads = [fetch_record(archive.locations, r.manifest.record_id).payload for r in signed]
    certificate_chains(payloads[0])  # imports outside the measurement
    texts_time, _ = best(
        args.repeat,
        lambda: [
            readme_text(r.manifest, certificate_chains(pdf))
            for r, pdf in zip(signed, payloads, strict=True)
        ],
    )
    print(f"records: {len(records)}, locations: {len(archive.locations.all)}")
    print(f"catalog up-to-date check (listing): {check * 1000:.0f} ms")
    print(f"find «{args.query}»: {len(found)} found, {found_time * 1000:.0f} ms")
    print(f"list with copy states: {listed_time * 1000:.0f} ms")
    per = texts_time / max(1, len(signed)) * 1000
    print(f"certificate chains + README.txt: {per:.1f} ms per document ({len(signed)} documents)")


if __name__ == "__main__":
    main()
