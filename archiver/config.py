"""The project configuration file, ``archiver.toml``.

Secrets never live in the file: the signer's passphrase or PIN comes from the
environment variable the file names, or from an interactive prompt. Relative
paths are taken relative to the file's folder. Every problem names the file and
the key, in Russian. The keys are documented in ``docs/configuration.md``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.errors import ArchiverError, ExitCode

DEFAULT_CONFIG = "archiver.toml"
LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


class ConfigError(ArchiverError):
    """The configuration file is missing, unreadable or wrong."""

    exit_code = ExitCode.BAD_INPUT


@dataclass(frozen=True, slots=True)
class Pkcs12Signer:
    """The director's key and certificate in a PKCS#12 file."""

    path: Path
    passphrase_env: str = "ARCHIVER_SIGNER_PASSPHRASE"


@dataclass(frozen=True, slots=True)
class Pkcs11Signer:
    """The director's key on a PKCS#11 token (a hardware token or SoftHSM2)."""

    module: Path
    token_label: str
    key_label: str
    cert_label: str
    pin_env: str = "ARCHIVER_SIGNER_PIN"


@dataclass(frozen=True, slots=True)
class SignatureSettings:
    """How documents are signed and validated."""

    signer: Pkcs12Signer | Pkcs11Signer | None
    level: str
    tsa_url: str | None
    trust_roots: tuple[Path, ...]
    signer_position: str = "Директор"
    crls: tuple[Path, ...] = ()
    """CRL files known in advance (DER or PEM), embedded when the CA's CRL is not reachable."""
    demo_tsa: Path | None = None
    """Demo keys folder: run the demo timestamping service on 127.0.0.1 while signing."""


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration; sections not yet used by a command may be empty."""

    path: Path | None
    signature: SignatureSettings
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


class _Reader:
    """Typed access to a TOML table with messages naming the file and key."""

    def __init__(self, path: Path, table: dict[str, Any], prefix: str) -> None:
        self.path = path
        self.table = table
        self.prefix = prefix

    def where(self, key: str) -> str:
        return f"{self.path}: [{self.prefix}] {key}" if self.prefix else f"{self.path}: {key}"

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.table.get(key, default)
        if value is None:
            if required:
                raise ConfigError(f"{self.where(key)}: обязательный параметр не задан")
            return None
        if not isinstance(value, str) or (required and not value):
            raise ConfigError(f"{self.where(key)}: ожидалась непустая строка")
        return value

    def path_value(self, key: str, *, required: bool = False) -> Path | None:
        value = self.text(key, required=required)
        if value is None:
            return None
        candidate = Path(value).expanduser()
        return candidate if candidate.is_absolute() else self.path.parent / candidate

    def paths(self, key: str, problem: str) -> tuple[Path, ...]:
        values = self.table.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise ConfigError(f"{self.where(key)}: {problem}")
        found = (Path(v).expanduser() for v in values)
        return tuple(p if p.is_absolute() else self.path.parent / p for p in found)

    def secret_check(self, forbidden: tuple[str, ...]) -> None:
        for key in forbidden:
            if key in self.table:
                raise ConfigError(
                    f"{self.where(key)}: пароли и PIN-коды не хранятся в файле настроек; "
                    "укажите имя переменной окружения (…_env) или введите при запросе"
                )


def _signature(path: Path, data: dict[str, Any]) -> SignatureSettings:
    signer_table = data.get("signer", {})
    signature_table = data.get("signature", {})
    for name, table in (("signer", signer_table), ("signature", signature_table)):
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{name}]: ожидалась таблица")
    signer_reader = _Reader(path, signer_table, "signer")
    signer_reader.secret_check(("passphrase", "password", "pin", "PIN"))
    signer: Pkcs12Signer | Pkcs11Signer | None = None
    kind = signer_reader.text("kind")
    if kind == "pkcs12":
        signer = Pkcs12Signer(
            path=signer_reader.path_value("pkcs12_file", required=True) or Path(),
            passphrase_env=signer_reader.text("passphrase_env", "ARCHIVER_SIGNER_PASSPHRASE") or "",
        )
    elif kind == "pkcs11":
        signer = Pkcs11Signer(
            module=signer_reader.path_value("module", required=True) or Path(),
            token_label=signer_reader.text("token_label", required=True) or "",
            key_label=signer_reader.text("key_label", required=True) or "",
            cert_label=signer_reader.text("cert_label", required=True) or "",
            pin_env=signer_reader.text("pin_env", "ARCHIVER_SIGNER_PIN") or "",
        )
    elif kind is not None:
        raise ConfigError(
            f'{signer_reader.where("kind")}: допустимо "pkcs12" или "pkcs11", а не "{kind}"'
        )

    reader = _Reader(path, signature_table, "signature")
    tsa_url = reader.text("tsa_url")
    demo_tsa = reader.path_value("demo_tsa")
    if tsa_url and demo_tsa:
        raise ConfigError(
            f"{reader.where('demo_tsa')}: укажите либо tsa_url, либо demo_tsa, но не оба"
        )
    level = reader.text("level", "B-LTA" if tsa_url or demo_tsa else "B-B") or "B-B"
    if level not in LEVELS:
        raise ConfigError(f"{reader.where('level')}: допустимо {', '.join(LEVELS)}, а не «{level}»")
    if level != "B-B" and not tsa_url and not demo_tsa:
        raise ConfigError(
            f"{reader.where('tsa_url')}: для уровня {level} нужен адрес службы штампов времени"
        )
    roots = reader.paths("trust_roots", "ожидался список путей к сертификатам")
    crls = reader.paths("crls", "ожидался список путей к спискам отзыва (CRL)")
    return SignatureSettings(
        signer=signer,
        level=level,
        tsa_url=tsa_url,
        trust_roots=roots,
        signer_position=reader.text("signer_position", "Директор") or "Директор",
        crls=crls,
        demo_tsa=demo_tsa,
    )


def load_config(path: Path | None = None) -> Config:
    """Read ``archiver.toml`` (the given path, else ``./archiver.toml``)."""
    path = path or Path(DEFAULT_CONFIG)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(
            f"файл настроек {path} не найден (создайте его командой «archiver init» или укажите --config)"
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: файл настроек не в кодировке UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: ошибка в файле настроек: {exc}") from exc
    return Config(path=path, signature=_signature(path, data), raw=data)
