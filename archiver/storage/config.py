"""The ``[storage]`` sections of ``archiver.toml``: the two archive locations.

::

    [storage]
    timezone = "Asia/Yekaterinburg"   # optional; default: the export's UTC offset

    [storage.primary]                 # e.g. the school's NAS share
    kind = "local"
    path = "/mnt/archive"

    [storage.secondary]               # e.g. an S3 bucket with Object Lock, elsewhere
    kind = "s3"
    bucket = "school-archive"
    prefix = "journal"
    endpoint_url = "https://storage.example.ru"
    region = "ru-central1"
    profile = "archive"               # optional; else the standard AWS credential chain

Regulation 5.5 and 3.8 ask for two copies in different places, so both sections
are required and must not point at the same place. Access keys are never read
from the file. Every problem names the file and the key, in Russian.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from archiver.config import DEFAULT_CONFIG, ConfigError
from archiver.storage.base import Storage, normalize_prefix

LOCATIONS = ("primary", "secondary")
KINDS = ("local", "s3")
_LOCAL_KEYS = {"kind", "path"}
_S3_KEYS = {"kind", "bucket", "prefix", "endpoint_url", "region", "profile", "addressing_style"}
_SECRET_KEYS = (
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "access_key",
    "access_key_id",
    "secret_key",
    "secret_access_key",
    "session_token",
    "password",
)


@dataclass(frozen=True, slots=True)
class LocalLocation:
    """A folder: a mounted NAS share or an external disk."""

    name: str
    path: Path


@dataclass(frozen=True, slots=True)
class S3Location:
    """A bucket of AWS S3 or an S3-compatible service."""

    name: str
    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    addressing_style: str | None = None


Location = LocalLocation | S3Location


@dataclass(frozen=True, slots=True)
class StorageSettings:
    """Both locations and the time zone of retain-until dates."""

    path: Path
    primary: Location
    secondary: Location
    timezone: tzinfo | None = None
    """Zone of the retain-until instants; ``None``: the export's UTC offset."""

    @property
    def locations(self) -> tuple[Location, Location]:
        """Primary, then secondary."""
        return (self.primary, self.secondary)


def _where(path: Path, table: str, key: str | None = None) -> str:
    return f"{path}: [{table}] {key}" if key else f"{path}: [{table}]"


def _text(path: Path, table: str, data: dict[str, Any], key: str, *, required: bool) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise ConfigError(f"{_where(path, table, key)}: обязательный параметр не задан")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{_where(path, table, key)}: ожидалась непустая строка")
    return value.strip()


def _location(path: Path, name: str, data: Any) -> Location:
    table = f"storage.{name}"
    if not isinstance(data, dict):
        raise ConfigError(f"{_where(path, table)}: ожидалась таблица")
    for key in _SECRET_KEYS:
        if key in data:
            raise ConfigError(
                f"{_where(path, table, key)}: ключи доступа не хранятся в файле настроек; "
                "укажите профиль AWS (profile) или задайте переменные окружения "
                "AWS_ACCESS_KEY_ID и AWS_SECRET_ACCESS_KEY"
            )
    kind = _text(path, table, data, "kind", required=True)
    if kind not in KINDS:
        raise ConfigError(
            f'{_where(path, table, "kind")}: допустимо "local" или "s3", а не "{kind}"'
        )
    allowed = _LOCAL_KEYS if kind == "local" else _S3_KEYS
    for key in data:
        if key not in allowed:
            raise ConfigError(
                f"{_where(path, table, key)}: неизвестный параметр; для хранилища «{kind}» "
                f"допустимы: {', '.join(sorted(allowed))}"
            )
    if kind == "local":
        folder = Path(_text(path, table, data, "path", required=True) or "").expanduser()
        return LocalLocation(name, folder if folder.is_absolute() else path.parent / folder)
    style = _text(path, table, data, "addressing_style", required=False)
    if style not in (None, "path", "virtual", "auto"):
        raise ConfigError(
            f'{_where(path, table, "addressing_style")}: допустимо "path", "virtual" или '
            f'"auto", а не "{style}"'
        )
    endpoint = _text(path, table, data, "endpoint_url", required=False)
    if endpoint is not None and not endpoint.startswith(("https://", "http://")):
        raise ConfigError(
            f"{_where(path, table, 'endpoint_url')}: ожидался адрес вида https://…, "
            f"а не «{endpoint}»"
        )
    prefix = data.get("prefix", "")
    if not isinstance(prefix, str):
        raise ConfigError(f"{_where(path, table, 'prefix')}: ожидалась строка")
    return S3Location(
        name=name,
        bucket=_text(path, table, data, "bucket", required=True) or "",
        prefix=normalize_prefix(prefix),
        endpoint_url=endpoint,
        region=_text(path, table, data, "region", required=False),
        profile=_text(path, table, data, "profile", required=False),
        addressing_style=style,
    )


def _overlap(a: Location, b: Location) -> bool:
    """Whether two locations are the same place (or one lies inside the other)."""
    if isinstance(a, LocalLocation) and isinstance(b, LocalLocation):
        pa, pb = a.path.resolve(), b.path.resolve()
        return pa == pb or pa.is_relative_to(pb) or pb.is_relative_to(pa)
    if isinstance(a, S3Location) and isinstance(b, S3Location):
        same_service = (a.endpoint_url or "").rstrip("/") == (b.endpoint_url or "").rstrip("/")
        return (
            same_service
            and a.bucket == b.bucket
            and (a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix))
        )
    return False


def load_storage_settings(path: Path | None = None) -> StorageSettings:
    """Read ``[storage]``, ``[storage.primary]`` and ``[storage.secondary]`` of ``archiver.toml``."""
    path = path or Path(DEFAULT_CONFIG)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(
            f"файл настроек {path} не найден (укажите его параметром --config)"
        ) from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"{path} — это папка, а нужен файл настроек") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: файл настроек не в кодировке UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: ошибка в файле настроек: {exc}") from exc
    storage = data.get("storage")
    if storage is None:
        raise ConfigError(
            f"{path}: нет раздела [storage]: укажите два места хранения, "
            "[storage.primary] и [storage.secondary]"
        )
    if not isinstance(storage, dict):
        raise ConfigError(f"{path}: [storage]: ожидалась таблица")
    for key in storage:
        if key not in (*LOCATIONS, "timezone"):
            raise ConfigError(
                f"{_where(path, 'storage', key)}: неизвестный параметр; допустимы: "
                "timezone, primary, secondary"
            )
    locations: list[Location] = []
    for name in LOCATIONS:
        if name not in storage:
            raise ConfigError(
                f"{path}: нет раздела [storage.{name}]: архив хранится в двух копиях "
                "в разных местах (регламент, п. 3.8 и 5.5)"
            )
        locations.append(_location(path, name, storage[name]))
    primary, secondary = locations
    if _overlap(primary, secondary):
        raise ConfigError(
            f"{path}: [storage.primary] и [storage.secondary] указывают на одно и то же место; "
            "две копии должны храниться в разных местах"
        )
    zone: tzinfo | None = None
    zone_name = _text(path, "storage", storage, "timezone", required=False)
    if zone_name is not None:
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(
                f"{_where(path, 'storage', 'timezone')}: неизвестный часовой пояс «{zone_name}» "
                "(пример: Asia/Yekaterinburg)"
            ) from exc
    return StorageSettings(path=path, primary=primary, secondary=secondary, timezone=zone)


def open_location(location: Location) -> Storage:
    """The backend of one configured location."""
    if isinstance(location, LocalLocation):
        from archiver.storage.local import LocalStorage

        return LocalStorage(location.name, location.path)
    from archiver.storage.s3 import S3Storage

    return S3Storage(
        location.name,
        location.bucket,
        location.prefix,
        endpoint_url=location.endpoint_url,
        region=location.region,
        profile=location.profile,
        addressing_style=location.addressing_style,
    )
