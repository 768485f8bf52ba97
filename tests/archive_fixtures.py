"""A small archived school for the retrieval tests: two academic years stored in two locations.

The first year is the demo generator's small school (``classes=3``: 1 «А», 5 «А», a club);
the second is made from it by moving every date 52 weeks on and promoting 5 «А» to 6 «А»
(with other year marks and one exam mark), so that an extract spans two years. Both are
stored with the real store operation (:func:`archiver.archive.store.store_records`), with tiny
signed PDFs standing in for the rendered documents (the documents' content does not
matter to finding and handing them out), except that with ``statements=True`` the
summary statements of final marks are really rendered (they carry the class's data
that ``find`` and ``extract`` read once the exports are gone).

:class:`Archive` runs the real ``archiver`` entry point in this process
(:func:`archiver.cli.main.main`) and looks at the locations independently.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archiver.archive.store import store_records
from archiver.demo.generator import export_bytes, generate_export
from archiver.render.bundle import ClassRenderer
from archiver.sources.export_v1 import read_export
from archiver.storage.base import Storage
from archiver.storage.local import LocalStorage
from archiver.storage.s3 import S3Storage
from tests.storage_fixtures import MotoS3, SignedPdf

SCHOOL = "demo-perm-si"
ARTEM = "s0014"
"""Казаков Артём Михайлович: 5 «А» in 2025/2026, 6 «А» in 2026/2027, and the club."""
SEMENOV = "s0018"
"""Семёнов-Фёдоров Егор Борисович."""
SHIFT = timedelta(weeks=52)
_DATE_KEYS = {"start", "end", "date", "enrolled", "left", "exported_at"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
BETTER = {"2": "3", "3": "4", "4": "5", "5": "5"}


def _shift(value: str) -> str:
    if len(value) == 10:
        return (date.fromisoformat(value) + SHIFT).isoformat()
    return (datetime.fromisoformat(value) + SHIFT).isoformat()


def _shift_dates(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                _shift(value)
                if key in _DATE_KEYS and isinstance(value, str) and _ISO_DATE.match(value)
                else _shift_dates(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_shift_dates(item) for item in node]
    return node


def next_year(doc: dict[str, Any]) -> dict[str, Any]:
    """The following academic year of the same school: 5 «А» becomes 6 «А», the rest stays."""
    later = _shift_dates(copy.deepcopy(doc))
    later["academic_year"]["name"] = "2026/2027"
    later["classes"] = [c for c in later["classes"] if c["id"] != "c1a"]
    for school_class in later["classes"]:
        if school_class["id"] == "c5a":
            school_class.update(id="c6a", name="6 «А»", grade=6)
            for course in school_class["courses"]:
                for mark in course["year_marks"]:
                    mark["value"] = BETTER.get(mark["value"], mark["value"])
            school_class["courses"][0]["exam_marks"] = [{"student": ARTEM, "value": "5"}]
            for promotion in school_class["promotion"]:
                decision = promotion["decision"].replace("условно ", "")
                promotion["decision"] = decision.replace("в 6 класс", "в 7 класс")
                promotion["protocol"] = promotion["protocol"].replace("2026", "2027")
    return later


@dataclass(frozen=True)
class Year:
    """One stored year: its export bytes and the documents stored with it."""

    name: str
    export: bytes
    classes: tuple[str, ...]


@pytest.fixture(scope="session", name="school_years")
def school_years_fixture() -> tuple[Year, Year]:
    """The two exports (bytes), validated."""
    first = generate_export(seed=1, classes=3)
    second = next_year(first)
    years = []
    for doc, classes in ((first, ("c1a", "c5a", "club1")), (second, ("c6a", "club1"))):
        data = export_bytes(doc)
        report = read_export(data, name=doc["academic_year"]["name"])
        assert report.ok, [str(p) for p in report.errors[:5]]
        years.append(Year(doc["academic_year"]["name"], data, classes))
    return years[0], years[1]


@dataclass
class Result:
    """What one run of the command printed, and its exit code."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_archiver(*args: str) -> Result:
    """Run ``archiver ARGS`` through the real entry point, in this process."""
    from archiver.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return Result(code, out.getvalue(), err.getvalue())


class Archive:
    """A school's archive of two years in two locations, and archiver.toml for it."""

    def __init__(
        self,
        tmp: Path,
        years: tuple[Year, Year],
        signed_pdf: SignedPdf,
        moto: MotoS3 | None = None,
        bucket: str | None = None,
        statements: bool = False,
    ) -> None:
        self.tmp = tmp
        self.primary_root = tmp / "nas"
        self.primary_root.mkdir()
        self.primary: Storage = LocalStorage("primary", self.primary_root)
        self.secondary_root: Path | None = None
        secondary_conf: str
        if moto is None:
            self.secondary_root = tmp / "usb"
            self.secondary_root.mkdir()
            self.secondary: Storage = LocalStorage("secondary", self.secondary_root)
            secondary_conf = 'kind = "local"\npath = "usb"\n'
        else:
            assert bucket is not None
            self.secondary = S3Storage(
                "secondary", bucket, "journal/", endpoint_url=moto.endpoint_url, region="us-east-1"
            )
            secondary_conf = (
                f'kind = "s3"\nbucket = "{bucket}"\nprefix = "journal/"\n'
                f'endpoint_url = "{moto.endpoint_url}"\nregion = "us-east-1"\n'
            )
        self.config = tmp / "archiver.toml"
        self.config_text_secondary = secondary_conf
        self.write_config("")
        self.years = years
        docs = tmp / "docs"
        for year in years:
            export = read_export(year.export, name=year.name).export
            assert export is not None
            renderer = ClassRenderer(export) if statements else None
            paths = []
            for class_id in year.classes:
                kinds = ["class_journal"]
                if export.classes_by_id[class_id].marks_recorded:
                    kinds.append("final_marks")
                for kind in kinds:
                    suffix = "class-journal" if kind == "class_journal" else "final-marks"
                    path = docs / year.name.replace("/", "-") / f"{class_id}-{suffix}.pdf"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    base = None
                    if renderer is not None and kind == "final_marks":
                        base = renderer.render_final_marks(export.classes_by_id[class_id])[0]
                    path.write_bytes(signed_pdf(kind, class_id, year=year.name, base=base))
                    paths.append(path)
            store_records(export, year.export, "export.json", paths, [self.primary, self.secondary])

    def write_config(self, extra: str) -> None:
        self.config.write_text(
            '[storage.primary]\nkind = "local"\npath = "nas"\n\n'
            f"[storage.secondary]\n{self.config_text_secondary}\n{extra}",
            encoding="utf-8",
        )

    def run(self, *args: str) -> Result:
        """``archiver ARGS --config archiver.toml`` (the option appended)."""
        return run_archiver(*args, "--config", str(self.config))

    @property
    def catalog(self) -> Path:
        return self.tmp / "state" / "catalog.sqlite"

    def record_path(self, root: Path, record_id: str) -> Path:
        return root / record_id

    def payload(self, root: Path, record_id: str) -> Path:
        data = next((root / record_id / "data").iterdir())
        return data

    def log_file(self, root: Path, seq: int) -> Path:
        return root / "_access-log" / f"{seq:08d}.json"


def record(year: str, class_id: str | None, kind: str, version: int = 1) -> str:
    """A record id of the test school."""
    folder = class_id if class_id is not None else "_export"
    return f"{SCHOOL}/{year.replace('/', '-')}/{folder}/{kind}/v{version}"


def make_writable(path: Path) -> None:
    """Lift archiver's read-only modes (what a person with access to the disk can do)."""
    for parent in [path, *path.parents]:
        if parent.exists() and parent.is_dir():
            parent.chmod(0o755)
        if parent.name in ("nas", "usb"):
            break
    if path.is_file():
        path.chmod(0o644)


ArchiveFactory = Callable[..., Archive]


@pytest.fixture(name="archive")
def archive_fixture(
    tmp_path: Path, school_years: tuple[Year, Year], signed_pdf: SignedPdf
) -> Archive:
    """Both years stored in a local primary folder and a local secondary folder."""
    return Archive(tmp_path, school_years, signed_pdf)


@pytest.fixture(name="s3_archive")
def s3_archive_fixture(
    tmp_path: Path,
    school_years: tuple[Year, Year],
    signed_pdf: SignedPdf,
    moto_s3: MotoS3,
    locked_bucket: str,
    aws_env: dict[str, str],
) -> Archive:
    """Both years stored in a local primary folder and an S3 bucket with Object Lock (moto)."""
    return Archive(tmp_path, school_years, signed_pdf, moto_s3, locked_bucket)
