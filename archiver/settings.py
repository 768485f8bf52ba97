"""The project's settings file, ``archiver.toml``: one typed model, read in one place.

:func:`load_settings` reads the file once into a frozen :class:`Settings`; the
command line hands it down to every command. Secrets never live in the file: the
signer's passphrase or PIN comes from the environment variable the file names,
or a prompt; S3 credentials from the standard AWS chain. Relative paths are taken
relative to the file's folder. Every problem is one Russian line naming the file
and the key path (``archiver.toml: storage.secondary.bucket: …``), in the manner
of the export's messages; the keys are documented in ``docs/configuration.md``.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from archiver.errors import ArchiverError, ExitCode
from archiver.wording import expected_type, shown, toml_error, type_name

DEFAULT_CONFIG = "archiver.toml"
DEFAULT_STATE_DIR = "state"
LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")
ABOUT_CONFIG = "создайте его командой «archiver init» или укажите --config"


class ConfigError(ArchiverError):
    """The settings file is missing, unreadable or wrong; nothing was written."""

    exit_code = ExitCode.BAD_INPUT


def _problem(message: str, *, key: str | None = None, at: str | None = None) -> PydanticCustomError:
    """A settings problem raised from a validator: ``key`` below the table, or ``at`` the whole path."""
    context: dict[str, str] = {"text": message}
    if key is not None:
        context["key"] = key
    if at is not None:
        context["at"] = at
    return PydanticCustomError("settings", "{text}", context)


def _resolve(value: Path, info: ValidationInfo) -> Path:
    """``~`` expanded; a relative path taken relative to the settings file's folder."""
    value = value.expanduser()
    base = info.context.get("folder") if isinstance(info.context, dict) else None
    return value if value.is_absolute() or base is None else base / value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""A non-empty string (surrounding spaces dropped)."""
FilePath = Annotated[Path, PlainValidator(lambda v: _path(v)), AfterValidator(_resolve)]
"""A path: relative to the settings file's folder."""


def _path(value: Any) -> Path:
    if isinstance(value, Path):
        return value
    if not isinstance(value, str) or not value.strip():
        raise _problem("ожидалась непустая строка")
    return Path(value)


def _zone(value: Any) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    if not isinstance(value, str) or not value.strip():
        raise _problem("ожидалась непустая строка")
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _problem(f"неизвестный часовой пояс «{value}» (пример: Asia/Yekaterinburg)") from exc


class _Table(BaseModel):
    """A table of the file: frozen, every unknown key reported."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    secret_keys: ClassVar[frozenset[str]] = frozenset()
    """Keys refused because they would hold a secret (see :attr:`secret_hint`)."""
    secret_hint: ClassVar[str] = ""


# -- signing


_SIGNER_SECRETS = frozenset({"passphrase", "password", "pin", "PIN"})
_SIGNER_HINT = (
    "пароли и PIN-коды не хранятся в файле настроек; "
    "укажите имя переменной окружения (…_env) или введите при запросе"
)


MODE_DIRECTOR: Literal["director"] = "director"
"""The key is the director's alone: ``year-end`` stops at «ждёт подписи директора»."""
MODE_UNATTENDED: Literal["unattended"] = "unattended"
"""The key is available to whoever runs ``year-end`` (the demo): the run signs by itself."""
SignerMode = Literal["director", "unattended"]


class Pkcs12Signer(_Table):
    """The director's key and certificate in a PKCS#12 file (``[signer] kind = "pkcs12"``)."""

    model_config = ConfigDict(populate_by_name=True)
    secret_keys = _SIGNER_SECRETS
    secret_hint = _SIGNER_HINT

    kind: Literal["pkcs12"] = "pkcs12"
    mode: SignerMode = MODE_DIRECTOR
    path: FilePath = Field(alias="pkcs12_file")
    certificate: FilePath | None = None
    """The certificate alone (PEM/DER), shown at the review before the passphrase is asked."""
    passphrase_env: Text = "ARCHIVER_SIGNER_PASSPHRASE"


class Pkcs11Signer(_Table):
    """The director's key on a PKCS#11 token (a hardware token or SoftHSM2)."""

    secret_keys = _SIGNER_SECRETS
    secret_hint = _SIGNER_HINT

    kind: Literal["pkcs11"] = "pkcs11"
    mode: SignerMode = MODE_DIRECTOR
    module: FilePath
    token_label: Text
    key_label: Text
    cert_label: Text
    pin_env: Text = "ARCHIVER_SIGNER_PIN"


class CommandSigner(_Table):
    """An external program makes the CMS (CAdES-BES) signature: КриптоПро, a token's tool, OpenSSL.

    ``sign_command`` is run once per document with ``{data}`` (a file with the bytes to
    sign) and ``{signature}`` (where the program writes the detached CMS, DER) filled in;
    ``verify_command`` (optional) with ``{data}`` and ``{signature}`` exits 0 when the
    signature is valid. A passphrase, when the program needs one from archiver
    (``asks_secret``), goes to it in the environment variable ``ARCHIVER_SIGNER_SECRET``,
    never on its command line.
    """

    secret_keys = _SIGNER_SECRETS
    secret_hint = _SIGNER_HINT

    kind: Literal["command"] = "command"
    mode: SignerMode = MODE_DIRECTOR
    certificate: FilePath
    """The director's certificate (PEM or DER): shown before signing, compared with every signature."""
    sign_command: Annotated[tuple[Text, ...], Field(min_length=1)]
    verify_command: Annotated[tuple[Text, ...], Field(min_length=1)] | None = None
    asks_secret: bool = False
    """Whether archiver asks for the key's passphrase or PIN and hands it to the command."""
    secret_env: Text = "ARCHIVER_SIGNER_PASSPHRASE"
    """Automation only: the environment variable archiver reads the passphrase from."""
    reserve_bytes: Annotated[int, Field(ge=4096, le=1_000_000)] = 32768
    """Room kept in the document for the signature (a CMS with a long chain needs more)."""

    @model_validator(mode="after")
    def _placeholders(self) -> CommandSigner:
        for name, command in (
            ("sign_command", self.sign_command),
            ("verify_command", self.verify_command),
        ):
            if command is None:
                continue
            text = " ".join(command)
            missing = [p for p in ("{data}", "{signature}") if p not in text]
            if missing:
                raise _problem(
                    f"в команде нет подстановки {', '.join(missing)} (файл с данными и файл подписи)",
                    key=name,
                )
        return self


Signer = Annotated[Pkcs12Signer | Pkcs11Signer | CommandSigner, Field(discriminator="kind")]


def _level(value: Any) -> str:
    if value not in LEVELS:
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        raise _problem(f"допустимо {', '.join(LEVELS)}, а не «{shown}»")
    return str(value)


class SignatureOptions(_Table):
    """``[signature]``: how documents are signed and validated."""

    level: Annotated[str, PlainValidator(_level)] = "B-B"
    """B-B without a timestamping service, else B-LTA unless set."""
    tsa_url: Text | None = None
    trust_roots: tuple[FilePath, ...] = ()
    signer_position: Text = "Директор"
    crls: tuple[FilePath, ...] = ()
    """CRL files known in advance (DER or PEM), embedded when the CA's CRL is not reachable."""
    demo_tsa: FilePath | None = None
    """Demo keys folder: run the demo timestamping service on 127.0.0.1 while signing."""

    @model_validator(mode="before")
    @classmethod
    def _default_level(cls, data: Any) -> Any:
        if isinstance(data, dict) and "level" not in data:
            timestamps = data.get("tsa_url") or data.get("demo_tsa")
            return {**data, "level": "B-LTA" if timestamps else "B-B"}
        return data

    @model_validator(mode="after")
    def _timestamps(self) -> SignatureOptions:
        if self.tsa_url and self.demo_tsa:
            raise _problem("укажите либо tsa_url, либо demo_tsa, но не оба", key="demo_tsa")
        if self.level != "B-B" and not self.tsa_url and not self.demo_tsa:
            raise _problem(
                f"для уровня {self.level} нужен адрес службы штампов времени", key="tsa_url"
            )
        return self


class SignatureSettings(SignatureOptions):
    """Everything the signer needs: ``[signature]`` and the ``[signer]`` of the same file."""

    signer: Signer | None = None


# -- storage


class LocalLocation(_Table):
    """A folder: a mounted NAS share or an external disk."""

    kind: Literal["local"] = "local"
    path: FilePath


def _prefix(value: str) -> str:
    """``archive`` and ``/archive/`` both become ``archive/`` (as the S3 backend keys them)."""
    cleaned = value.strip("/")
    return f"{cleaned}/" if cleaned else ""


def _endpoint(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise _problem(f"ожидался адрес вида https://…, а не «{value}»")
    return value


class S3Location(_Table):
    """A bucket of AWS S3 or an S3-compatible service."""

    secret_keys = frozenset(
        {
            "aws_access_key_id",
            "aws_secret_access_key",
            "aws_session_token",
            "access_key",
            "access_key_id",
            "secret_key",
            "secret_access_key",
            "session_token",
            "password",
        }
    )
    secret_hint = (
        "ключи доступа не хранятся в файле настроек; укажите профиль AWS (profile) или задайте "
        "переменные окружения AWS_ACCESS_KEY_ID и AWS_SECRET_ACCESS_KEY"
    )

    kind: Literal["s3"] = "s3"
    bucket: Text
    prefix: Annotated[str, AfterValidator(_prefix)] = ""
    endpoint_url: Annotated[Text, AfterValidator(_endpoint)] | None = None
    region: Text | None = None
    profile: Text | None = None
    addressing_style: Literal["path", "virtual", "auto"] | None = None


Location = Annotated[LocalLocation | S3Location, Field(discriminator="kind")]

_TWO_PLACES = "архив хранится в двух копиях в разных местах (регламент, п. 3.8 и 5.5)"


def _overlap(a: LocalLocation | S3Location, b: LocalLocation | S3Location) -> bool:
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


class StorageSettings(_Table):
    """``[storage]``: both locations (regulation 3.8 and 5.5) and the time zone of retain-until dates."""

    timezone: Annotated[ZoneInfo, PlainValidator(_zone)] | None = None
    """Zone of the retain-until instants; ``None``: the export's UTC offset."""
    primary: Location
    secondary: Location

    @model_validator(mode="after")
    def _distinct(self) -> StorageSettings:
        if _overlap(self.primary, self.secondary):
            raise _problem(
                "[storage.primary] и [storage.secondary] указывают на одно и то же место; "
                "две копии должны храниться в разных местах",
                at="",
            )
        return self

    @property
    def locations(self) -> tuple[tuple[str, LocalLocation | S3Location], ...]:
        """``(name, location)``: primary, then secondary."""
        return (("primary", self.primary), ("secondary", self.secondary))


# -- the rest


class ArchiveOptions(_Table):
    """``[archive]``: the local working folder."""

    state_dir: FilePath = Field(Path(DEFAULT_STATE_DIR), validate_default=True)
    """Working folder (year-end runs, catalog, verification bookkeeping); default ``state``."""
    max_export_mb: Annotated[int, Field(gt=0, le=100_000)] = 200
    """Largest journal export read (MB); a larger one is refused before it is read."""

    @property
    def max_export_bytes(self) -> int:
        """:attr:`max_export_mb` in bytes."""
        return self.max_export_mb * 1024 * 1024


class DocumentsOptions(_Table):
    """``[documents]``: a school's own copies of the templates and retention policies."""

    templates: FilePath | None = None
    """Templates folder; ``None``: the built-in templates."""
    retention_policies: FilePath | None = None
    """Retention policies folder; ``None``: the built-in policies."""
    nomenclature: dict[str, str] = {}
    """File indexes (индекс дела) of the school's nomenclature of files by record kind,
    e.g. ``{class_journal = "02-15", final_marks = "02-16"}``; ``{class}`` in an index
    stands for the class's name. Printed on the title sheet, the statement and the
    certification sheet («Лист-заверитель дела № 02-15») and in the inventory of files;
    a kind not listed takes its retention policy's ``case_index`` (:meth:`file_index`)."""

    @field_validator("nomenclature")
    @classmethod
    def _known_kinds(cls, value: dict[str, str]) -> dict[str, str]:
        from archiver import kinds

        known = dict.fromkeys((*kinds.KINDS, *kinds.DOCUMENT_KINDS))
        unknown = [k for k in value if k not in known]
        if unknown:
            raise _problem(
                f"неизвестный вид документа {', '.join(unknown)}; известны: {', '.join(known)}",
                key=unknown[0],
            )
        return {k: v.strip() for k, v in value.items()}

    def file_index(self, kind: str, class_name: str, fallback: str = "") -> str:
        """The printed file index of a kind for a class: the school's nomenclature, else
        ``fallback`` (the kind's retention policy's ``case_index``), else «»."""
        return (self.nomenclature.get(kind) or fallback).replace("{class}", class_name)


class ServiceSettings(_Table):
    """``[service]``: the web service (``archiver serve``); see docs/service.md."""

    database: Text | None = None
    """``postgresql://user@host/db`` for a region's server; ``None``: SQLite in the working folder."""
    session_minutes: Annotated[int, Field(ge=5, le=24 * 60)] = 30
    """A session ends after this many minutes without a request."""
    lockout_failures: Annotated[int, Field(ge=3, le=100)] = 5
    """Failed logins in a row that lock an account out."""
    lockout_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15
    https: bool = False
    """Behind an HTTPS reverse proxy: cookies only over HTTPS, HSTS, the proxy's scheme header trusted."""
    allowed_hosts: tuple[Text, ...] = ("127.0.0.1", "localhost")
    """Host names the service answers to (the name in the browser's address bar)."""

    @model_validator(mode="after")
    def _database(self) -> ServiceSettings:
        if self.database is not None and not self.database.startswith(
            ("postgresql://", "postgres://")
        ):
            raise _problem(
                "ожидался адрес вида postgresql://пользователь@сервер/база "
                "(без пароля: он берётся из ~/.pgpass или PGPASSWORD)",
                key="database",
            )
        if self.database is not None and urlsplit(self.database).password:
            raise _problem(
                "пароль базы данных не хранится в файле настроек; уберите его из адреса "
                "(PostgreSQL берёт его из ~/.pgpass или переменной PGPASSWORD)",
                key="database",
            )
        return self


# -- journal systems (archiver pull)


class SourceSchool(_Table):
    """``[source.school]``: the school as printed (the journal systems do not all give it)."""

    id: Text
    short_name: Text
    full_name: Text
    address: Text | None = None
    director: Text
    """The director's «Фамилия Имя Отчество»."""
    director_position: Text = "Директор"


class _SystemOptions(_Table):
    """What every journal system's table has."""

    secret_keys = frozenset({"token", "password", "access_token", "auth_token"})
    secret_hint = (
        "токен не хранится в файле настроек; передайте его файлом (--token-file) "
        "или введите при запросе"
    )

    base_url: Annotated[Text, AfterValidator(_endpoint)]
    academic_year: Text | None = None
    """``2025/2026``; default: the system's current year."""
    classes: tuple[Text, ...] = ()
    """The system's ids of the classes to pull; default: every class the account sees."""
    timeout: Annotated[float, Field(gt=0)] = 30.0
    retries: Annotated[int, Field(ge=0, le=20)] = 3


class EposSource(_SystemOptions):
    """``[source.epos]``: ЭПОС.Школа, МЭШ and the other forks of МЭШ."""

    base_url: Annotated[Text, AfterValidator(_endpoint)] = "https://school.permkrai.ru"
    profile_id: Text
    """The profile (``Profile-Id``) of the administrator or teacher whose token is used."""
    title: Text = "ЭПОС.Школа"
    """The system's name as printed on the title sheet (e.g. ``МЭШ``)."""


class DnevnikSource(_SystemOptions):
    """``[source.dnevnik]``: the Дневник.ру partner API."""

    base_url: Annotated[Text, AfterValidator(_endpoint)] = "https://api.dnevnik.ru/v2"
    school_id: Text
    """The school's id in Дневник.ру."""
    class_teachers: dict[str, Text] = {}
    """Class id → the class teacher's person id, where the system does not give one."""


class SourceSettings(_Table):
    """``[source]``: the school's journal system(s) that ``archiver pull`` reads."""

    school: SourceSchool
    mappings: FilePath | None = None
    """A folder with the school's own mapping tables (``epos.toml``, ``dnevnik.toml``)."""
    timezone: Annotated[ZoneInfo, PlainValidator(_zone)] = ZoneInfo("Europe/Moscow")
    """The zone of the pull time printed on the title sheet."""
    epos: EposSource | None = None
    dnevnik: DnevnikSource | None = None


class RenewalOptions(_Table):
    """``[renewal]``: when ``archiver renew`` adds a new document timestamp to a record."""

    margin_years: Annotated[int, Field(ge=0, le=20)] = 2
    """Renew when the newest timestamp's TSA certificate expires within this many years."""
    ageing_algorithms: tuple[Text, ...] = ("md5", "sha1")
    """Digest algorithms (pyHanko names) considered ageing: timestamps using them are renewed."""


class Settings(_Table):
    """The whole ``archiver.toml``; :attr:`path` is the file it was read from."""

    archive: ArchiveOptions = Field(default_factory=dict, validate_default=True)
    storage: StorageSettings | None = None
    signer: Signer | None = None
    signature_options: SignatureOptions = Field(SignatureOptions(), alias="signature")
    documents: DocumentsOptions = DocumentsOptions()
    source: SourceSettings | None = None
    renewal: RenewalOptions = RenewalOptions()
    service: ServiceSettings = ServiceSettings()

    model_config = ConfigDict(populate_by_name=True)
    _path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _empty_signer(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("signer") == {}:
            return {**data, "signer": None}
        return data

    @cached_property
    def signature(self) -> SignatureSettings:
        """``[signature]`` with the ``[signer]`` it uses."""
        options = {
            name: getattr(self.signature_options, name) for name in SignatureOptions.model_fields
        }
        return SignatureSettings.model_validate({**options, "signer": self.signer})

    @property
    def path(self) -> Path | None:
        """The file the settings were read from; ``None``: no file, the defaults."""
        return self._path

    @property
    def folder(self) -> Path:
        """The settings file's folder: relative paths start there."""
        return self.path.parent if self.path is not None else Path()

    def require_storage(self) -> StorageSettings:
        """``[storage]``, or :class:`ConfigError` when the file has none."""
        if self.storage is None:
            raise ConfigError(
                f"{self.path or DEFAULT_CONFIG}: нет раздела [storage]: укажите два места "
                "хранения, [storage.primary] и [storage.secondary]"
            )
        return self.storage

    def require_source(self, system: str) -> SourceSettings:
        """``[source]`` with its ``[source.<system>]`` table, or :class:`ConfigError`."""
        where = self.path or DEFAULT_CONFIG
        if self.source is None:
            raise ConfigError(
                f"{where}: нет раздела [source]: укажите школу ([source.school]) и систему "
                f"журнала ([source.{system}]), см. docs/sources.md"
            )
        if getattr(self.source, system, None) is None:
            raise ConfigError(
                f"{where}: нет раздела [source.{system}]: укажите адрес системы (base_url) "
                "и учётную запись, см. docs/sources.md"
            )
        return self.source

    def working_dir(self, *, create: bool = True) -> Path:
        """The local working folder (``[archive] state_dir``), created unless ``create=False``.

        It holds what can be rebuilt from the archive or is bookkeeping (the catalog,
        the times records were verified, the year-end runs and their reports); the
        archive itself lives in the two storage locations.
        """
        folder = self.archive.state_dir  # relative to the settings file's folder already
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        return folder


def load_settings(path: Path | None = None) -> Settings:
    """Read ``archiver.toml`` (the given path, else ``./archiver.toml``) once, checking every key."""
    path = path or Path(DEFAULT_CONFIG)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"файл настроек {path} не найден ({ABOUT_CONFIG})") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"{path} — это папка, а нужен файл настроек") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: файл настроек не в кодировке UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: ошибка в файле настроек: {toml_error(str(exc))}") from exc
    try:
        settings = Settings.model_validate(data, context={"folder": path.parent})
    except ValidationError as exc:
        raise ConfigError("\n".join(settings_problems(path, exc))) from exc
    settings._path = path
    return settings


def default_settings() -> Settings:
    """The settings without a file: the built-in defaults, no storage, no signer."""
    return Settings()


# -- messages


_SECTION_HINTS = {"storage.primary": _TWO_PLACES, "storage.secondary": _TWO_PLACES}
"""Required tables, and why they are required."""


def _allowed(values: list[str]) -> str:
    quoted = [f'"{v}"' for v in values]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} или {quoted[-1]}"


def _table_model(annotation: Any) -> list[type[_Table]]:
    """The table models an annotation may hold (``X | None``, tagged unions …)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _table_model(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return [m for arg in get_args(annotation) for m in _table_model(arg)]
    if isinstance(annotation, type) and issubclass(annotation, _Table):
        return [annotation]
    return []


def _walk(loc: tuple[int | str, ...]) -> tuple[list[str], type[_Table] | None]:
    """The key path of a pydantic location (tags of tagged unions left out) and its innermost table."""
    keys: list[str] = []
    model: type[_Table] | None = Settings
    candidates: list[type[_Table]] = []
    for part in loc:
        if candidates:  # a tagged union: this part is the tag
            chosen = [m for m in candidates if m.model_fields["kind"].default == part]
            if chosen:
                model, candidates = chosen[0], []
                continue
            candidates = []
        keys.append(str(part))
        field = None
        if model is not None:
            by_key = {f.alias or name: f for name, f in model.model_fields.items()}
            field = by_key.get(str(part))
        found = _table_model(field.annotation) if field is not None else []
        model = found[0] if len(found) == 1 else None
        candidates = found if len(found) > 1 else []
    return keys, model


def _message(error: Mapping[str, Any]) -> tuple[list[str], str]:
    """One pydantic error as (key path, Russian message)."""
    kind = str(error["type"])
    value = error.get("input")
    ctx = error.get("ctx") or {}
    keys, _ = _walk(tuple(error["loc"]))
    if kind == "settings":
        if "at" in ctx:
            return [part for part in str(ctx["at"]).split(".") if part], str(error["msg"])
        return keys + ([str(ctx["key"])] if "key" in ctx else []), str(error["msg"])
    if kind == "extra_forbidden":
        _, table = _walk(tuple(error["loc"])[:-1])
        if table is not None and keys[-1] in table.secret_keys:
            return keys, table.secret_hint
        allowed = sorted(f.alias or n for n, f in table.model_fields.items()) if table else []
        hint = f"; допустимы: {', '.join(allowed)}" if allowed else ""
        return keys, f"неизвестный параметр{hint}"
    if kind == "missing":
        section = ".".join(keys)
        if section in _SECTION_HINTS:
            return [], f"нет раздела [{section}]: {_SECTION_HINTS[section]}"
        return keys, "обязательный параметр не задан"
    if kind == "union_tag_not_found":
        return [*keys, "kind"], "обязательный параметр не задан"
    if kind == "union_tag_invalid":
        tags = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
        return [*keys, "kind"], f"допустимо {_allowed(tags)}, а не {shown(ctx.get('tag'))}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace(" or ", ", ")
        tags = [t.strip(" '") for t in expected.split(",")]
        return keys, f"допустимо {_allowed(tags)}, а не {shown(value)}"
    if kind == "string_too_short":
        return keys, "ожидалась непустая строка"
    wanted = expected_type(kind, "ожидалась таблица")
    if wanted is not None:
        return keys, f"{wanted}, а не {type_name(value, 'таблица')} {shown(value)}"
    return keys, f"недопустимое значение {shown(value)}"


def settings_problems(path: Path, error: ValidationError) -> list[str]:
    """Each problem of a settings file as ``<file>: <key path>: <message>``, in file order."""
    lines: list[str] = []
    for item in error.errors(include_url=False):
        keys, message = _message(item)
        where = f"{path}: {'.'.join(keys)}" if keys else str(path)
        line = f"{where}: {message}"
        if line not in lines:
            lines.append(line)
    return lines
