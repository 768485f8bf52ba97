"""One pull: importer → export document → v1 validation → files, or nothing at all."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from archiver.progress import ProgressCallback
from archiver.settings import DnevnikSource, EposSource, SourceSettings
from archiver.sources.export_v1 import validate_document
from archiver.sources.http import OnRetry
from archiver.sources.importers.base import (
    ApiClient,
    Importer,
    Notes,
    PullInputError,
    SchoolInfo,
    check_token,
)
from archiver.sources.importers.dnevnik import DnevnikImporter
from archiver.sources.importers.epos import EposImporter
from archiver.sources.importers.mapping import load_mapping
from archiver.sources.importers.provenance import (
    provenance,
    responses_folder,
    write_capture,
    write_pull,
)
from archiver.sources.report import ValidationReport

IMPORTERS = {"epos": "ЭПОС.Школа / МЭШ", "dnevnik": "Дневник.ру"}
"""The importers by their command-line name, with the systems they read."""

MAX_SHOWN = 10


@dataclass(frozen=True, slots=True)
class PullOutcome:
    """What a pull wrote and found."""

    out: Path
    responses: Path
    raw: bytes
    report: ValidationReport
    notes: Notes
    requests: int


def make_importer(system: str, source: SourceSettings) -> Importer:
    """The importer of ``system`` with its settings and mapping tables."""
    mapping = load_mapping(system, source.mappings)
    options = getattr(source, system, None)
    if system == "epos" and isinstance(options, EposSource):
        return EposImporter(options, mapping)
    if system == "dnevnik" and isinstance(options, DnevnikSource):
        return DnevnikImporter(options, mapping)
    raise PullInputError(f"нет импорта из системы «{system}»; есть: {', '.join(IMPORTERS)}")


def run_pull(
    system: str,
    source: SourceSettings,
    token: str,
    out: Path,
    *,
    year: str | None = None,
    capture: Path | None = None,
    progress: ProgressCallback | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: OnRetry | None = None,
) -> PullOutcome:
    """Pull ``system``'s year, validate it as a v1 export and write it to ``out``.

    Written are ``out`` (the export, with its ``provenance``) and the raw responses
    folder beside it, only when the pull finished and the export has no errors;
    ``capture`` (a folder) gets the PII-scrubbed responses even when the pull
    failed, so a changed response can be shown to the developers.
    """
    importer = make_importer(system, source)
    options = getattr(source, system)
    title = importer.title
    token = check_token(token, title)
    pulled_at = datetime.now(source.timezone).replace(microsecond=0)
    s = source.school
    school = SchoolInfo(s.id, s.short_name, s.full_name, s.director, s.director_position, s.address)
    api = ApiClient(
        title,
        options.base_url,
        importer.auth_headers(token),
        timeout=options.timeout,
        retries=options.retries,
        sleep=sleep,
        on_retry=on_retry,
    )
    try:
        with api:
            pulled = importer.pull(api, school, year, progress)
    finally:
        if capture is not None:
            write_capture(capture, api.responses)
    doc = pulled.document
    doc["exported_at"] = pulled_at.isoformat()
    doc["provenance"] = provenance(
        importer=system,
        system=title,
        base_url=options.base_url,
        account=pulled.account,
        pulled_at=pulled_at,
        responses=api.responses,
        folder_name=responses_folder(out).name,
        notes=pulled.notes,
        mappings=load_mapping(system, source.mappings).files,
    )
    raw = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"
    report = validate_document(raw, ValidationReport(source=f"{title} ({options.base_url})"))
    if report.errors:
        shown = "\n".join(f"  {p}" for p in report.errors[:MAX_SHOWN])
        more = len(report.errors) - MAX_SHOWN
        tail = f"\n  … и ещё {more}" if more > 0 else ""
        raise PullInputError(
            f"{title}: данные системы не складываются в выгрузку ({len(report.errors)} "
            f"ошибок), ничего не записано:\n{shown}{tail}"
        )
    folder = write_pull(out, raw, doc["provenance"]["responses"], api.responses)
    return PullOutcome(out, folder, raw, report, pulled.notes, len(api.responses))
