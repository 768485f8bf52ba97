"""``archiver renew`` on a real archive (local copy + S3 on moto) of B-LTA documents.

The documents are signed at PAdES B-LTA with the test PKI, their document timestamps made by
``tsa-short``, a TSA whose certificate expires on 2027-06-01 (within the 2-year margin). The
renewal takes a new timestamp from ``tsa`` (valid till 2150) through the real certomancer
service, and the result is checked by pyHanko's own command line.
"""

from __future__ import annotations

import subprocess
import sys
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from archiver.archive.renew import newest_timestamp
from archiver.archive.store import store_records
from archiver.signing.check import check_document
from archiver.sources.export_v1 import read_export
from archiver.storage.local import LocalStorage
from archiver.storage.s3 import S3Storage
from tests.fixtures.archive import SCHOOL, Year
from tests.fixtures.cli import CliResult, run_cli
from tests.fixtures.pki import PkiEnvironment
from tests.fixtures.storage import MotoS3, tiny_pdf

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

Y1 = "2025-2026"


def lta_pdf(pki: PkiEnvironment, keywords: str) -> bytes:
    """A tiny PDF signed at B-LTA by the director, its timestamps from ``tsa-short``."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers, timestamps
    from pyhanko_certvalidator import ValidationContext

    signer = signers.SimpleSigner.load_pkcs12(str(pki.director_p12), passphrase=pki.p12_passphrase)
    assert signer is not None
    context = ValidationContext(trust_roots=[pki.cert("root")], allow_fetching=True)
    meta = signers.PdfSignatureMetadata(
        field_name="Director",
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        embed_validation_info=True,
        use_pades_lta=True,
        validation_context=context,
    )
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(BytesIO(tiny_pdf(keywords))),
        meta,
        signer=signer,
        timestamper=timestamps.HTTPTimeStamper(pki.tsa_short_url),
    )
    return out.getvalue()


@pytest.fixture(name="lta_archive")
def lta_archive_fixture(
    tmp_path: Path,
    school_years: tuple[Year, Year],
    test_pki: PkiEnvironment,
    moto_s3: MotoS3,
    locked_bucket: str,
    aws_env: dict[str, str],
) -> Path:
    """The first year's export and two B-LTA documents stored locally and on S3; archiver.toml."""
    year = school_years[0]
    export = read_export(year.export, name=year.name).export
    assert export is not None
    docs = tmp_path / "docs"
    docs.mkdir()
    paths = []
    for name, keywords in (
        ("c5a-class-journal.pdf", "class_journal; c5a; 2025/2026"),
        ("c5a-final-marks.pdf", "final_marks; c5a; 2025/2026"),
    ):
        path = docs / name
        path.write_bytes(lta_pdf(test_pki, keywords))
        paths.append(path)
    (tmp_path / "nas").mkdir()
    locations = [
        LocalStorage("primary", tmp_path / "nas"),
        S3Storage(
            "secondary",
            locked_bucket,
            "journal/",
            endpoint_url=moto_s3.endpoint_url,
            region="us-east-1",
        ),
    ]
    store_records(export, year.export, "export.json", paths, locations)
    (tmp_path / "archiver.toml").write_text(
        '[storage.primary]\nkind = "local"\npath = "nas"\n\n'
        f'[storage.secondary]\nkind = "s3"\nbucket = "{locked_bucket}"\nprefix = "journal/"\n'
        f'endpoint_url = "{moto_s3.endpoint_url}"\nregion = "us-east-1"\n\n'
        f'[signature]\ntsa_url = "{test_pki.tsa_url}"\n'
        f'trust_roots = ["{test_pki.root_cert_path}"]\n',
        encoding="utf-8",
    )
    return tmp_path


def run(folder: Path, *args: str) -> CliResult:
    return run_cli(*args, "--config", str(folder / "archiver.toml"), cwd=folder, timeout=300)


def test_renew_adds_a_timestamp_as_a_new_version_in_both_copies(
    lta_archive: Path, test_pki: PkiEnvironment, s3_client: S3Client, locked_bucket: str
) -> None:
    folder = lta_archive
    journal = f"{SCHOOL}/{Y1}/c5a/class_journal"
    statement = f"{SCHOOL}/{Y1}/c5a/final_marks"

    deep = run(folder, "verify", "--deep")
    assert deep.returncode == 0, deep.stdout + deep.stderr
    assert (
        f"{journal}/v1: подпись действительна; метка времени требует продления до 01.06.2027"
        in deep.stdout
    )

    dry = run(folder, "renew", "--json")
    assert dry.returncode == 0, dry.stderr
    plan = dry.json()
    due = sorted(r["record_id"] for r in plan["records"] if r["due"])
    assert due == [f"{journal}/v1", f"{statement}/v1"]
    assert all("01.06.2027" in r["reason"] for r in plan["records"] if r["due"])
    assert not (folder / "nas" / journal / "v2").exists()  # a dry run writes nothing

    applied = run(folder, "renew", "--apply")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert f"Продлено: {journal}/v1 → {journal}/v2" in applied.stdout

    for series in (journal, statement):
        new = next((folder / "nas" / series / "v2" / "data").iterdir())
        old = next((folder / "nas" / series / "v1" / "data").iterdir())
        assert new.read_bytes().startswith(old.read_bytes())  # an incremental update
        stamp = newest_timestamp(new.read_bytes())
        assert stamp is not None and stamp.count == 2 and stamp.tsa_not_after.year == 2150
        key = f"journal/{series}/v2/data/{new.name}"
        head = s3_client.head_object(Bucket=locked_bucket, Key=key)
        old_head = s3_client.head_object(
            Bucket=locked_bucket, Key=f"journal/{series}/v1/data/{old.name}"
        )
        assert head["ObjectLockMode"] == old_head["ObjectLockMode"] == "COMPLIANCE"
        assert head["ObjectLockRetainUntilDate"] == old_head["ObjectLockRetainUntilDate"]
        checked = subprocess.run(
            [
                str(Path(sys.executable).parent / "pyhanko"),
                "sign",
                "adesverify",
                "--trust",
                str(test_pki.root_cert_path),
                "--trust-replace",
                "--executive-summary",
                str(new),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        (line,) = [x for x in checked.stdout.splitlines() if x.startswith("Director:")]
        assert line.endswith(":VALID"), checked.stdout
        # the AdES verdict itself (pyHanko's summary says VALID for weaker levels too)
        report = check_document(new, [test_pki.cert("root")])
        assert report.ok, report.message
        signature = next(s for s in report.signatures if s.kind == "signature")
        assert signature.level == "B-LTA" and signature.ades_indication == "AdESPassed"

    manifest = (folder / "nas" / journal / "v2" / "archive-record.json").read_text("utf-8")
    assert "продление метки времени" in manifest and f"{journal}/v1" in manifest

    again = run(folder, "renew", "--json")
    assert again.returncode == 0, again.stderr
    assert [r for r in again.json()["records"] if r["due"]] == []
    deep = run(folder, "verify", "--deep")
    assert deep.returncode == 0, deep.stdout + deep.stderr
    assert (
        f"{journal}/v2: подпись действительна; метка времени в порядке, продлить до" in deep.stdout
    )
    assert f"{journal}/v1: подпись" not in deep.stdout
