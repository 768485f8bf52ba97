"""Where archiver keeps its local working state (never the archive itself).

The archive lives in the two storage locations and is the source of truth. Next to
the configuration file archiver keeps a small working folder for what can be
rebuilt or is only bookkeeping: the catalog index, the times records were last
verified, run reports. Configured by ``[archive] state_dir`` (relative to the
configuration file), default ``./state`` beside ``archiver.toml``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from archiver.config import DEFAULT_CONFIG, ConfigError

DEFAULT_STATE_DIR = "state"


def state_dir(config_path: Path | None = None, *, create: bool = True) -> Path:
    """The working-state folder for the configuration at ``config_path``."""
    path = config_path or Path(DEFAULT_CONFIG)
    folder = Path(DEFAULT_STATE_DIR)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: ошибка в файле настроек: {exc}") from exc
    archive = data.get("archive", {})
    if not isinstance(archive, dict):
        raise ConfigError(f"{path}: [archive]: ожидалась таблица")
    value = archive.get("state_dir")
    if value is not None:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{path}: [archive] state_dir: ожидалась непустая строка")
        folder = Path(value).expanduser()
    if not folder.is_absolute():
        folder = path.parent / folder
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder
