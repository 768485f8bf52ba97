"""Verifying the archive: both copies of every record against its manifest, and repairs.

A record (``docs/storage.md``) is a BagIt bag whose every file follows from its
manifest, ``archive-record.json``: the payload's size and hashes are in it, and the
tag files are rebuilt from it byte for byte
(:func:`archiver.archive.record.bag_tag_files`). So one manifest gives the expected
size and SHA-256 of every file of the bag, and each copy is compared with that,
file by file; two copies that both match are equal.

Levels (``docs/verify.md``):

* **cheap** (default): every record found complete in any location must be complete
  in every location, every file of its bag of the expected size and SHA-256, and on
  a location that enforces retention locked at least as the manifest says. What is
  read: the listing of each location; each copy's ``archive-record.json``; then per
  file :meth:`Storage.stat` — where the location keeps a SHA-256 it computed on
  receipt (S3 ``ChecksumSHA256``) that hash is compared without downloading the
  object, otherwise (a local disk, an object without a stored checksum) the object
  is read and hashed;
* **deep**: every byte of every copy is read and hashed (the payload also with
  SHA-512), and the signature of every signed document is validated offline
  (:func:`archiver.signing.check.check_document`) against the configured trust
  roots; the signer must be the one the manifest names;
* **repair**: a copy that is changed or missing is restored from the other copy
  when that one matches the manifest and its document's signature validates
  (:meth:`Storage.restore`); a record with no good copy is never touched.

The package, by idea: :mod:`.report` (statuses and results, their JSON),
:mod:`.history` (``verify-state.json``), :mod:`.sampling`, :mod:`.listing` (what each
location holds, untracked objects), :mod:`.signatures` (the validation pool),
:mod:`.inspect` (one record's copies, which manifest to trust), :mod:`.repair` (with
its log), :mod:`.run` (:func:`verify_archive`) and :mod:`.documents` (the year-end
run's check of what it stored, signatures included). The library never prints:
progress goes to a callback.
"""

from archiver.archive.verify.history import HISTORY_FILE, VerifyHistory
from archiver.archive.verify.inspect import ExpectedFile, expected_files
from archiver.archive.verify.repair import REPAIR_LOG
from archiver.archive.verify.report import (
    HOPELESS,
    ArchiveVerifyReport,
    CopyReport,
    CopyStatus,
    FileProblem,
    Level,
    LocationReport,
    Problem,
    RecordReport,
    RecordStatus,
    Repair,
    Untracked,
    VerifyError,
)
from archiver.archive.verify.run import LAST_REPORT, last_report, verify_archive, verify_configured
from archiver.archive.verify.sampling import choose_sample
from archiver.archive.verify.signatures import SignatureVerdict

__all__ = [
    "HISTORY_FILE",
    "HOPELESS",
    "LAST_REPORT",
    "REPAIR_LOG",
    "ArchiveVerifyReport",
    "CopyReport",
    "CopyStatus",
    "ExpectedFile",
    "FileProblem",
    "Level",
    "LocationReport",
    "Problem",
    "RecordReport",
    "RecordStatus",
    "Repair",
    "SignatureVerdict",
    "Untracked",
    "VerifyError",
    "VerifyHistory",
    "choose_sample",
    "expected_files",
    "last_report",
    "verify_archive",
    "verify_configured",
]
