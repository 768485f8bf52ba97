"""``archiver verify --repair`` against a forged copy (issue 13, point 2).

The archive of ``tests/fixtures/sites.py`` (local ``primary``, S3 ``secondary``). The
attacker can write the local folder and the working folder: a self-consistent bag whose
document is a genuine signed journal of *another* class replaces 5a's journal in the
local copy, and ``state/verify-state.json`` is edited to name its manifest. The repair
must not take the forged copy as its source: the genuine S3 copy stays, no new version
is written, and the report says there is no provably good copy.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from archiver.archive.record import RECORD_FILE, RecordManifest, bag_files
from tests.fixtures.sites import PREFIX, Site
from tests.test_verify import JOURNAL_1A, JOURNAL_5A, local_edit, site, statuses, verify

__all__ = ["site"]


def plant_forgery(site: Site) -> RecordManifest:
    """5a's journal in the local copy replaced by 1a's genuine signed journal, consistently."""
    manifest = RecordManifest.loads((site.nas / JOURNAL_5A / RECORD_FILE).read_bytes())
    other = RecordManifest.loads((site.nas / JOURNAL_1A / RECORD_FILE).read_bytes())
    pdf = (site.nas / JOURNAL_1A / other.payload_path).read_bytes()
    forged = dataclasses.replace(
        manifest,
        size=len(pdf),
        sha256=hashlib.sha256(pdf).hexdigest(),
        sha512=hashlib.sha512(pdf).hexdigest(),
        signer_cert_sha256=other.signer_cert_sha256,
    )
    for file in bag_files(forged, forged.dumps(), pdf):
        local_edit(site, f"{JOURNAL_5A}/{file.path}", file.data)
    return forged


def point_state_at(site: Site, manifest: RecordManifest) -> None:
    state = site.tmp / "state" / "verify-state.json"
    doc = json.loads(state.read_text("utf-8"))
    records = doc.get("records", doc)
    records[JOURNAL_5A]["manifest_sha256"] = hashlib.sha256(manifest.dumps()).hexdigest()
    state.write_text(json.dumps(doc), encoding="utf-8")


def s3_versions(site: Site) -> list[tuple[str, str]]:
    listed = site.s3.list_object_versions(Bucket=site.bucket, Prefix=PREFIX + JOURNAL_5A)
    return sorted((v["Key"], v["VersionId"]) for v in listed.get("Versions", []))


def test_repair_never_takes_a_forged_copy_named_by_the_state_file(site: Site) -> None:
    first, _ = verify(site, "--json")  # the state file now exists
    assert first.returncode == 0, first.stdout + first.stderr
    genuine = site.s3.get_object(
        Bucket=site.bucket, Key=f"{PREFIX}{JOURNAL_5A}/data/5a-class-journal.pdf"
    )["Body"].read()
    versions = s3_versions(site)
    forged = plant_forgery(site)
    point_state_at(site, forged)

    repaired, report = verify(site, "--repair", "--json")
    assert repaired.returncode == 1, repaired.stdout + repaired.stderr
    assert statuses(report)[JOURNAL_5A] == "repair_refused"
    assert report["repairs"] == [] or all(
        r["record_id"] != JOURNAL_5A or r["location"] != "secondary" for r in report["repairs"]
    )
    notes = next(r["notes"] for r in report["records"] if r["record_id"] == JOURNAL_5A)
    assert any("нет исправной копии" in note for note in notes), notes
    assert s3_versions(site) == versions  # nothing written to S3
    current = site.s3.get_object(
        Bucket=site.bucket, Key=f"{PREFIX}{JOURNAL_5A}/data/5a-class-journal.pdf"
    )["Body"].read()
    assert current == genuine

    human = verify(site, "--repair")[0]
    assert "нет исправной копии" in human.stdout + human.stderr
    assert s3_versions(site) == versions

    # the deep check proves the S3 copy right: the forged local copy is named, then repaired
    deep, report = verify(site, "--deep", "--json")
    assert deep.returncode == 1
    assert statuses(report)[JOURNAL_5A] == "damaged"
    copies = next(r["copies"] for r in report["records"] if r["record_id"] == JOURNAL_5A)
    assert copies == {"primary": "changed", "secondary": "ok"}, copies
    fixed, report = verify(site, "--deep", "--repair", "--json")
    assert fixed.returncode == 1 and statuses(report)[JOURNAL_5A] == "repaired", report
    assert {r["location"] for r in report["repairs"]} == {"primary"}
    local = site.nas / JOURNAL_5A / "data" / "5a-class-journal.pdf"
    assert local.read_bytes() == genuine
    assert s3_versions(site) == versions


def test_a_forgery_is_not_restored_over_an_s3_copy_hidden_by_delete_markers(site: Site) -> None:
    manifest = RecordManifest.loads((site.nas / JOURNAL_5A / RECORD_FILE).read_bytes())
    pdf = site.signed_pdf("class_journal", "5a", note="другое содержимое")  # signed, same class
    forged = dataclasses.replace(
        manifest,
        size=len(pdf),
        sha256=hashlib.sha256(pdf).hexdigest(),
        sha512=hashlib.sha512(pdf).hexdigest(),
    )
    for file in bag_files(forged, forged.dumps(), pdf):
        local_edit(site, f"{JOURNAL_5A}/{file.path}", file.data)
    listed = site.s3.list_objects_v2(Bucket=site.bucket, Prefix=f"{PREFIX}{JOURNAL_5A}/")
    for item in listed["Contents"]:
        site.s3.delete_object(Bucket=site.bucket, Key=item["Key"])  # delete markers only
    versions = s3_versions(site)
    repaired, report = verify(site, "--repair", "--json")
    assert repaired.returncode == 1, repaired.stdout + repaired.stderr
    assert statuses(report)[JOURNAL_5A] == "repair_refused", report
    notes = next(r["notes"] for r in report["records"] if r["record_id"] == JOURNAL_5A)
    assert any("нет исправной копии" in n and "заблокированная исходная" in n for n in notes)
    assert s3_versions(site) == versions  # no version written over the hidden genuine one
