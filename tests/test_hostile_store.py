"""``archiver store`` given documents that are not the source's (issue 13, point 4).

The documents are real rendered summary statements (their embedded journal data names
the school, year and class), signed by the test PKI's director. Storing them with the
export of another school, of another export time, or from a year-end folder made from
another export is refused, naming the document and what differs; nothing is written.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from archiver.demo.generator import export_bytes, generate_export
from archiver.render.batch import render_classes
from archiver.render.bundle import ClassRenderer
from archiver.render.inventory import make_inventory
from archiver.sources.export_v1 import read_export
from tests.fixtures.cli import run_cli
from tests.fixtures.storage import SignedPdf


@pytest.fixture(scope="module")
def demo_doc() -> dict[str, Any]:
    return generate_export(seed=1, classes=3)


@pytest.fixture(scope="module")
def statement(demo_doc: dict[str, Any], signed_pdf: SignedPdf) -> bytes:
    export = read_export(export_bytes(demo_doc)).export
    assert export is not None
    base = ClassRenderer(export).render_final_marks(export.classes_by_id["c5a"])[0]
    return signed_pdf("final_marks", "c5a", base=base)


def setup(tmp_path: Path, doc: dict[str, Any], statement: bytes) -> Path:
    for room in ("nas", "usb"):
        (tmp_path / room).mkdir()
    (tmp_path / "archiver.toml").write_text(
        '[storage.primary]\nkind = "local"\npath = "nas"\n\n'
        '[storage.secondary]\nkind = "local"\npath = "usb"\n',
        encoding="utf-8",
    )
    (tmp_path / "export.json").write_bytes(export_bytes(doc))
    docs = tmp_path / "state" / "year-end" / "2025-2026" / "c5a"
    docs.mkdir(parents=True)
    (docs / "c5a-final-marks.pdf").write_bytes(statement)
    return tmp_path / "state" / "year-end"


def stored_files(tmp_path: Path) -> list[Path]:
    return [p for room in ("nas", "usb") for p in (tmp_path / room).rglob("*") if p.is_file()]


def test_documents_of_the_demo_school_are_refused_as_another_schools(
    tmp_path: Path, demo_doc: dict[str, Any], statement: bytes
) -> None:
    other = copy.deepcopy(demo_doc)
    other["school"]["id"] = "school-other"
    other["school"]["short_name"] = "Другая школа"
    folder = setup(tmp_path, other, statement)
    result = run_cli("store", str(folder), "--source", "export.json", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "c5a-final-marks.pdf" in result.stderr
    assert "школы «demo-perm-si», а запись — школы «school-other»" in result.stderr
    assert stored_files(tmp_path) == []


def test_a_run_folder_of_another_export_is_refused(
    tmp_path: Path, demo_doc: dict[str, Any], statement: bytes
) -> None:
    folder = setup(tmp_path, demo_doc, statement)
    (folder / "2025-2026" / "run.json").write_text(
        json.dumps({"export_sha256": "f" * 64, "source": "x.json"}), encoding="utf-8"
    )
    result = run_cli("store", str(folder), "--source", "export.json", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "свёрстан по выгрузке sha256 ffffffffffffffff" in result.stderr
    assert stored_files(tmp_path) == []


def test_the_right_export_is_accepted(
    tmp_path: Path, demo_doc: dict[str, Any], statement: bytes
) -> None:
    folder = setup(tmp_path, demo_doc, statement)
    result = run_cli("store", str(folder), "--source", "export.json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    pdfs = [p for p in stored_files(tmp_path) if p.suffix == ".pdf"]
    assert len(pdfs) == 2 and all(p.read_bytes() == statement for p in pdfs)


# -- the year's inventory (a record of no class) is checked the same way


@pytest.fixture(scope="module")
def inventory(
    tmp_path_factory: pytest.TempPathFactory, demo_doc: dict[str, Any], signed_pdf: SignedPdf
) -> bytes:
    export = read_export(export_bytes(demo_doc)).export
    assert export is not None
    out = tmp_path_factory.mktemp("inventory")
    render_classes(export, out, workers=1)
    return signed_pdf("inventory", export.school.id, base=make_inventory(export, out))


def with_inventory(tmp_path: Path, doc: dict[str, Any], statement: bytes, pdf: bytes) -> Path:
    folder = setup(tmp_path, doc, statement)
    (folder / "2025-2026" / "demo-perm-si-inventory.pdf").write_bytes(pdf)
    return folder


def test_an_inventory_of_the_demo_school_is_refused_as_another_schools(
    tmp_path: Path, demo_doc: dict[str, Any], statement: bytes, inventory: bytes
) -> None:
    other = copy.deepcopy(demo_doc)
    other["school"]["id"] = "school-other"
    folder = with_inventory(tmp_path, other, statement, inventory)
    result = run_cli("store", str(folder), "--source", "export.json", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "demo-perm-si-inventory.pdf: опись дел школы «demo-perm-si»" in result.stderr
    assert stored_files(tmp_path) == []


def test_a_statement_passed_off_as_the_inventory_is_refused(
    tmp_path: Path,
    demo_doc: dict[str, Any],
    statement: bytes,
) -> None:
    # a genuine signed statement whose Keywords were made the inventory's
    forged = _with_keywords(statement, "inventory; demo-perm-si; 2025/2026")
    folder = with_inventory(tmp_path, demo_doc, statement, forged)
    result = run_cli("store", str(folder), "--source", "export.json", cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "demo-perm-si-inventory.pdf: документ не относится к этой выгрузке" in result.stderr
    assert "не данные документа вида «inventory»" in result.stderr
    assert stored_files(tmp_path) == []


def test_the_inventory_of_the_right_school_is_stored_without_a_class(
    tmp_path: Path, demo_doc: dict[str, Any], statement: bytes, inventory: bytes
) -> None:
    folder = with_inventory(tmp_path, demo_doc, statement, inventory)
    result = run_cli("store", str(folder), "--source", "export.json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    kept = [p for p in stored_files(tmp_path) if p.name == "demo-perm-si-inventory.pdf"]
    assert len(kept) == 2 and all(p.read_bytes() == inventory for p in kept)
    assert all("/_inventory/inventory/v1/" in p.as_posix() for p in kept)
    verified = run_cli("verify", cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def _with_keywords(pdf: bytes, keywords: str) -> bytes:
    from io import BytesIO

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(BytesIO(pdf)))
    writer.add_metadata({"/Keywords": keywords})
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
