"""``archiver store`` in a real process: two copies, BagIt records, locks, versions, crashes.

The primary location is a local folder, the secondary an S3 bucket with Object Lock on
moto's server (HTTP on 127.0.0.1). Every outcome is checked without archiver's code:
bags with the ``bagit`` library (full hash validation), S3 with its own boto3 client,
files with ``os.stat``. The crash tests kill the store process with SIGKILL at several
points (``ARCHIVER_TEST_CRASH_AFTER``), check that nothing half-written carries a final
name, run the command again and check the finished archive.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import bagit
import pytest

from archiver import __version__
from archiver.archive.record import MARKER, RecordManifest, bag_files, identify_document
from archiver.archive.store import COMPLETED, STORED, UNCHANGED, RecordConflict, store_records
from archiver.errors import ExitCode
from archiver.retention import load_policy, retain_until
from archiver.settings import ConfigError, LocalLocation, S3Location, load_settings
from archiver.signing.signer_of import signer_of
from archiver.sources.export_v1 import read_export
from archiver.storage.local import LocalStorage
from archiver.storage.s3 import S3Storage
from tests.fixtures.pki import PkiEnvironment
from tests.fixtures.sites import PREFIX, SCHOOL, YEAR, Site
from tests.fixtures.spec_export import SPEC_EXPORT
from tests.fixtures.storage import MotoS3, SignedPdf, journal_manifest, tiny_pdf

RECORDS = {
    f"{SCHOOL}/{YEAR}/_export/journal_export/v1": "2032-01-01T00:00:00+05:00",
    f"{SCHOOL}/{YEAR}/5a/class_journal/v1": "2032-01-01T00:00:00+05:00",
    f"{SCHOOL}/{YEAR}/5a/final_marks/v1": "2052-01-01T00:00:00+05:00",
    f"{SCHOOL}/{YEAR}/1a/class_journal/v1": "2032-01-01T00:00:00+05:00",
}


def complete_records(files: dict[str, bytes]) -> set[str]:
    return {key.rsplit("/", 1)[0] for key in files if key.endswith("/" + MARKER)}


def assert_bag_valid(path: Path) -> bagit.Bag:
    bag = bagit.Bag(str(path))
    bag.validate(fast=False)  # fast=True checks sizes only and misses a flipped byte
    return bag


def assert_archive_complete(site: Site, records: dict[str, str]) -> None:
    """Every record complete, valid and byte-identical in both locations, locked on S3."""
    local, remote = site.local_files(), site.s3_files()
    assert local == remote
    assert complete_records(local) == set(records)
    for versions in site.s3_versions().values():
        assert len(versions) == 1  # nothing was ever overwritten
    for record, until in records.items():
        bag = assert_bag_valid(site.nas / record)
        assert bag.info["External-Identifier"] == record
        assert bag.info["Archiver-Retain-Until"] == until
        assert_bag_valid(site.download_bag(record, remote))
        for key in local:
            if key.startswith(record + "/"):
                head = site.s3.head_object(Bucket=site.bucket, Key=PREFIX + key)
                assert head["ObjectLockMode"] == "COMPLIANCE"
                assert head["ObjectLockRetainUntilDate"] == datetime.fromisoformat(until)
                assert head["ServerSideEncryption"] == "AES256"
                assert (site.nas / key).stat().st_mode & 0o777 == 0o444
        assert (site.nas / record).stat().st_mode & 0o777 == 0o555
    assert list((site.nas / ".incoming").iterdir()) == []


# -- the whole command


def test_store_writes_two_verified_copies(site: Site, test_pki: PkiEnvironment) -> None:
    result = site.run(str(site.docs))
    assert result.returncode == 0, result.stderr
    assert "Сохранено: журнал 5 «А», версия 1, хранить до 01.01.2032" in result.stdout
    assert "Сохранено: сводная ведомость 5 «А», версия 1, хранить до 01.01.2052" in result.stdout
    assert "Сохранено: выгрузка журнала export.json" in result.stdout
    assert "Готово: записей 4 (новых 4, без изменений 0, дописано 0)" in result.stdout
    assert "Хранилище «secondary» доступно" in result.stderr
    assert_archive_complete(site, RECORDS)

    export_sha = hashlib.sha256(site.export.read_bytes()).hexdigest()
    director = hashlib.sha256(test_pki.cert_der("director")).hexdigest()
    record = f"{SCHOOL}/{YEAR}/5a/final_marks/v1"
    manifest = json.loads((site.nas / record / "archive-record.json").read_text("utf-8"))
    pdf = site.doc_path("final_marks", "5a").read_bytes()
    assert manifest["record_id"] == record
    assert manifest["kind"] == "final_marks"
    assert manifest["school"]["id"] == SCHOOL
    assert manifest["academic_year"] == "2025/2026"
    assert manifest["class"]["id"] == "5a"
    assert manifest["file"] == {
        "name": "5a-final-marks.pdf",
        "path": "data/5a-final-marks.pdf",
        "media_type": "application/pdf",
        "size": len(pdf),
        "sha256": hashlib.sha256(pdf).hexdigest(),
        "sha512": hashlib.sha512(pdf).hexdigest(),
    }
    assert manifest["retention"]["policy"] == "final_marks"
    assert manifest["retention"]["years"] == 25
    assert manifest["retention"]["retain_until"] == "2052-01-01T00:00:00+05:00"
    assert manifest["signature"]["signer_cert_sha256"] == director
    assert manifest["source_export_sha256"] == export_sha
    assert manifest["software"] == {"name": "archiver", "version": __version__}
    assert datetime.fromisoformat(manifest["stored_at"]).tzinfo is not None
    assert (site.nas / record / "data/5a-final-marks.pdf").read_bytes() == pdf
    export_record = f"{SCHOOL}/{YEAR}/_export/journal_export/v1"
    assert (site.nas / export_record / "data/export.json").read_bytes() == (
        site.export.read_bytes()
    )
    # The manifests are plain text a person can check with sha256sum in 2050.
    line = (site.nas / record / "manifest-sha256.txt").read_text("utf-8")
    assert line == f"{hashlib.sha256(pdf).hexdigest()}  data/5a-final-marks.pdf\n"


def test_storing_again_changes_nothing(site: Site) -> None:
    assert site.run(str(site.docs)).returncode == 0
    before_local = {p: p.stat().st_mtime_ns for p in site.nas.rglob("*")}
    before_s3 = site.s3_versions()
    again = site.run(str(site.docs))
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("Уже в архиве, без изменений") == 4
    assert "Готово: записей 4 (новых 0, без изменений 4, дописано 0)" in again.stdout
    assert {p: p.stat().st_mtime_ns for p in site.nas.rglob("*")} == before_local
    assert site.s3_versions() == before_s3


def test_a_different_document_needs_a_correction(site: Site) -> None:
    assert site.run(str(site.docs)).returncode == 0
    snapshot = site.local_files()
    site.write_doc("class_journal", "5a", note="исправленный")
    refused = site.run(str(site.docs))
    assert refused.returncode == 2
    assert "в архиве уже есть другой документ" in refused.stderr
    assert "--correction" in refused.stderr
    assert site.local_files() == snapshot and site.s3_files() == snapshot

    corrected = site.run(str(site.docs), "--correction", "исправлена тема урока 12.09")
    assert corrected.returncode == 0, corrected.stderr
    assert "Сохранено: журнал 5 «А», версия 2" in corrected.stdout
    assert corrected.stdout.count("Уже в архиве, без изменений") == 3
    records = {**RECORDS, f"{SCHOOL}/{YEAR}/5a/class_journal/v2": "2032-01-01T00:00:00+05:00"}
    assert_archive_complete(site, records)
    files = site.local_files()
    assert all(files[key] == data for key, data in snapshot.items())  # version 1 untouched
    v2 = json.loads(files[f"{SCHOOL}/{YEAR}/5a/class_journal/v2/archive-record.json"])
    assert v2["version"] == 2
    assert v2["correction"] == {
        "reason": "исправлена тема урока 12.09",
        "replaces": f"{SCHOOL}/{YEAR}/5a/class_journal/v1",
    }
    assert site.run(str(site.docs), "--correction", "ещё раз").stdout.count("Уже в архиве") == 4


def test_unsigned_documents_are_refused(site: Site) -> None:
    site.write_doc("final_marks", "5a", signed=False)
    result = site.run(str(site.docs))
    assert result.returncode == 2
    assert "5a-final-marks.pdf: документ не подписан электронной подписью" in result.stderr
    assert "ничего не записано" in result.stderr
    assert site.local_files() == {} and site.s3_versions() == {}


def test_bucket_without_object_lock(site: Site) -> None:
    site.s3.create_bucket(Bucket=f"{site.bucket}-plain")
    site.s3.put_bucket_versioning(
        Bucket=f"{site.bucket}-plain", VersioningConfiguration={"Status": "Enabled"}
    )
    text = site.config.read_text("utf-8").replace(site.bucket, f"{site.bucket}-plain")
    site.config.write_text(text, "utf-8")
    result = site.run(str(site.docs))
    assert result.returncode == ExitCode.FAILURE
    assert "не включена блокировка объектов (S3 Object Lock)" in result.stderr
    assert site.local_files() == {}


def test_json_output_and_files(site: Site) -> None:
    doc = site.doc_path("class_journal", "1a")
    result = site.run(str(doc), "--json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert [r["record_id"] for r in records] == [
        f"{SCHOOL}/{YEAR}/_export/journal_export/v1",
        f"{SCHOOL}/{YEAR}/1a/class_journal/v1",
    ]
    journal = records[1]
    assert journal["status"] == "stored"
    assert journal["sha256"] == hashlib.sha256(doc.read_bytes()).hexdigest()
    primary, secondary = journal["copies"]
    assert primary["location"] == "primary" and primary["version_ids"] == {}
    assert secondary["url"] == f"s3://{site.bucket}/{PREFIX}{SCHOOL}/{YEAR}/1a/class_journal/v1"
    versions = site.s3_versions()
    for path, version_id in secondary["version_ids"].items():
        key = f"{SCHOOL}/{YEAR}/1a/class_journal/v1/{path}"
        assert [v["VersionId"] for v in versions[key]] == [version_id]
    # payload, 7 tag files, README.txt, certs/signer-chain.pem, certs/roots.pem (B-B: no TSA)
    assert len(secondary["version_ids"]) == 11
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert events[-2:] == [
        {
            "stage": "store",
            "event": "step",
            "done": 2,
            "total": 2,
            "item": journal["record_id"],
            "status": "stored",
        },
        {"stage": "store", "event": "done", "done": 2, "total": 2},
    ]


def test_configured_time_zone(site: Site) -> None:
    text = site.config.read_text("utf-8")
    site.config.write_text('[storage]\ntimezone = "Europe/Moscow"\n' + text, "utf-8")
    result = site.run(str(site.doc_path("final_marks", "5a")), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[1]["retain_until"] == "2052-01-01T00:00:00+03:00"


def test_usage_errors(site: Site) -> None:
    result = site.run(str(site.tmp / "nothing"))
    assert result.returncode == 2 and "нет такого файла или папки" in result.stderr
    result = site.run(str(site.docs), "--correction", "  ")
    assert result.returncode == 2 and "причина исправления не может быть пустой" in result.stderr
    wrong_year = site.tmp / "other" / "5a-class-journal.pdf"
    wrong_year.parent.mkdir()
    wrong_year.write_bytes(site.signed_pdf("class_journal", "5a", year="2024/2025"))
    result = site.run(str(wrong_year))
    assert result.returncode == 2 and "документ за 2024/2025 учебный год" in result.stderr
    club = site.write_doc("final_marks", "club1")  # a club promotes nobody: no statement
    result = site.run(str(club), str(site.tmp / "other"))
    assert result.returncode == 2 and "никого не переводят" in result.stderr
    assert "документ за 2024/2025 учебный год" in result.stderr  # every problem is listed
    help_text = site.run("--help")
    assert "Сохранить подписанные документы и выгрузку в архив" in help_text.stdout
    assert site.local_files() == {}


# -- crashes


# Crash points of a run storing the export and one journal (50 per record, after the 4 of
# the locations' identity markers): 1 half of the location marker in a temporary file; 7
# first file under its final name, temporary file left; 34 every file in the folder, one on
# S3; 52 the folder's marker written, S3's not (the record is complete in one location
# only); 79 half-way through the second record.
@pytest.mark.parametrize("crash_after", [1, 7, 34, 52, 79])
def test_killed_run_is_completed_by_the_next(site: Site, crash_after: int) -> None:
    """SIGKILL at a point of the run: no partial object under a final name, copies agree;
    running the same command again finishes the archive, changing nothing already written."""
    journal = str(site.doc_path("class_journal", "1a"))
    records = {k: v for k, v in RECORDS.items() if "/5a/" not in k}
    killed = site.run(journal, ARCHIVER_TEST_CRASH_AFTER=str(crash_after))
    assert killed.returncode == -9, killed.stdout + killed.stderr

    local, remote = site.local_files(), site.s3_files()
    leftovers = list((site.nas / ".incoming").iterdir())
    assert all(p.suffix == ".part" for p in leftovers)  # temporary names only
    assert local or remote or leftovers
    for versions in site.s3_versions().values():
        assert len(versions) == 1
    for files, bag_root in ((local, site.nas), (remote, None)):
        for record in complete_records(files):
            # a marker is written only after both copies of everything else were verified
            for key in {**local, **remote}:
                if key.startswith(record + "/") and not key.endswith("/" + MARKER):
                    assert local[key] == remote[key]
            assert_bag_valid(bag_root / record if bag_root else site.download_bag(record, remote))

    rerun = site.run(journal)
    assert rerun.returncode == 0, rerun.stderr
    assert ("Дописано" in rerun.stdout) == bool(local or remote)
    assert_archive_complete(site, records)
    final = site.local_files()
    for key, data in {**local, **remote}.items():
        assert final[key] == data  # everything written before the kill was whole, and kept


# -- the library and the configuration, in process


def test_library_statuses_and_progress(
    tmp_path: Path, moto_s3: MotoS3, locked_bucket: str, signed_pdf: SignedPdf
) -> None:
    raw = SPEC_EXPORT.read_bytes()
    export = read_export(raw).export
    assert export is not None
    doc = tmp_path / "5a-final-marks.pdf"
    doc.write_bytes(signed_pdf("final_marks", "5a"))
    (tmp_path / "nas").mkdir()
    locations = [
        LocalStorage("primary", tmp_path / "nas"),
        S3Storage("secondary", locked_bucket, endpoint_url=moto_s3.endpoint_url),
    ]
    events: list[str] = []
    results = store_records(
        export, raw, "export.json", [doc], locations, progress=lambda e: events.append(e.event)
    )
    assert [r.status for r in results] == [STORED, STORED]
    assert events[:3] == ["start", "location", "location"]
    assert events[-2:] == ["step", "done"]
    # a copy lost its marker (as if killed between the two markers): completed, not rewritten
    record = tmp_path / "nas" / results[1].record_id
    record.chmod(0o755)
    (record / MARKER).unlink()
    again = store_records(export, raw, "export.json", [doc], locations)
    assert [r.status for r in again] == [UNCHANGED, COMPLETED]
    assert [c.status for c in again[1].copies] == ["completed", "present"]
    other = tmp_path / "other" / "5a-final-marks.pdf"
    other.parent.mkdir()
    other.write_bytes(signed_pdf("final_marks", "5a", note="v2"))
    with pytest.raises(RecordConflict, match="--correction"):
        store_records(export, raw, "export.json", [other], locations)


def test_records_are_deterministic_bags(signed_pdf: SignedPdf, tmp_path: Path) -> None:
    pdf = signed_pdf("class_journal", "5a")
    assert identify_document(pdf, "x.pdf") is not None
    signer = signer_of(pdf)
    assert signer is not None and "Кузнецова" in signer.subject
    assert signer_of(tiny_pdf(None)) is None
    manifest = journal_manifest(
        pdf, signer_cert_sha256=signer.cert_sha256, signer_subject=signer.subject
    )
    assert RecordManifest.loads(manifest.dumps()) == manifest
    files = bag_files(manifest, manifest.dumps(), pdf)
    assert files == bag_files(manifest, manifest.dumps(), pdf)
    assert files[0].path == "data/5a-class-journal.pdf" and files[-1].path == MARKER
    for file in files:
        (tmp_path / file.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / file.path).write_bytes(file.data)
    assert_bag_valid(tmp_path)
    with pytest.raises(ValueError):
        bag_files(manifest, manifest.dumps(), pdf + b"\n")


def test_retain_until_of_the_policies(spec_export_doc: dict[str, Any]) -> None:
    export = read_export(json.dumps(spec_export_doc).encode()).export
    assert export is not None
    zone = export.exported_at.tzinfo
    assert zone is not None
    expected = {
        "class_journal": "2032-01-01T00:00:00+05:00",
        "final_marks": "2052-01-01T00:00:00+05:00",
        "journal_export": "2032-01-01T00:00:00+05:00",
    }
    for kind, until in expected.items():
        years = load_policy(kind).years
        assert retain_until(export.academic_year.closing_year, years, zone).isoformat() == until


def test_rendered_documents_are_identified(tmp_path: Path, spec_export_doc: dict[str, Any]) -> None:
    from archiver.render.bundle import ClassRenderer

    export = read_export(json.dumps(spec_export_doc).encode()).export
    assert export is not None
    written = ClassRenderer(export).render_class("club1", tmp_path)
    identity = identify_document(written[0].path.read_bytes(), "renamed.pdf")
    assert identity is not None
    assert (identity.kind, identity.class_id, identity.academic_year) == (
        "class_journal",
        "club1",
        "2025/2026",
    )


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "archiver.toml"
    path.write_text(text, encoding="utf-8")
    return path


LOCAL_AND_S3 = (
    '[storage.primary]\nkind = "local"\npath = "nas"\n'
    '[storage.secondary]\nkind = "s3"\nbucket = "b1"\nprefix = "/a/"\n'
    'endpoint_url = "https://s3.example.ru"\nprofile = "archive"\n'
)


def test_storage_config(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, LOCAL_AND_S3)).require_storage()
    assert settings.primary == LocalLocation(path=tmp_path / "nas")
    assert settings.secondary == S3Location(
        bucket="b1", prefix="a/", endpoint_url="https://s3.example.ru", profile="archive"
    )
    assert settings.timezone is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[storage.primary]\nkind = "local"\npath = "nas"\n', r"нет раздела \[storage.secondary\]"),
        ('[storage]\ntimezone = "Asia/Yekaterinburg"\n', r"нет раздела \[storage.primary\]"),
        (
            LOCAL_AND_S3.replace('profile = "archive"', 'aws_secret_access_key = "x"'),
            r"storage.secondary.aws_secret_access_key: ключи доступа не хранятся",
        ),
        (LOCAL_AND_S3.replace('kind = "s3"', 'kind = "ftp"'), r"storage.secondary.kind"),
        (LOCAL_AND_S3.replace("endpoint_url", "endpoint"), r"storage.secondary.endpoint:"),
        (LOCAL_AND_S3.replace('bucket = "b1"\n', ""), r"storage.secondary.bucket"),
        (
            '[storage.primary]\nkind = "local"\npath = "nas"\n'
            '[storage.secondary]\nkind = "local"\npath = "nas/copy"\n',
            "в разных местах",
        ),
        ('[storage]\ntimezone = "Mars/Olympus"\n' + LOCAL_AND_S3, r"storage.timezone"),
        ("[storage\n", "ошибка в файле настроек"),
    ],
)
def test_storage_config_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as error:
        load_settings(path).require_storage()
    assert str(path) in str(error.value)


def test_no_storage_section(tmp_path: Path) -> None:
    path = write_config(tmp_path, "")
    settings = load_settings(path)  # enough for commands that do not store
    with pytest.raises(ConfigError, match=r"нет раздела \[storage\]") as error:
        settings.require_storage()
    assert str(path) in str(error.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="не найден"):
        load_settings(tmp_path / "archiver.toml")
