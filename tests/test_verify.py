"""``archiver verify`` in a real process: damaged, missing and untracked copies; repairs; samples.

The archive is written by ``archiver store`` (``Site`` of tests/fixtures/sites.py): a local
folder (``primary``) and an S3 bucket with Object Lock on moto's server (``secondary``),
four records (the export, 5a's journal and summary statement, 1a's journal), documents
signed by the test PKI's director.

Damage is done the way it happens outside archiver, without bypassing anything:

* on the local disk someone lifts the read-only modes and edits or removes files
  (bit rot looks the same);
* on S3 someone with ordinary write access (``s3:PutObject``/``s3:DeleteObject``, no
  governance bypass) puts a new, unlocked version over an object or deletes it: Object
  Lock keeps the locked versions, but the *current* object is then wrong or gone
  (a delete marker). That is what an S3 copy can realistically suffer; the locked
  original versions cannot be removed, and moto enforces that like AWS does.

Each outcome is checked independently of archiver: files with ``os.stat`` and their
bytes, S3 with its own boto3 client.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from datetime import datetime
from typing import Any

import pytest

from archiver.archive.record import RECORD_FILE, RecordManifest, bag_files
from archiver.archive.verify import expected_files
from tests.fixtures.cli import CliResult, run_cli
from tests.fixtures.pki import PkiEnvironment
from tests.fixtures.sites import PREFIX, SCHOOL, YEAR, Site
from tests.fixtures.storage import SignedPdf, journal_manifest

EXPORT = f"{SCHOOL}/{YEAR}/_export/journal_export/v1"
JOURNAL_5A = f"{SCHOOL}/{YEAR}/5a/class_journal/v1"
MARKS_5A = f"{SCHOOL}/{YEAR}/5a/final_marks/v1"
JOURNAL_1A = f"{SCHOOL}/{YEAR}/1a/class_journal/v1"
ALL = {EXPORT, JOURNAL_5A, MARKS_5A, JOURNAL_1A}


@pytest.fixture
def site(site: Site, test_pki: PkiEnvironment) -> Site:
    """The four records stored in both locations; trust roots configured."""
    with site.config.open("a", encoding="utf-8") as handle:
        handle.write(f'\n[signature]\ntrust_roots = ["{test_pki.root_cert_path}"]\n')
    stored = site.run(str(site.docs))
    assert stored.returncode == 0, stored.stderr
    return site


def verify(site: Site, *args: str) -> tuple[CliResult, dict[str, Any]]:
    """``archiver verify --config … ARGS`` in a new process; the JSON report when ``--json``."""
    result = run_cli("verify", "--config", str(site.config), *args, cwd=site.tmp)
    data = json.loads(result.stdout) if "--json" in args and result.stdout.strip() else {}
    return result, data


def location(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(loc for loc in report["locations"] if loc["name"] == name)


def ids(items: list[dict[str, Any]]) -> set[str]:
    return {item["record_id"] for item in items}


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {r["record_id"]: r["status"] for r in report["records"]}


# -- damage, as done outside archiver


def local_edit(site: Site, key: str, data: bytes | None) -> None:
    """Lift the modes, replace (or with ``None`` remove) a file, put the modes back."""
    path = site.nas / key
    path.parent.chmod(0o755)
    if data is None:
        os.remove(path)
    else:
        if path.exists():
            path.chmod(0o644)
        path.write_bytes(data)
        path.chmod(0o444)
    path.parent.chmod(0o555)


def flipped(data: bytes, offset: int | None = None) -> bytes:
    changed = bytearray(data)
    changed[len(data) // 2 if offset is None else offset] ^= 0x01
    return bytes(changed)


def s3_keys(site: Site, prefix: str) -> list[str]:
    found = site.s3.list_objects_v2(Bucket=site.bucket, Prefix=PREFIX + prefix)
    return [item["Key"][len(PREFIX) :] for item in found.get("Contents", [])]


def s3_get(site: Site, key: str) -> bytes:
    return site.s3.get_object(Bucket=site.bucket, Key=PREFIX + key)["Body"].read()


# -- the scenario of the issue: find, repair, find again


def test_verify_finds_and_repairs(site: Site) -> None:
    clean, report = verify(site, "--json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert report["clean"] and statuses(report) == dict.fromkeys(ALL, "ok")
    assert (site.tmp / "state" / "verify-state.json").exists()

    journal_key = f"{JOURNAL_5A}/data/5a-class-journal.pdf"
    journal = (site.nas / journal_key).read_bytes()
    marks = {key: s3_get(site, key) for key in s3_keys(site, MARKS_5A + "/")}
    assert len(marks) == 11  # the bag: payload, 7 tag files, README.txt and 2 certificate files
    # 1. a flipped byte in the local copy of 5a's journal
    local_edit(site, journal_key, flipped(journal))
    # 2. the S3 copy of 5a's summary statement deleted (delete markers on every object)
    for key in marks:
        site.s3.delete_object(Bucket=site.bucket, Key=PREFIX + key)
    # 3. both copies of 1a's journal damaged: a flipped byte locally, a new version on S3
    journal_1a = f"{JOURNAL_1A}/data/1a-class-journal.pdf"
    local_edit(site, journal_1a, flipped((site.nas / journal_1a).read_bytes()))
    site.s3.put_object(Bucket=site.bucket, Key=PREFIX + journal_1a, Body=b"%PDF-1.7 replaced")
    # 4. objects nobody recorded, in each location
    (site.nas / SCHOOL / YEAR).chmod(0o755)
    (site.nas / SCHOOL / YEAR / "stray.txt").write_text("забытая заметка", encoding="utf-8")
    site.s3.put_object(Bucket=site.bucket, Key=f"{PREFIX}{SCHOOL}/{YEAR}/5a/notes.txt", Body=b"x")

    found, report = verify(site, "--json")
    assert found.returncode == 1, found.stderr
    assert not report["clean"]
    assert statuses(report) == {
        EXPORT: "ok",
        JOURNAL_5A: "damaged",
        MARKS_5A: "damaged",
        JOURNAL_1A: "unrecoverable",
    }
    primary, secondary = location(report, "primary"), location(report, "secondary")
    assert ids(primary["changed"]) == {JOURNAL_5A, JOURNAL_1A}
    changed = next(c for c in primary["changed"] if c["record_id"] == JOURNAL_5A)
    assert [(f["path"], f["problem"]) for f in changed["files"]] == [
        ("data/5a-class-journal.pdf", "changed")
    ]
    assert changed["files"][0]["expected_sha256"] == hashlib.sha256(journal).hexdigest()
    assert changed["url"] == str(site.nas / JOURNAL_5A)
    assert ids(secondary["missing"]) == {MARKS_5A}
    assert ids(secondary["changed"]) == {JOURNAL_1A}
    assert primary["missing"] == [] and location(report, "secondary")["unreadable"] == []
    assert [(u["key"], u["reason"]) for u in primary["untracked"]] == [
        (f"{SCHOOL}/{YEAR}/stray.txt", "unknown")
    ]
    assert [(u["key"], u["reason"]) for u in secondary["untracked"]] == [
        (f"{SCHOOL}/{YEAR}/5a/notes.txt", "unknown")
    ]
    assert report["unrecoverable"] == [JOURNAL_1A]
    assert report["repairs"] == []
    assert not (site.tmp / "state" / "verify-repairs.log").exists()

    repaired, report = verify(site, "--repair", "--json")
    assert repaired.returncode == 1, repaired.stderr  # something was wrong
    assert statuses(report) == {
        EXPORT: "ok",
        JOURNAL_5A: "repaired",
        MARKS_5A: "repaired",
        JOURNAL_1A: "unrecoverable",
    }
    repairs = report["repairs"]
    assert [(r["record_id"], r["location"], r["path"], r["source"]) for r in repairs[:1]] == [
        (JOURNAL_5A, "primary", "data/5a-class-journal.pdf", "secondary")
    ]
    assert {r["path"] for r in repairs if r["record_id"] == MARKS_5A} == {
        key[len(MARKS_5A) + 1 :] for key in marks
    }
    assert all(r["location"] == "secondary" for r in repairs[1:])
    assert repairs[-1]["path"] == "bagit.txt"  # the marker last: complete only when whole
    log = (site.tmp / "state" / "verify-repairs.log").read_text("utf-8").splitlines()
    assert [json.loads(line) for line in log] == repairs
    assert next(r for r in report["records"] if r["record_id"] == JOURNAL_5A)["signature"] == "ok"

    # independently: the local file is the original again, read-only, its folder sealed
    assert (site.nas / journal_key).read_bytes() == journal
    assert (site.nas / journal_key).stat().st_mode & 0o777 == 0o444
    assert (site.nas / JOURNAL_5A / "data").stat().st_mode & 0o777 == 0o555
    assert list((site.nas / ".incoming").iterdir()) == []
    # the S3 copy is back as new versions, locked as the manifest says; the old ones stay
    for key, data in marks.items():
        assert s3_get(site, key) == data
        head = site.s3.head_object(Bucket=site.bucket, Key=PREFIX + key)
        assert head["ObjectLockMode"] == "COMPLIANCE"
        assert head["ObjectLockRetainUntilDate"] == datetime.fromisoformat(
            "2052-01-01T00:00:00+05:00"
        )
        versions = site.s3.list_object_versions(Bucket=site.bucket, Prefix=PREFIX + key)
        assert len(versions["Versions"]) == 2 and len(versions["DeleteMarkers"]) == 1
    # the record with no good copy was not touched
    assert s3_get(site, journal_1a) == b"%PDF-1.7 replaced"

    again, report = verify(site, "--json")
    assert again.returncode == 1
    assert statuses(report) == {
        EXPORT: "ok",
        JOURNAL_5A: "ok",
        MARKS_5A: "ok",
        JOURNAL_1A: "unrecoverable",
    }
    assert len(location(report, "primary")["untracked"]) == 1  # never deleted by archiver

    text, _ = verify(site)
    assert text.returncode == 1
    assert "ВНИМАНИЕ: записи без исправной копии" in text.stdout
    assert f"{JOURNAL_1A}: нет исправной копии" in text.stdout
    assert "лишний объект" in text.stdout and "stray.txt" in text.stdout
    assert "Найдены проблемы." in text.stdout


def test_weak_lock_is_reported_and_a_lost_local_folder_restored(site: Site) -> None:
    # the right bytes, but as a new version without the lock (uploaded by hand, say)
    key = f"{EXPORT}/bag-info.txt"
    site.s3.put_object(Bucket=site.bucket, Key=PREFIX + key, Body=s3_get(site, key))
    # 1a's journal folder removed from the local disk
    folder = site.nas / JOURNAL_1A
    original = {
        p.relative_to(site.nas).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }
    for path in [folder, *folder.rglob("*"), folder.parent]:
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(folder)

    found, report = verify(site, "--json")
    assert found.returncode == 1
    assert statuses(report) == {
        EXPORT: "unprotected",
        JOURNAL_5A: "ok",
        MARKS_5A: "ok",
        JOURNAL_1A: "damaged",
    }
    weak = location(report, "secondary")["unprotected"]
    assert [(w["record_id"], [f["problem"] for f in w["files"]]) for w in weak] == [
        (EXPORT, ["lock"])
    ]
    assert ids(location(report, "primary")["missing"]) == {JOURNAL_1A}

    repaired, report = verify(site, "--repair", "--json")
    assert repaired.returncode == 1 and statuses(report)[JOURNAL_1A] == "repaired"
    assert statuses(report)[EXPORT] == "unprotected"  # content right: never rewritten
    assert {r["record_id"] for r in report["repairs"]} == {JOURNAL_1A}
    restored = {
        p.relative_to(site.nas).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }
    assert restored == original
    assert all(p.stat().st_mode & 0o777 == 0o555 for p in [folder, folder / "data"])
    assert (
        len(site.s3.list_object_versions(Bucket=site.bucket, Prefix=PREFIX + key)["Versions"]) == 2
    )


def test_human_report(site: Site) -> None:
    clean, _ = verify(site)
    assert clean.returncode == 0, clean.stderr
    assert "Проверка архива: быстрая" in clean.stdout
    assert "Проверено записей: 4 из 4; в порядке 4" in clean.stdout
    assert clean.stdout.rstrip().endswith("Архив в порядке.")
    key = f"{MARKS_5A}/data/5a-final-marks.pdf"
    local_edit(site, key, flipped((site.nas / key).read_bytes()))
    found, _ = verify(site)
    assert found.returncode == 1
    assert f"  изменена: {MARKS_5A}" in found.stdout
    assert "      data/5a-final-marks.pdf: содержимое изменено: sha256" in found.stdout
    assert "в порядке 3, повреждена одна копия (восстановить: --repair) 1." in found.stdout
    assert found.stdout.rstrip().endswith("Найдены проблемы.")


# -- deep: bytes re-read, signatures validated


def rewrite_consistently(site: Site, rid: str) -> bytes:
    """Change the local copy's document and rewrite its manifest and BagIt files to match."""
    manifest = RecordManifest.loads((site.nas / rid / RECORD_FILE).read_bytes())
    pdf = (site.nas / rid / manifest.payload_path).read_bytes()
    assert pdf[9:10] == b"%"  # the binary comment line after the header: still a valid PDF
    forged = flipped(pdf, 11)
    manifest = dataclasses.replace(
        manifest,
        size=len(forged),
        sha256=hashlib.sha256(forged).hexdigest(),
        sha512=hashlib.sha512(forged).hexdigest(),
    )
    for file in bag_files(manifest, manifest.dumps(), forged):
        local_edit(site, f"{rid}/{file.path}", file.data)
    return forged


def test_deep_check_catches_a_consistent_forgery(site: Site) -> None:
    deep, report = verify(site, "--deep", "--json")
    assert deep.returncode == 0, deep.stdout + deep.stderr
    assert report["level"] == "deep" and report["clean"]
    signatures = {r["record_id"]: r["signature"] for r in report["records"]}
    assert signatures == {EXPORT: "unsigned", JOURNAL_5A: "ok", MARKS_5A: "ok", JOURNAL_1A: "ok"}
    total = sum(
        p.stat().st_size
        for p in site.nas.rglob("*")
        if p.is_file() and p.name != ".archiver-location.json"  # the location marker
    )
    assert report["bytes_read"] >= 2 * total  # every byte of both copies

    original = (site.nas / MARKS_5A / "data/5a-final-marks.pdf").read_bytes()
    rewrite_consistently(site, MARKS_5A)
    # cheap, with the state of the earlier run: the manifest verified then is right
    cheap, report = verify(site, "--json")
    assert cheap.returncode == 1
    assert statuses(report)[MARKS_5A] == "damaged"
    assert ids(location(report, "primary")["changed"]) == {MARKS_5A}
    notes = next(r["notes"] for r in report["records"] if r["record_id"] == MARKS_5A)
    assert any("проверенное" in note for note in notes)

    # cheap, without any state: both copies agree with their own manifests, nobody can tell
    shutil.rmtree(site.tmp / "state")
    undecided, report = verify(site, "--json")
    assert undecided.returncode == 1
    assert statuses(report)[MARKS_5A] == "unrecoverable"
    assert ids(location(report, "primary")["changed"]) == {MARKS_5A}
    assert ids(location(report, "secondary")["changed"]) == {MARKS_5A}

    # deep: the forged document's signature fails, so the S3 copy is the right one
    shutil.rmtree(site.tmp / "state")
    decided, report = verify(site, "--deep", "--json")
    assert decided.returncode == 1
    assert statuses(report)[MARKS_5A] == "damaged"
    assert ids(location(report, "primary")["changed"]) == {MARKS_5A}
    assert location(report, "secondary")["changed"] == []

    fixed, report = verify(site, "--deep", "--repair", "--json")
    assert fixed.returncode == 1 and statuses(report)[MARKS_5A] == "repaired"
    assert (site.nas / MARKS_5A / "data/5a-final-marks.pdf").read_bytes() == original
    final, report = verify(site, "--deep", "--json")
    assert final.returncode == 0 and report["clean"]


def test_forgery_in_both_copies_fails_the_signature(site: Site) -> None:
    forged = rewrite_consistently(site, JOURNAL_5A)
    for path in (site.nas / JOURNAL_5A).rglob("*"):
        if path.is_file():
            key = path.relative_to(site.nas).as_posix()
            site.s3.put_object(Bucket=site.bucket, Key=PREFIX + key, Body=path.read_bytes())
    assert s3_get(site, f"{JOURNAL_5A}/data/5a-class-journal.pdf") == forged
    deep, report = verify(site, "--deep", "--json")
    assert deep.returncode == 1
    record = next(r for r in report["records"] if r["record_id"] == JOURNAL_5A)
    assert record["status"] == "signature_invalid" and record["signature"] == "invalid"
    assert any("подпись документа не прошла проверку" in note for note in record["notes"])
    _, report = verify(site, "--deep", "--repair", "--json")
    assert statuses(report)[JOURNAL_5A] == "signature_invalid"  # nothing to restore from
    assert report["repairs"] == []


def test_deep_and_repair_need_trust_roots(site: Site) -> None:
    text = site.config.read_text("utf-8")
    site.config.write_text(text[: text.index("[signature]")], "utf-8")
    for args in (["--deep"], ["--repair"]):
        result, _ = verify(site, *args)
        assert result.returncode == 2
        assert (
            "не заданы доверенные корневые сертификаты ([signature] trust_roots)" in result.stderr
        )
    assert verify(site)[0].returncode == 0  # the cheap check needs none


# -- samples, state, vanished records


def test_sample_rotates_over_all_records(site: Site) -> None:
    first, report = verify(site, "--sample", "0.5", "--json")
    assert first.returncode == 0, first.stderr
    one = set(statuses(report))
    assert report["records_total"] == 4 and len(one) == 2 and report["sample"] == 0.5
    _, report = verify(site, "--sample", "0.5", "--json")
    two = set(statuses(report))
    assert len(two) == 2 and one | two == ALL
    _, report = verify(site, "--sample", "0.5", "--json")
    assert set(statuses(report)) == one  # the least recently verified again
    state = json.loads((site.tmp / "state" / "verify-state.json").read_text("utf-8"))
    assert set(state["records"]) == ALL
    assert all(entry["checked_status"] == "ok" for entry in state["records"].values())
    # the deep level keeps its own rotation
    deep, report = verify(site, "--deep", "--sample", "0.25", "--json")
    assert deep.returncode == 0 and len(report["records"]) == 1
    bad, _ = verify(site, "--sample", "0")
    assert bad.returncode == 2


def test_unfinished_and_vanished_records(site: Site) -> None:
    assert verify(site)[0].returncode == 0  # the state now knows the four records
    # a record folder without bagit.txt anywhere (an interrupted store), and a stray file in
    # a record's folder
    unfinished = f"{SCHOOL}/{YEAR}/9b/class_journal/v1"
    (site.nas / SCHOOL / YEAR).chmod(0o755)
    (site.nas / unfinished / "data").mkdir(parents=True)
    (site.nas / unfinished / "data" / "9b-class-journal.pdf").write_bytes(b"%PDF")
    site.s3.put_object(Bucket=site.bucket, Key=f"{PREFIX}{JOURNAL_5A}/data/extra.pdf", Body=b"x")
    # 1a's journal removed from both locations
    for key in s3_keys(site, JOURNAL_1A + "/"):
        site.s3.delete_object(Bucket=site.bucket, Key=PREFIX + key)
    folder = site.nas / JOURNAL_1A
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir():
            path.chmod(0o755)
    (site.nas / JOURNAL_1A).parent.chmod(0o755)
    shutil.rmtree(folder)

    result, report = verify(site, "--json")
    assert result.returncode == 1
    assert statuses(report)[JOURNAL_1A] == "lost"
    assert JOURNAL_1A in report["unrecoverable"]
    assert [(u["key"], u["reason"]) for u in location(report, "primary")["untracked"]] == [
        (f"{unfinished}/", "unfinished_record")
    ]
    assert [(u["key"], u["reason"]) for u in location(report, "secondary")["untracked"]] == [
        (f"{JOURNAL_5A}/data/extra.pdf", "extra_file")
    ]


def test_unavailable_location(site: Site) -> None:
    text = site.config.read_text("utf-8").replace('path = "nas"', 'path = "unmounted"')
    site.config.write_text(text, "utf-8")
    result, report = verify(site, "--json")
    assert result.returncode == 1
    primary = location(report, "primary")
    assert not primary["available"] and "не найдена" in primary["error"]
    assert statuses(report) == dict.fromkeys(ALL, "ok")  # the S3 copies are fine
    state = site.tmp / "state" / "verify-state.json"
    assert not state.exists() or json.loads(state.read_text("utf-8"))["records"] == {}


# -- the expected bag


def test_expected_files_are_the_bag(signed_pdf: SignedPdf) -> None:
    pdf = signed_pdf("class_journal", "5a")
    manifest = journal_manifest(
        pdf,
        title="Журнал 5 «А» % с процентом",
        correction_reason="исправление",
        replaces="s/2025-2026/5a/class_journal/v0",
    )
    files = bag_files(manifest, manifest.dumps(), pdf)
    expected = expected_files(manifest, manifest.dumps())
    assert [(e.path, e.size, e.sha256) for e in expected] == [
        (f.path, len(f.data), f.sha256) for f in files
    ]
    assert expected[0].sha512 == manifest.sha512
