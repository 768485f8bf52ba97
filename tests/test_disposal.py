"""Disposal «in 2032» on a real archive: a local copy and an S3 copy on moto's server.

The library's clock is set with ``ARCHIVER_TODAY``; S3 Object Lock keeps its own clock: the
moto server's (``s3_clock`` moves it, as if the test ran on a server in 2032). Every path that
could delete before ``retain_until`` is tried: the CLI with each flag and order, the library,
the backends, and the S3 API directly.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from pypdf import PdfReader

from archiver.archive.store import store_records
from archiver.sources.export_v1 import read_export
from archiver.storage.base import RetentionActive
from tests.fixtures.archive import ARTEM, SCHOOL, Archive, Year, record
from tests.fixtures.pki import PkiEnvironment
from tests.fixtures.storage import MotoS3, SignedPdf

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

IN_2032 = {"ARCHIVER_TODAY": "2032-01-10"}
PROTOCOL = "№ 3 от 09.01.2032"
Y1 = "2025/2026"
Y2 = "2026/2027"


@pytest.fixture(name="s3_clock")
def s3_clock_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Moves the clock of the moto S3 server (in this process) by a given time."""
    import moto.s3.models as s3_models

    real = s3_models.utcnow

    def move_to(moment: datetime) -> None:
        offset = moment.replace(tzinfo=None) - datetime.now(UTC).replace(tzinfo=None)
        monkeypatch.setattr(s3_models, "utcnow", lambda: real() + offset)

    yield move_to


@pytest.fixture(name="s3_school")
def s3_school_fixture(
    tmp_path: Path,
    school_years: tuple[Year, Year],
    signed_pdf: SignedPdf,
    moto_s3: MotoS3,
    locked_bucket: str,
    aws_env: dict[str, str],
) -> Archive:
    """Both years stored locally and on S3, the statements really rendered (they carry data)."""
    return Archive(tmp_path, school_years, signed_pdf, moto_s3, locked_bucket, statements=True)


def s3_versions(client: S3Client, bucket: str, prefix: str) -> list[dict[str, Any]]:
    listed = client.list_object_versions(Bucket=bucket, Prefix=f"journal/{prefix}/")
    return [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]


EXPIRED = [
    record(Y1, None, "journal_export"),
    record(Y1, "c5a", "class_journal"),
    record(Y1, "club1", "class_journal"),
]
HELD = record(Y1, "c1a", "class_journal")
KEPT = [
    HELD,
    record(Y1, "c5a", "final_marks"),
    record(Y2, None, "journal_export"),
    record(Y2, "c6a", "class_journal"),
    record(Y2, "c6a", "final_marks"),
]


def test_disposal_in_2032_with_a_local_and_an_s3_copy(
    s3_school: Archive, s3_client: S3Client, s3_clock: Any, test_pki: PkiEnvironment
) -> None:
    archive = s3_school
    archive.write_config(f'[signer]\nkind = "pkcs12"\npkcs12_file = "{test_pki.director_p12}"\n')
    signing = {**IN_2032, "ARCHIVER_SIGNER_PASSPHRASE": test_pki.p12_passphrase.decode()}
    bucket = archive.secondary.bucket  # type: ignore[attr-defined]
    assert archive.secondary_root is None

    early = archive.run("dispose", "draft", "--as-of", "2031-12-31", env=IN_2032)
    assert early.returncode == 0, early.stderr
    assert "нет" in early.stdout

    held = archive.run("hold", "add", HELD, "--reason", "апелляция родителей", env=IN_2032)
    assert held.returncode == 0, held.stderr

    draft = archive.run("dispose", "draft", "--json", env=IN_2032)
    assert draft.returncode == 0, draft.stderr
    act = draft.json()
    number = act["number"]
    assert number == "2032-1"
    listed = sorted(rid for item in act["items"] for rid in item["records"])
    assert listed == sorted(EXPIRED)
    assert any(HELD.rsplit("/", 1)[0] in line for line in act["held"])
    pdf_text = "".join(p.extract_text() for p in PdfReader(act["pdf"]).pages)
    assert "о выделении к уничтожению архивных документов" in pdf_text
    assert "ПРОЕКТ" in pdf_text

    # no approval: nothing can be executed, whatever the flags
    for flags in ((), ("--apply",)):
        refused = archive.run("dispose", "execute", number, *flags, env=signing)
        assert refused.returncode == 2, refused.stdout
        assert "утверждённого акта № 2032-1 в архиве нет" in refused.stderr

    bad = archive.run("dispose", "approve", number, "--protocol", "протокол три", env=IN_2032)
    assert bad.returncode == 2 and "№ 3 от 15.01.2032" in bad.stderr
    approved = archive.run("dispose", "approve", number, "--protocol", PROTOCOL, env=signing)
    assert approved.returncode == 0, approved.stderr
    assert "подпись: " in approved.stdout and "Кузнецова" in approved.stdout
    act_record = f"{SCHOOL}/_disposal/{number}/disposal_act/v1"
    assert (archive.primary_root / act_record / "bagit.txt").is_file()
    act_manifest = json.loads(
        (archive.primary_root / act_record / "archive-record.json").read_text()
    )
    assert "Кузнецова" in act_manifest["signature"]["signer"]
    assert s3_client.head_object(Bucket=bucket, Key=f"journal/{act_record}/bagit.txt")

    dry = archive.run("dispose", "execute", number, env=IN_2032)
    assert dry.returncode == 0, dry.stderr
    assert "ничего не удалено" in dry.stderr
    for rid in EXPIRED:
        assert (archive.primary_root / rid / "bagit.txt").is_file()

    # the library's clock says 2032, the S3 server's says today: Object Lock refuses
    refused = archive.run("dispose", "execute", number, "--apply", env=signing)
    assert refused.returncode == 1, refused.stdout
    assert "Object Lock" in refused.stderr
    for rid in EXPIRED:
        assert (archive.primary_root / rid / "bagit.txt").is_file()
        assert s3_versions(s3_client, bucket, rid)
    # ... and so does the S3 API, asked directly
    version = s3_versions(s3_client, bucket, EXPIRED[1])[0]
    with pytest.raises(ClientError):
        s3_client.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])

    s3_clock(datetime(2032, 1, 10, 12, tzinfo=UTC))
    done = archive.run("dispose", "execute", number, "--apply", "--json", env=signing)
    assert done.returncode == 0, done.stderr
    result = done.json()
    assert sorted(result["records"]) == sorted(EXPIRED)
    for rid in EXPIRED:
        assert not (archive.primary_root / rid).exists()
        assert s3_versions(s3_client, bucket, rid) == []
    for rid in KEPT:
        assert (archive.primary_root / rid / "bagit.txt").is_file(), rid
        assert s3_versions(s3_client, bucket, rid), rid

    pd_record = result["pd_act_record"]
    assert pd_record == f"{SCHOOL}/_disposal/{number}/pd_destruction_act/v1"
    pd_pdf = next((archive.primary_root / pd_record / "data").iterdir()).read_bytes()
    attachments = PdfReader(io.BytesIO(pd_pdf)).attachments
    pd = json.loads(attachments["pd-destruction-act.json"][0])
    assert sorted(pd["records"]) == sorted(EXPIRED)
    assert pd["subjects_count"] > 0
    assert any(s["id"] == ARTEM for s in pd["subjects"])
    extract = json.loads(attachments["access-log-extract.json"][0])
    assert {e["action"] for e in extract} >= {"dispose_approve", "dispose_execute"}
    pd_manifest = json.loads((archive.primary_root / pd_record / "archive-record.json").read_text())
    assert "Кузнецова" in pd_manifest["signature"]["signer"]
    head = s3_client.head_object(Bucket=bucket, Key=f"journal/{pd_record}/bagit.txt")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"].year == 2036  # 3 years from 1 January 2033

    checked = archive.run("verify", env=IN_2032)  # destroyed after their date: not «lost»
    assert checked.returncode == 0, checked.stdout + checked.stderr

    again = archive.run("dispose", "execute", number, "--apply", env=signing)
    assert again.returncode == 2 and "уже исполнен" in again.stderr

    found = archive.run("find", "Казаков", env=IN_2032)
    assert found.returncode == 0, found.stderr
    assert f"уничтожен по акту № {number}" in found.stdout
    assert record(Y1, "c5a", "final_marks") in found.stdout
    out = archive.tmp / "extract.pdf"
    extracted = archive.run(
        "extract", "--student", ARTEM, "--out", str(out), "--reason", "запрос", env=signing
    )
    assert extracted.returncode == 0, extracted.stderr
    assert out.is_file()


def test_nothing_is_deleted_before_the_date_by_any_path(
    archive: Archive, signed_pdf: SignedPdf
) -> None:
    """Local copies only: the library's clock set to 2032 never deletes while the real date is earlier."""
    unknown = archive.run("dispose", "approve", "2032-7", "--protocol", PROTOCOL, env=IN_2032)
    assert unknown.returncode == 2 and "проекта акта № 2032-7 нет" in unknown.stderr
    missing = archive.run(
        "hold", "add", f"{SCHOOL}/2019-2020/c5a/class_journal/v1", "--reason", "x"
    )
    assert missing.returncode == 2 and "в архиве нет" in missing.stderr
    draft = archive.run("dispose", "draft", "--json", env=IN_2032)
    number = draft.json()["number"]
    before = archive.run(
        "dispose", "approve", number, "--protocol", "№ 1 от 01.02.2032", env=IN_2032
    )
    assert before.returncode == 2 and "ещё не наступила" in before.stderr
    approved = archive.run("dispose", "approve", number, "--protocol", PROTOCOL, env=IN_2032)
    assert approved.returncode == 0, approved.stderr
    second = archive.run("dispose", "draft", "--json", env=IN_2032)  # all in the pending act
    assert second.returncode == 0 and second.json() is None, second.stdout
    for env in ({}, IN_2032, {"ARCHIVER_TODAY": "2049-06-01"}):
        refused = archive.run("dispose", "execute", number, "--apply", env=env)
        assert refused.returncode == 1, refused.stdout
        assert "не истёк" in refused.stderr
    assert archive.secondary_root is not None
    for root in (archive.primary_root, archive.secondary_root):
        for rid in EXPIRED:
            assert (root / rid / "bagit.txt").is_file()
    # a version stored after the approval is not in the act: the whole act is refused
    year = archive.years[0]
    export = read_export(year.export, name=year.name).export
    assert export is not None
    corrected = archive.tmp / "fix" / "c5a-class-journal.pdf"
    corrected.parent.mkdir()
    corrected.write_bytes(signed_pdf("class_journal", "c5a", year=Y1, note="исправлено"))
    store_records(
        export,
        year.export,
        "export.json",
        [corrected],
        [archive.primary, archive.secondary],
        correction="опечатка в теме урока",
    )
    refused = archive.run("dispose", "execute", number, env=IN_2032)
    assert refused.returncode == 1 and "добавлена версия" in refused.stderr
    # a hold placed after the approval refuses the whole act
    held = archive.run("hold", "add", "--pupil", ARTEM, "--reason", "запрос суда", env=IN_2032)
    assert held.returncode == 0, held.stderr
    refused = archive.run("dispose", "execute", number, env=IN_2032)
    assert refused.returncode == 1 and "запрос суда" in refused.stderr
    listed = archive.run("hold", "list", "--json")
    number_of_hold = listed.json()[0]["number"]
    lifted = archive.run("hold", "remove", str(number_of_hold), "--reason", "решение суда")
    assert lifted.returncode == 0, lifted.stderr
    assert archive.run("hold", "list", "--json").json() == []
    # the access log keeps both, chained
    assert archive.run("log", "verify").returncode == 0


def test_backends_refuse_before_retain_until(s3_archive: Archive, s3_client: S3Client) -> None:
    rid = EXPIRED[1]
    until = datetime(2032, 1, 1, tzinfo=UTC) - timedelta(hours=5)
    for location in (s3_archive.primary, s3_archive.secondary):
        with pytest.raises(RetentionActive):
            location.destroy(rid, until, datetime(2031, 12, 31, tzinfo=UTC))
    # the library's clock says later; the S3 server's real clock refuses anyway
    with pytest.raises(RetentionActive, match="Object Lock"):
        s3_archive.secondary.destroy(rid, until, datetime(2032, 2, 1, tzinfo=UTC))
    bucket = s3_archive.secondary.bucket  # type: ignore[attr-defined]
    assert len(s3_versions(s3_client, bucket, rid)) == 11  # payload, 7 tag files, README, 2 certs
    assert (s3_archive.primary_root / rid / "bagit.txt").is_file()
