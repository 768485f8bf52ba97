"""Measure ``archiver verify`` (cheap and deep) on a generated archive in two local folders.

Builds N records of signed PDFs of realistic size (uniformly 300 KB–2 MB by default:
one page, plus an incompressible attachment standing in for the tables), signed by
the demo director's key at PAdES B-LTA through the demo timestamping service on
127.0.0.1 (``--level B-B`` signs faster but validates faster too), packs them as
BagIt records (``archiver.archive.record.bag_files``) into two local folders, then runs
the cheap and the deep check and prints seconds, MB/s (bytes read from both copies)
and records/s. ``--cold`` evicts the archive's files from the page cache before each
run (``posix_fadvise(DONTNEED)``), so the figures include reading the disk.

    .venv/bin/python bench/verify.py [--records 200] [--min-kb 300] [--max-kb 2000]
                                     [--level B-LTA] [--workers 0] [--cold] [--dir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path


def make_pdf(rng: random.Random, size: int, number: int) -> bytes:
    """A one-page PDF/A-sized document of about ``size`` bytes (an attachment of random bytes)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": f"Журнал {number}", "/Keywords": f"class_journal; c{number}"})
    writer.add_attachment("grid.bin", rng.randbytes(max(0, size - 2000)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def evict(root: Path) -> None:
    """Drop the files under ``root`` from the page cache (no root rights needed)."""
    for path in root.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:  # the files were fsynced when written: clean pages, dropped on request
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--min-kb", type=int, default=300)
    parser.add_argument("--max-kb", type=int, default=2000)
    parser.add_argument("--level", choices=("B-B", "B-LTA"), default="B-LTA")
    parser.add_argument("--workers", type=int, default=0, help="0: one per core")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--cold", action="store_true", help="evict the files from the page cache")
    parser.add_argument("--dir", type=Path, help="build the archive here (default: a temp folder)")
    args = parser.parse_args()

    from archiver.archive.record import RecordManifest, bag_files
    from archiver.archive.verify import verify_archive
    from archiver.demo.keys import DEMO_PASSPHRASE, make_demo_keys
    from archiver.init_config import write_config
    from archiver.parallel import cores
    from archiver.settings import load_settings
    from archiver.signing.sign import load_trust_roots, signing_session
    from archiver.signing.signer_of import signer_of
    from archiver.storage.base import Lock
    from archiver.storage.open import open_locations

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        config_path = write_config(folder, primary="room-1", secondary="room-2", demo=True)
        make_demo_keys(folder / "keys", "Кузнецова Ольга Петровна", "Школа № 7")
        settings = load_settings(config_path)
        signature = settings.signature.model_copy(update={"level": args.level})
        locations = open_locations(settings.require_storage())
        for location in locations:
            location.check()
        rng = random.Random(7)
        stored_at = datetime.now(UTC).isoformat(timespec="seconds")
        total = 0
        started = time.perf_counter()
        with signing_session(signature, DEMO_PASSPHRASE) as signer:
            for number in range(1, args.records + 1):
                size = rng.randint(args.min_kb * 1000, args.max_kb * 1000)
                pdf = signer.sign_bytes(make_pdf(rng, size, number))
                who = signer_of(pdf)
                assert who is not None
                rid = f"sch-7/2025-2026/c{number:04d}/class_journal/v1"
                manifest = RecordManifest(
                    record_id=rid,
                    version=1,
                    kind="class_journal",
                    title=f"Журнал учёта успеваемости: класс {number}, 2025/2026 учебный год",
                    school_id="sch-7",
                    school_name="Школа № 7",
                    academic_year="2025/2026",
                    class_id=f"c{number:04d}",
                    class_name=f"Класс {number}",
                    file_name=f"c{number:04d}-class-journal.pdf",
                    media_type="application/pdf",
                    size=len(pdf),
                    sha256=hashlib.sha256(pdf).hexdigest(),
                    sha512=hashlib.sha512(pdf).hexdigest(),
                    retention_policy="class_journal",
                    retention_title="Журнал учёта успеваемости",
                    retention_years=5,
                    legal_basis="",
                    lock_mode="COMPLIANCE",
                    closing_year=2026,
                    retain_until="2032-01-01T00:00:00+05:00",
                    stored_at=stored_at,
                    source_export_sha256="0" * 64,
                    signer_cert_sha256=who.cert_sha256,
                    signer_subject=who.subject,
                )
                lock = Lock(manifest.retain_until_instant, manifest.lock_mode)
                for location in locations:
                    for file in bag_files(manifest, manifest.dumps(), pdf):
                        location.put(f"{rid}/{file.path}", file.data, lock)
                    location.seal(rid)
                total += len(pdf)
        built = time.perf_counter() - started
        copy_bytes = sum(p.stat().st_size for p in (folder / "room-1").rglob("*") if p.is_file())
        print(
            f"archive: {args.records} records, documents {total / 1e6:.1f} MB "
            f"(each {args.min_kb}–{args.max_kb} KB, {args.level}), {copy_bytes / 1e6:.1f} MB per "
            f"copy, 2 local copies; built in {built:.1f} s; {cores()} cores"
        )
        roots = load_trust_roots(signature.trust_roots)
        workers = args.workers or cores()
        for level, deep in (("cheap", False), ("deep", True)):
            if args.cold:
                for location_folder in ("room-1", "room-2"):
                    evict(folder / location_folder)
            started = time.perf_counter()
            report = verify_archive(
                locations,
                folder / "state",
                deep=deep,
                trust_roots=roots if deep else None,
                threads=args.threads,
                workers=workers if deep else 1,
            )
            seconds = time.perf_counter() - started
            assert report.clean, report.to_json()
            print(
                f"{level:5}: {seconds:7.2f} s  {report.bytes_read / 1e6 / seconds:8.1f} MB/s  "
                f"{args.records / seconds:8.1f} records/s  (read {report.bytes_read / 1e6:.1f} MB"
                + (f", {workers} signature workers" if deep else "")
                + (", cold cache)" if args.cold else ", warm cache)")
            )


if __name__ == "__main__":
    main()
