"""The demonstration: a generated school, demo keys, two local folders, and the whole year-end run.

:func:`prepare_demo` makes (or finds, on a second run) everything in one folder;
:func:`run_demo` runs the year end there. Nothing is configured by hand and no
network is used (the demo timestamping service runs on 127.0.0.1).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from archiver.demo.keys import DEMO_PASSPHRASE, DemoKeys, demo_timestamping, make_demo_keys
from archiver.errors import InputError
from archiver.files import write_atomic
from archiver.init_config import write_config
from archiver.model import JournalExport
from archiver.progress import ProgressCallback
from archiver.settings import Settings, load_settings
from archiver.sources.export_v1 import read_export
from archiver.sources.report import ValidationReport
from archiver.storage.open import open_locations
from archiver.yearend import YearEndReport, run_year_end

PRIMARY = "storage/room-1"
SECONDARY = "storage/room-2"
PASSPHRASE_ENV = "ARCHIVER_SIGNER_PASSPHRASE"


@dataclass(frozen=True, slots=True)
class DemoSetup:
    """The demonstration's folder, ready for the run."""

    folder: Path
    config: Path
    export_path: Path
    raw: bytes
    report: ValidationReport
    export: JournalExport
    keys: DemoKeys
    settings: Settings
    validate_seconds: float


def prepare_demo(folder: Path, classes: int = 12) -> DemoSetup:
    """Write what is missing in ``folder``: ``archiver.toml``, a generated export, the demo keys."""
    from archiver.demo.generator import export_bytes, generate_export

    config = folder / "archiver.toml"
    export_path = folder / "export.json"
    if not config.exists():
        write_config(folder, primary=PRIMARY, secondary=SECONDARY, demo=True)
    if not export_path.exists():
        write_atomic(export_path, export_bytes(generate_export(classes=classes)))
    raw = export_path.read_bytes()
    started = time.monotonic()
    report = read_export(raw, name=str(export_path))
    if report.export is None or not report.ok:
        raise InputError(f"{export_path}: демонстрационная выгрузка не прошла проверку")
    validated = time.monotonic() - started
    export = report.export
    keys = DemoKeys.at(folder / "keys")
    if not keys.director_p12.exists():
        make_demo_keys(keys.folder, export.school.director.name, export.school.short_name)
    return DemoSetup(
        folder, config, export_path, raw, report, export, keys, load_settings(config), validated
    )


def run_demo(setup: DemoSetup, progress: ProgressCallback | None = None) -> YearEndReport:
    """The year-end run of the demonstration (the demo key's passphrase unless set in the environment)."""
    settings = setup.settings
    storage = settings.require_storage()
    return run_year_end(
        setup.report,
        setup.raw,
        setup.export_path.name,
        working_dir=settings.working_dir(),
        signature=settings.signature,
        locations=open_locations(storage),
        secret=lambda: os.environ.get(PASSPHRASE_ENV, DEMO_PASSPHRASE),
        timestamping=demo_timestamping(settings.signature),
        zone=storage.timezone,
        doc_options=settings.documents,
        progress=progress,
        validate_seconds=setup.validate_seconds,
    )


def sample_documents(setup: DemoSetup, result: YearEndReport) -> tuple[Path | None, Path | None]:
    """A class journal and a summary statement of the run worth opening (the last class with marks)."""
    export = setup.export
    marked = [c for c in export.classes if c.marks_recorded]
    folder = result.work_dir / (marked[-1].id if marked else export.classes[0].id)
    journal = next(iter(sorted(folder.glob("*-class-journal.pdf"))), None)
    final = next(iter(sorted(folder.glob("*-final-marks.pdf"))), None)
    return journal, final
