"""One contract for every storage backend: write once, never replace, never delete, lock.

The ``storage`` fixture runs each test against the local-folder backend and the S3
backend; the S3 one talks over HTTP to moto's server on 127.0.0.1 (a real endpoint,
not the in-process mock). Outcomes are checked independently of the backend: S3 is
asked with a separate boto3 client, the disk with ``os.stat``.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import socket
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

from archiver.storage import local as local_module
from archiver.storage.base import Lock, Storage, StorageConflict, StorageError
from archiver.storage.local import LocalStorage
from archiver.storage.s3 import S3Storage
from tests.fixtures.storage import MotoS3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

YEKT = timezone(timedelta(hours=5))
LOCK = Lock(datetime(2032, 1, 1, tzinfo=YEKT), "COMPLIANCE")


def s3_key(storage: Storage, key: str) -> str:
    assert isinstance(storage, S3Storage)
    return storage.prefix + key


def test_put_read_stat_list(storage: Storage) -> None:
    data = "Журнал 5 «А»".encode() * 1000
    result = storage.put("sch/2025-2026/5a/class_journal/v1/data/doc.pdf", data, LOCK)
    assert result.created
    assert storage.read("sch/2025-2026/5a/class_journal/v1/data/doc.pdf").data == data
    info = storage.stat("sch/2025-2026/5a/class_journal/v1/data/doc.pdf")
    assert info is not None and info.size == len(data)
    storage.put("sch/2025-2026/5a/final_marks/v1/data/doc.pdf", b"other", LOCK)
    assert storage.list_keys("sch/2025-2026/5a/class_journal/") == [
        "sch/2025-2026/5a/class_journal/v1/data/doc.pdf"
    ]
    assert len(storage.list_keys("sch/")) == 2
    assert storage.list_keys("nothing/here/") == []


def test_missing_object(storage: Storage) -> None:
    assert storage.stat("a/b.txt") is None
    with pytest.raises(StorageError, match="не найден"):
        storage.read("a/b.txt")


def test_same_bytes_again_change_nothing(storage: Storage, request: pytest.FixtureRequest) -> None:
    first = storage.put("r/v1/data/x.pdf", b"payload", LOCK)
    again = storage.put("r/v1/data/x.pdf", b"payload", LOCK)
    assert first.created and not again.created
    if isinstance(storage, S3Storage):
        client = request.getfixturevalue("s3_client")
        versions = client.list_object_versions(Bucket=storage.bucket, Prefix=s3_key(storage, "r/"))
        assert len(versions.get("Versions", [])) == 1
        assert again.info.version_id == first.info.version_id
    else:
        assert isinstance(storage, LocalStorage)
        assert [p.name for p in (storage.root / "r/v1/data").iterdir()] == ["x.pdf"]


def test_other_bytes_are_refused_and_the_original_stays(
    storage: Storage, request: pytest.FixtureRequest
) -> None:
    storage.put("r/v1/data/x.pdf", b"original", LOCK)
    with pytest.raises(StorageConflict, match="не перезаписывает"):
        storage.put("r/v1/data/x.pdf", b"replacement", LOCK)
    assert storage.read("r/v1/data/x.pdf").data == b"original"
    if isinstance(storage, S3Storage):
        client = request.getfixturevalue("s3_client")
        versions = client.list_object_versions(Bucket=storage.bucket, Prefix=s3_key(storage, "r/"))
        assert len(versions.get("Versions", [])) == 1


def test_no_delete_in_the_interface(storage: Storage) -> None:
    names = [n for n in dir(type(storage)) if not n.startswith("__")]
    assert not [n for n in names if any(w in n.lower() for w in ("delet", "remov", "purge", "rm"))]


def test_no_code_path_deletes_or_shortens_retention() -> None:
    """Only ``Storage.destroy`` deletes, only disposal calls it; nothing shortens a lock or unlocks.

    ``delete_object`` (by version id, never with a governance bypass) is in the S3 backend's
    ``destroy`` only; ``destroy(`` is called from ``archive/dispose/execute.py`` only.
    """
    forbidden = (
        "delete_objects",
        "delete_bucket",
        "put_object_retention",
        "put_object_legal_hold",
        "put_bucket_versioning",
        "put_object_lock_configuration",
        "put_bucket_lifecycle",
        "BypassGovernanceRetention",
        "rmtree",
    )
    root = Path(__file__).resolve().parent.parent / "archiver"
    sources = sorted(root.rglob("*.py"))
    # the importers replace their own folder of pulled responses (work files, never a storage
    # location: sources/ cannot reach storage by the layout rules)
    # and the web's signing page replaces its own prepared folder in the year-end run's folder
    allowed = {("sources/importers/provenance.py", "rmtree"), ("web/views/sign.py", "rmtree")}
    offenders = [
        f"{path.relative_to(root)}: {word}"
        for path in sources
        for word in forbidden
        if word in path.read_text(encoding="utf-8")
        and (str(path.relative_to(root)), word) not in allowed
    ]
    assert offenders == []
    deleting = {
        str(path.relative_to(root)): path.read_text(encoding="utf-8").count("delete_object(")
        for path in sources
        if "delete_object(" in path.read_text(encoding="utf-8")
    }
    assert deleting == {"storage/s3.py": 1}
    callers = sorted(
        str(path.relative_to(root))
        for path in sources
        if ".destroy(" in path.read_text(encoding="utf-8")
    )
    assert callers == ["archive/dispose/execute.py"]
    local_source = (root / "storage" / "local.py").read_text(encoding="utf-8")
    files_source = (root / "files.py").read_text(encoding="utf-8")
    # temporary files only: the cleanup of dead runs' .incoming/*.part, and the temporary
    # file of every write (files.staged_file, which put and restore write through)
    assert local_source.count("unlink(") == 1
    assert files_source.count("unlink(") == 1
    assert local_source.count("staged_file(") == 2
    # destroy: the one place that removes a record's files, after refuse_before
    assert local_source.count("os.remove(") == 1
    assert local_source.index("refuse_before(self") < local_source.index("os.remove(")


def test_objects_are_protected(storage: Storage, request: pytest.FixtureRequest) -> None:
    data = b"%PDF-1.7 test"
    storage.put("r/v1/data/x.pdf", data, LOCK)
    info = storage.read("r/v1/data/x.pdf").info
    assert info.read_only
    if isinstance(storage, S3Storage):
        client = request.getfixturevalue("s3_client")
        key = s3_key(storage, "r/v1/data/x.pdf")
        # moto 5.2.5 does not implement GetObjectRetention (GET ?retention returns the object
        # itself); HEAD reports the same x-amz-object-lock-* headers.
        head = client.head_object(Bucket=storage.bucket, Key=key, ChecksumMode="ENABLED")
        assert head["ObjectLockMode"] == "COMPLIANCE"
        assert head["ObjectLockRetainUntilDate"] == LOCK.retain_until
        assert head["ServerSideEncryption"] == "AES256"
        assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
        assert head["VersionId"] == info.version_id
        with pytest.raises(ClientError) as refused:
            client.delete_object(Bucket=storage.bucket, Key=key, VersionId=head["VersionId"])
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert storage.read("r/v1/data/x.pdf").data == data
    else:
        assert isinstance(storage, LocalStorage)
        path = storage.root / "r/v1/data/x.pdf"
        assert path.stat().st_mode & 0o777 == 0o444
        assert list((storage.root / ".incoming").iterdir()) == []


def test_governance_mode(storage: Storage, request: pytest.FixtureRequest) -> None:
    lock = Lock(datetime(2052, 1, 1, tzinfo=YEKT), "GOVERNANCE")
    storage.put("r/v1/data/x.pdf", b"x", lock)
    info = storage.stat("r/v1/data/x.pdf")
    assert info is not None
    if storage.enforces_retention:
        assert info.lock_mode == "GOVERNANCE"
        assert info.retain_until == lock.retain_until


def test_seal(storage: Storage) -> None:
    storage.put("r/v1/data/x.pdf", b"x", LOCK)
    storage.put("r/v1/bagit.txt", b"BagIt-Version: 1.0\n", LOCK)
    storage.seal("r/v1")
    storage.seal("r/v1")  # idempotent
    if isinstance(storage, LocalStorage):
        for folder in (storage.root / "r/v1", storage.root / "r/v1/data"):
            assert folder.stat().st_mode & 0o777 == 0o555
        assert (storage.root / "r").stat().st_mode & 0o200  # the series stays open
    assert storage.read("r/v1/data/x.pdf").data == b"x"


@pytest.mark.parametrize("key", ["../escape", "/abs", "a//b", "a/./b", ""])
def test_keys_cannot_escape(storage: Storage, key: str) -> None:
    with pytest.raises(ValueError):
        storage.put(key, b"x", LOCK)


def test_lock_needs_a_zone() -> None:
    with pytest.raises(ValueError):
        Lock(datetime(2032, 1, 1))
    with pytest.raises(ValueError):
        Lock(datetime(2032, 1, 1, tzinfo=UTC), "NONE")


# -- restore: the repair path (archiver verify --repair), the one exception to write-once


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def s3_versions(storage: S3Storage, client: S3Client, key: str) -> list[dict[str, object]]:
    full = s3_key(storage, key)
    versions = client.list_object_versions(Bucket=storage.bucket, Prefix=full)
    return [dict(v) for v in versions.get("Versions", []) if v["Key"] == full]


def damage(storage: Storage, key: str, data: bytes | None, request: pytest.FixtureRequest) -> None:
    """Change (or, with ``None``, remove) an object the way it happens outside archiver.

    S3: someone with ordinary write access puts a new, unlocked version, or deletes the
    key (a delete marker); the locked original version stays underneath. Local: someone
    lifts the read-only modes and edits or removes the file.
    """
    if isinstance(storage, S3Storage):
        client: S3Client = request.getfixturevalue("s3_client")
        if data is None:
            client.delete_object(Bucket=storage.bucket, Key=s3_key(storage, key))
        else:
            client.put_object(Bucket=storage.bucket, Key=s3_key(storage, key), Body=data)
        return
    assert isinstance(storage, LocalStorage)
    path = storage.root / key
    path.parent.chmod(0o755)
    if data is None:
        os.remove(path)
    else:
        path.chmod(0o644)
        path.write_bytes(data)
    path.parent.chmod(0o555)


def test_restore_replaces_a_damaged_object(
    storage: Storage, request: pytest.FixtureRequest
) -> None:
    key = "r/v1/data/x.pdf"
    storage.put(key, b"original", LOCK)
    storage.put("r/v1/bagit.txt", b"BagIt-Version: 1.0\n", LOCK)
    storage.seal("r/v1")
    damage(storage, key, b"damaged!", request)
    with pytest.raises(ValueError):
        storage.restore(key, b"something else", LOCK, sha(b"original"))
    assert storage.read(key).data == b"damaged!"

    result = storage.restore(key, b"original", LOCK, sha(b"original"))
    assert result.created
    stored = storage.read(key)
    assert stored.data == b"original" and stored.info.read_only
    again = storage.restore(key, b"original", LOCK, sha(b"original"))
    assert not again.created  # a good copy is never replaced
    if isinstance(storage, S3Storage):
        client: S3Client = request.getfixturevalue("s3_client")
        versions = s3_versions(storage, client, key)
        assert len(versions) == 3  # original, damaged, restored: nothing removed
        head = client.head_object(Bucket=storage.bucket, Key=s3_key(storage, key))
        assert head["VersionId"] == result.info.version_id
        assert head["ObjectLockMode"] == "COMPLIANCE"
        assert head["ObjectLockRetainUntilDate"] == LOCK.retain_until
        assert head["Metadata"]["restored"] == "archiver verify --repair"
    else:
        assert isinstance(storage, LocalStorage)
        assert (storage.root / key).stat().st_mode & 0o777 == 0o444
        assert (storage.root / "r/v1/data").stat().st_mode & 0o777 == 0o555  # sealed again
        assert list((storage.root / ".incoming").iterdir()) == []


def test_restore_leaves_a_good_object_alone(
    storage: Storage, request: pytest.FixtureRequest
) -> None:
    key = "r/v1/data/x.pdf"
    first = storage.put(key, b"good", LOCK)
    before = os.stat(storage.root / key) if isinstance(storage, LocalStorage) else None
    result = storage.restore(key, b"good", LOCK, sha(b"good"))
    assert not result.created
    if isinstance(storage, S3Storage):
        client: S3Client = request.getfixturevalue("s3_client")
        assert len(s3_versions(storage, client, key)) == 1
        assert result.info.version_id == first.info.version_id
    else:
        assert isinstance(storage, LocalStorage) and before is not None
        after = os.stat(storage.root / key)
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_restore_a_missing_object(storage: Storage, request: pytest.FixtureRequest) -> None:
    key = "r/v1/data/x.pdf"
    storage.put(key, b"good", LOCK)
    storage.seal("r/v1")
    damage(storage, key, None, request)
    assert storage.stat(key) is None
    assert storage.restore(key, b"good", LOCK, sha(b"good")).created
    assert storage.read(key).data == b"good"
    # a record folder that is gone entirely
    assert storage.restore("n/v1/data/y.pdf", b"y", LOCK, sha(b"y")).created
    assert storage.read("n/v1/data/y.pdf").data == b"y"


def test_restore_is_refused_when_the_object_changes_meanwhile(
    storage: Storage, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 writes the new version only if the damaged one is still current (If-Match)."""
    if not isinstance(storage, S3Storage):
        pytest.skip("a local rename has no condition; the check just before it is enough there")
    key = "r/v1/data/x.pdf"
    storage.put(key, b"good", LOCK)
    damage(storage, key, b"bad-1", request)
    original_head = storage._head

    def stale_head(key: str, version_id: str | None = None) -> object:
        head = original_head(key, version_id)
        if version_id is None:
            damage(storage, key, b"bad-2", request)  # another writer, right after our look
        return head

    monkeypatch.setattr(storage, "_head", stale_head)
    with pytest.raises(StorageConflict, match="изменился во время восстановления"):
        storage.restore(key, b"good", LOCK, sha(b"good"))
    monkeypatch.undo()
    assert storage.read(key).data == b"bad-2"


def test_s3_restore_never_reduces_retention(
    moto_s3: MotoS3, locked_bucket: str, s3_client: S3Client
) -> None:
    storage = S3Storage("secondary", locked_bucket, "archive/", endpoint_url=moto_s3.endpoint_url)
    key = "r/v1/data/x.pdf"
    storage.put(key, b"good", LOCK)
    s3_client.put_object(Bucket=locked_bucket, Key=f"archive/{key}", Body=b"bad")
    shorter = Lock(LOCK.retain_until - timedelta(days=1), "COMPLIANCE")
    weaker = Lock(LOCK.retain_until, "GOVERNANCE")
    for lock in (shorter, weaker):
        with pytest.raises(StorageError, match="сократило бы срок хранения"):
            storage.restore(key, b"good", lock, sha(b"good"))
    assert storage.read(key).data == b"bad"
    longer = Lock(LOCK.retain_until + timedelta(days=1), "COMPLIANCE")
    result = storage.restore(key, b"good", longer, sha(b"good"))
    assert result.created and result.info.retain_until == longer.retain_until


# -- local folder specifics


def test_local_root_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "mnt" / "nas"
    with pytest.raises(StorageError, match="не найдена"):
        LocalStorage("primary", missing).check()
    assert not missing.exists()  # an unmounted share is not replaced by a local folder


def test_local_disk_full_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = LocalStorage("primary", tmp_path)
    storage.check()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(local_module.os, "fsync", full)
    with pytest.raises(StorageError, match="нет места"):
        storage.put("r/v1/data/x.pdf", b"x" * 1000, LOCK)
    monkeypatch.undo()
    assert storage.stat("r/v1/data/x.pdf") is None
    assert list((tmp_path / ".incoming").iterdir()) == []
    assert storage.put("r/v1/data/x.pdf", b"x" * 1000, LOCK).created


def test_local_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On FAT/exFAT disks os.link fails: a rename is used, still never over an existing file."""
    storage = LocalStorage("primary", tmp_path)
    storage.check()

    def no_link(src: str, dst: str) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(local_module.os, "link", no_link)
    assert storage.put("r/x.pdf", b"one", LOCK).created
    assert not storage.put("r/x.pdf", b"one", LOCK).created
    with pytest.raises(StorageConflict):
        storage.put("r/x.pdf", b"two", LOCK)
    assert (tmp_path / "r/x.pdf").read_bytes() == b"one"
    assert list((tmp_path / ".incoming").iterdir()) == []


def test_local_cleans_temporary_files_of_dead_runs(tmp_path: Path) -> None:
    storage = LocalStorage("primary", tmp_path)
    storage.check()
    host = socket.gethostname()
    dead = tmp_path / ".incoming" / f"{host}~999999999~abc.part"
    mine = tmp_path / ".incoming" / f"{host}~{os.getpid()}~abc.part"
    other_host = tmp_path / ".incoming" / "elsewhere~1~abc.part"
    for path in (dead, mine, other_host):
        path.write_bytes(b"partial")
    storage.check()
    assert not dead.exists() and mine.exists() and other_host.exists()
    assert storage.list_keys("") == []  # temporary files are never objects


# -- S3 specifics


def test_s3_bucket_without_object_lock_is_refused(moto_s3: MotoS3, s3_client: S3Client) -> None:
    s3_client.create_bucket(Bucket="plain-bucket-no-lock")
    s3_client.put_bucket_versioning(
        Bucket="plain-bucket-no-lock", VersioningConfiguration={"Status": "Enabled"}
    )
    storage = S3Storage("secondary", "plain-bucket-no-lock", endpoint_url=moto_s3.endpoint_url)
    with pytest.raises(StorageError, match=r"Object Lock"):
        storage.check()
    s3_client.create_bucket(Bucket="plain-bucket-unversioned")
    storage = S3Storage("secondary", "plain-bucket-unversioned", endpoint_url=moto_s3.endpoint_url)
    with pytest.raises(StorageError, match="версионирование"):
        storage.check()


def test_s3_missing_bucket(moto_s3: MotoS3, aws_env: dict[str, str]) -> None:
    storage = S3Storage("secondary", "no-such-bucket-here", endpoint_url=moto_s3.endpoint_url)
    with pytest.raises(StorageError, match="не найдена"):
        storage.check()


def test_s3_unreachable_endpoint(aws_env: dict[str, str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    import boto3
    from botocore.config import Config

    storage = S3Storage("secondary", "bucket", endpoint_url=f"http://127.0.0.1:{port}")
    # the backend's own client retries with back-off; one attempt keeps the test fast
    storage._client = boto3.client(
        "s3", endpoint_url=storage.endpoint_url, config=Config(retries={"max_attempts": 1})
    )
    with pytest.raises(StorageError, match="нет связи"):
        storage.check()


def test_s3_without_credentials(
    moto_s3: MotoS3, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    storage = S3Storage("secondary", "bucket", endpoint_url=moto_s3.endpoint_url)
    with pytest.raises(StorageError, match="AWS_ACCESS_KEY_ID"):
        storage.check()


def test_s3_named_profile(moto_s3: MotoS3, aws_env: dict[str, str], tmp_path: Path) -> None:
    Path(aws_env["AWS_SHARED_CREDENTIALS_FILE"]).write_text(
        "[archive]\naws_access_key_id = p\naws_secret_access_key = q\n", encoding="utf-8"
    )
    storage = S3Storage("secondary", "x", endpoint_url=moto_s3.endpoint_url, profile="archive")
    credentials = storage.client._request_signer._credentials
    assert credentials is not None and credentials.access_key == "p"
    missing = S3Storage("secondary", "x", endpoint_url=moto_s3.endpoint_url, profile="nope")
    with pytest.raises(StorageError, match="профиль AWS «nope»"):
        missing.check()
