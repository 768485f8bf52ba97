"""A storage location in an S3 bucket (AWS or an S3-compatible service) with Object Lock.

The bucket must have versioning and Object Lock enabled (:meth:`S3Storage.check`
says so clearly when it has not). Every object is written with

* ``ObjectLockMode`` (COMPLIANCE, or GOVERNANCE where the retention policy says so)
  and an explicit ``ObjectLockRetainUntilDate``: the service itself refuses to
  delete the version before that instant;
* a SHA-256 checksum computed here (``ChecksumAlgorithm='SHA256'`` with the value),
  which the service checks on receipt and keeps with the object;
* server-side encryption (``ServerSideEncryption='AES256'``);
* ``If-None-Match: *``, so that an existing key is never given a new version
  (dropped automatically for services that do not implement conditional writes).

Credentials come from the standard AWS chain (environment, shared files, instance
roles) or a named profile; they are never read from archiver's settings.
boto3 is told to send checksums only when an operation requires them
(``request_checksum_calculation='when_required'``), which S3-compatible services
accept.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
)

from archiver.storage.base import (
    LOCATION_MARKER,
    Lock,
    ObjectInfo,
    PutResult,
    RetentionActive,
    Storage,
    StorageConflict,
    StorageError,
    StoredObject,
    check_key,
    crash_point,
    lock_strength,
    normalize_prefix,
    refuse_before,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_MISSING = {"404", "NoSuchKey", "NotFound"}


def _hex_checksum(value: str | None) -> str | None:
    """A base64 ``ChecksumSHA256`` as hex; ``None`` for composite (multipart) values."""
    if not value or "-" in value:
        return None
    try:
        return base64.b64decode(value, validate=True).hex()
    except (binascii.Error, ValueError):
        return None


_PRECONDITION = ("PreconditionFailed", "412", "ConditionalRequestConflict")


def _error_code(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return str(error.get("Code", ""))


class S3Storage(Storage):
    """Objects in ``s3://bucket/prefix``, each version locked until its retention expires."""

    enforces_retention = True

    def __init__(
        self,
        name: str,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        addressing_style: str | None = None,
    ) -> None:
        super().__init__(name)
        self.bucket = bucket
        self.prefix = normalize_prefix(prefix)
        self.endpoint_url = endpoint_url
        self.region = region
        self.profile = profile
        self.addressing_style = addressing_style
        self._client: S3Client | None = None
        self._conditional_writes = True

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    @property
    def client(self) -> S3Client:
        """The boto3 client, created on first use."""
        if self._client is None:
            config = Config()
            if self.addressing_style == "path":
                config = Config(s3={"addressing_style": "path"})
            elif self.addressing_style == "virtual":
                config = Config(s3={"addressing_style": "virtual"})
            config = config.merge(
                Config(
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                    retries={"max_attempts": 5, "mode": "standard"},
                    connect_timeout=15,
                    read_timeout=120,
                )
            )
            try:
                session = boto3.session.Session(profile_name=self.profile)
                self._client = session.client(
                    "s3", endpoint_url=self.endpoint_url, region_name=self.region, config=config
                )
            except ProfileNotFound as exc:
                raise StorageError(
                    f"хранилище «{self.name}»: профиль AWS «{self.profile}» не найден "
                    "(~/.aws/config, ~/.aws/credentials)"
                ) from exc
            except (BotoCoreError, ValueError) as exc:
                raise StorageError(
                    f"хранилище «{self.name}»: не удалось настроить клиент S3: {exc}"
                ) from exc
        return self._client

    def seal(self, prefix: str) -> None:
        """Nothing to do: every object is already locked by Object Lock."""

    def destroy(self, prefix: str, retain_until: datetime, now: datetime) -> int:
        """Delete every version (and delete marker) under the record folder, marker first.

        Each version is deleted by its id, never with a governance bypass: Object Lock
        refuses a locked version by the service's own clock (:class:`RetentionActive`).
        """
        refuse_before(self, prefix, retain_until, now)
        full = self._key(prefix.rstrip("/")) + "/"
        found: list[tuple[str, str]] = []
        try:
            paginator = self.client.get_paginator("list_object_versions")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                    key, version = item.get("Key"), item.get("VersionId")
                    if key and version:
                        found.append((str(key), str(version)))
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(f"чтение версий записи {prefix}", exc) from exc
        found.sort(key=lambda kv: (not kv[0].endswith("/bagit.txt"), kv[0], kv[1]))
        for key, version in found:
            try:
                self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=version)
            except ClientError as exc:
                if _error_code(exc) in ("AccessDenied", "403", "InvalidRequest"):
                    raise RetentionActive(
                        f"хранилище «{self.name}»: S3 Object Lock не разрешает удалить "
                        f"s3://{self.bucket}/{key} (версия {version}): срок хранения по часам "
                        "хранилища ещё не истёк; удаление остановлено"
                    ) from exc
                raise self._fail(f"удаление {key}", exc) from exc
            except BotoCoreError as exc:
                raise self._fail(f"удаление {key}", exc) from exc
            crash_point()
        return len(found)

    def _written_version(self, key: str, response: Any, checksum: str) -> str:
        """The version a PUT created, after checking the checksum the service returned."""
        returned = response.get("ChecksumSHA256")
        if returned and returned != checksum:
            raise StorageError(
                f"хранилище «{self.name}»: сервис сообщил для {self.url(key)} контрольную сумму "
                f"{returned}, а не {checksum}"
            )
        version_id = response.get("VersionId")
        if not version_id:
            raise StorageError(
                f"хранилище «{self.name}»: сервис не сообщил версию объекта {self.url(key)} "
                "(версионирование корзины выключено?)"
            )
        return str(version_id)

    def _fail(self, action: str, exc: Exception) -> StorageError:
        """A Russian message for a failed S3 call."""
        prefix = f"хранилище «{self.name}» ({self.where}): {action}"
        if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
            return StorageError(
                f"{prefix}: нет ключей доступа S3. Укажите профиль (profile в настройках "
                "хранилища) или переменные окружения AWS_ACCESS_KEY_ID и AWS_SECRET_ACCESS_KEY"
            )
        if isinstance(exc, EndpointConnectionError):
            return StorageError(f"{prefix}: нет связи с {self.endpoint_url or 'S3'} ({exc})")
        if isinstance(exc, ClientError):
            code = self._real_code(exc)
            message = exc.response.get("Error", {}).get("Message", "")
            if code in ("NoSuchBucket",) or (code == "404" and action == "проверка корзины"):
                return StorageError(f"{prefix}: корзина «{self.bucket}» не найдена")
            if code in ("AccessDenied", "403", "AllAccessDisabled"):
                return StorageError(f"{prefix}: доступ запрещён (проверьте права ключа доступа)")
            if code == "InvalidAccessKeyId":
                return StorageError(
                    f"{prefix}: сервис не знает такого ключа доступа S3 (InvalidAccessKeyId); "
                    "проверьте AWS_ACCESS_KEY_ID или профиль (profile) хранилища"
                )
            if code == "SignatureDoesNotMatch":
                return StorageError(
                    f"{prefix}: секретный ключ не подходит к ключу доступа S3 "
                    "(SignatureDoesNotMatch); проверьте AWS_SECRET_ACCESS_KEY"
                )
            if code in ("ExpiredToken", "InvalidToken", "TokenRefreshRequired"):
                return StorageError(
                    f"{prefix}: временный ключ доступа S3 истёк или неверен ({code})"
                )
            return StorageError(f"{prefix}: ошибка S3 {code}: {message}".rstrip(": "))
        return StorageError(f"{prefix}: {exc}")

    def _real_code(self, exc: ClientError) -> str:
        """The error code; for a bare 403 of a HEAD request, the one a GET request tells.

        HEAD responses have no body, so an unknown key, a wrong secret and a missing
        permission all come back as «403»: a small listing request names the cause.
        """
        code = _error_code(exc)
        if code != "403":
            return code
        try:
            self.client.list_objects_v2(Bucket=self.bucket, MaxKeys=1)
        except ClientError as probe:
            return _error_code(probe)
        except BotoCoreError:
            return code
        return code

    def check(self) -> None:
        """The bucket must exist, be versioned and have Object Lock enabled."""
        client = self.client
        try:
            client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise self._fail("проверка корзины", exc) from exc
        try:
            versioning = client.get_bucket_versioning(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise self._fail("проверка версионирования", exc) from exc
        if versioning.get("Status") != "Enabled":
            raise StorageError(
                f"хранилище «{self.name}»: в корзине «{self.bucket}» не включено "
                "версионирование, без него блокировка объектов (Object Lock) невозможна"
            )
        try:
            lock = client.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError as exc:
            if _error_code(exc) == "ObjectLockConfigurationNotFoundError":
                raise StorageError(
                    f"хранилище «{self.name}»: в корзине «{self.bucket}» не включена "
                    "блокировка объектов (S3 Object Lock). Архив не пишется туда, где записи "
                    "можно удалить до срока: создайте корзину с включённой блокировкой "
                    "объектов (Object Lock) или включите её для этой корзины"
                ) from exc
            raise self._fail("проверка блокировки объектов", exc) from exc
        except BotoCoreError as exc:
            raise self._fail("проверка блокировки объектов", exc) from exc
        if lock.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") != "Enabled":
            raise StorageError(
                f"хранилище «{self.name}»: в корзине «{self.bucket}» не включена "
                "блокировка объектов (S3 Object Lock)"
            )

    def _info(self, key: str, response: Any) -> ObjectInfo:
        until = response.get("ObjectLockRetainUntilDate")
        mode = response.get("ObjectLockMode")
        return ObjectInfo(
            key=key,
            size=int(response.get("ContentLength", 0)),
            version_id=response.get("VersionId"),
            lock_mode=str(mode) if mode else None,
            retain_until=until if isinstance(until, datetime) else None,
            checksum_sha256=_hex_checksum(response.get("ChecksumSHA256")),
            read_only=bool(mode),
        )

    def stat(self, key: str) -> ObjectInfo | None:
        response = self._head(key)
        return None if response is None else self._info(key, response)

    def read(self, key: str) -> StoredObject:
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self._key(key), ChecksumMode="ENABLED"
            )
            data = response["Body"].read()
        except ClientError as exc:
            if _error_code(exc) in _MISSING:
                raise StorageError(
                    f"хранилище «{self.name}»: объект {self.url(key)} не найден"
                ) from exc
            raise self._fail(f"чтение объекта {key}", exc) from exc
        except BotoCoreError as exc:
            raise self._fail(f"чтение объекта {key}", exc) from exc
        return StoredObject(data=data, info=self._info(key, response))

    def list_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for item in page.get("Contents", []):
                    full = item.get("Key", "")
                    if full.startswith(self.prefix) and full != self.prefix + LOCATION_MARKER:
                        keys.append(full[len(self.prefix) :])
        except (BotoCoreError, ClientError) as exc:
            raise self._fail("чтение списка объектов", exc) from exc
        return sorted(keys)

    def _put_locked(
        self,
        key: str,
        data: bytes,
        lock: Lock,
        condition: dict[str, Any],
        action: str,
        metadata: dict[str, str] | None = None,
    ) -> PutResult | None:
        """PUT ``data`` locked, checksummed and encrypted, if ``condition`` holds.

        ``None`` when the service says the condition failed (the key changed meanwhile);
        a service without conditional writes is then written to without them.
        """
        digest = hashlib.sha256(data).digest()
        checksum = base64.b64encode(digest).decode("ascii")
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self._key(key),
            "Body": data,
            "ChecksumAlgorithm": "SHA256",
            "ChecksumSHA256": checksum,
            "ObjectLockMode": lock.mode,
            "ObjectLockRetainUntilDate": lock.retain_until,
            "ServerSideEncryption": "AES256",
            "Metadata": {"sha256": digest.hex(), **(metadata or {})},
        }
        while True:
            try:
                if self._conditional_writes:
                    response = self.client.put_object(**params, **condition)
                else:
                    response = self.client.put_object(**params)
                break
            except ClientError as exc:
                code = _error_code(exc)
                if code in _PRECONDITION:
                    return None
                if code in ("NotImplemented", "501") and self._conditional_writes:
                    self._conditional_writes = False
                    continue
                raise self._fail(f"{action} {key}", exc) from exc
            except BotoCoreError as exc:
                raise self._fail(f"{action} {key}", exc) from exc
        info = ObjectInfo(
            key=key,
            size=len(data),
            version_id=self._written_version(key, response, checksum),
            lock_mode=lock.mode,
            retain_until=lock.retain_until,
            checksum_sha256=digest.hex(),
            read_only=True,
        )
        return PutResult(info=info, created=True)

    def put(self, key: str, data: bytes, lock: Lock) -> PutResult:
        """PUT once, locked, checksummed and encrypted; an existing key is compared instead."""
        if self.stat(key) is not None:
            return self._compare_existing(key, data)
        result = self._put_locked(key, data, lock, {"IfNoneMatch": "*"}, "запись объекта")
        if result is None:  # written meanwhile (by us before a crash?)
            return self._compare_existing(key, data)
        crash_point()  # object stored, not yet checked
        return result

    def _head(self, key: str, version_id: str | None = None) -> Any:
        """HEAD of the current (or the given) version, ``None`` when there is none."""
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self._key(key),
            "ChecksumMode": "ENABLED",
        }
        if version_id:
            params["VersionId"] = version_id
        try:
            return self.client.head_object(**params)
        except ClientError as exc:
            if _error_code(exc) in _MISSING:
                return None
            raise self._fail(f"чтение сведений об объекте {key}", exc) from exc
        except BotoCoreError as exc:
            raise self._fail(f"чтение сведений об объекте {key}", exc) from exc

    def _version_sha256(self, key: str, head: Any) -> str:
        """sha256 of one version: the checksum the service keeps, else its bytes hashed."""
        kept = _hex_checksum(head.get("ChecksumSHA256"))
        if kept is not None:
            return kept
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self._key(key), VersionId=head["VersionId"]
            )
            return hashlib.sha256(response["Body"].read()).hexdigest()
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(f"чтение объекта {key}", exc) from exc

    def _refuse_weaker_lock(self, key: str, lock: Lock, expected_sha256: str) -> None:
        """Refuse ``lock`` when an earlier version with the expected content is locked longer."""
        full = self._key(key)
        versions: list[str] = []
        try:
            paginator = self.client.get_paginator("list_object_versions")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                versions += [
                    str(v["VersionId"])
                    for v in page.get("Versions", [])
                    if v.get("Key") == full and v.get("VersionId")
                ]
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(f"чтение версий объекта {key}", exc) from exc
        for version_id in versions:
            head = self._head(key, version_id)
            if head is None or not head.get("ObjectLockMode"):
                continue
            if self._version_sha256(key, head) != expected_sha256:
                continue
            mode = str(head["ObjectLockMode"])
            until = head.get("ObjectLockRetainUntilDate")
            weaker_mode = lock_strength(lock.mode) < lock_strength(mode)
            if weaker_mode or (isinstance(until, datetime) and lock.retain_until < until):
                raise StorageError(
                    f"хранилище «{self.name}»: восстановление {self.url(key)} сократило бы срок "
                    f"хранения (версия {version_id}: {mode} до {until}, а запрошено "
                    f"{lock.mode} до {lock.retain_until.isoformat()}); ничего не записано"
                )

    def locked_originals(self, prefix: str) -> dict[str, StoredObject]:
        """The oldest version of every key under ``prefix`` (delete markers ignored)."""
        oldest: dict[str, tuple[Any, str]] = {}
        try:
            paginator = self.client.get_paginator("list_object_versions")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for version in page.get("Versions", []):
                    full, vid = str(version.get("Key", "")), version.get("VersionId")
                    if not full.startswith(self.prefix) or not vid:
                        continue
                    key = full[len(self.prefix) :]
                    when = version.get("LastModified")
                    # versions of a key are listed newest first: on a tie (1 s) the later wins
                    if key not in oldest or when <= oldest[key][0]:
                        oldest[key] = (when, str(vid))
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(f"чтение версий объектов {prefix}", exc) from exc
        found: dict[str, StoredObject] = {}
        for key, (_, vid) in sorted(oldest.items()):
            try:
                response = self.client.get_object(
                    Bucket=self.bucket, Key=self._key(key), VersionId=vid
                )
                data = response["Body"].read()
            except (BotoCoreError, ClientError) as exc:
                raise self._fail(f"чтение версии {vid} объекта {key}", exc) from exc
            found[key] = StoredObject(data=data, info=self._info(key, response))
        return found

    def restore(self, key: str, data: bytes, lock: Lock, expected_sha256: str) -> PutResult:
        """A new, locked version over a damaged current one (or a delete marker)."""
        digest = hashlib.sha256(data).digest()
        if digest.hex() != expected_sha256:
            raise ValueError("restore: the data does not have the expected sha256")
        current = self._head(key)
        if current is not None and self._version_sha256(key, current) == expected_sha256:
            return PutResult(info=self._info(key, current), created=False)
        self._refuse_weaker_lock(key, lock, expected_sha256)
        condition = (
            {"IfMatch": str(current["ETag"])}
            if current is not None and current.get("ETag")
            else {"IfNoneMatch": "*"}
        )
        result = self._put_locked(
            key,
            data,
            lock,
            condition,
            "восстановление объекта",
            {"restored": "archiver verify --repair"},
        )
        if result is None:
            raise StorageConflict(
                f"хранилище «{self.name}»: объект {self.url(key)} изменился во время "
                "восстановления; ничего не записано, повторите проверку"
            )
        version_id = result.info.version_id
        try:
            stored = self.client.get_object(
                Bucket=self.bucket, Key=self._key(key), VersionId=str(version_id)
            )["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(f"чтение восстановленного объекта {key}", exc) from exc
        if hashlib.sha256(stored).digest() != digest:
            raise StorageError(
                f"хранилище «{self.name}»: восстановленная версия {version_id} объекта "
                f"{self.url(key)} не читается такой, какой записана"
            )
        return result
