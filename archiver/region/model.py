"""The region file (``region.toml``): the schools of a region and the engine that runs their work.

A regional operator lists every school once, each pointing at its own ``archiver.toml``
(its own storage locations, signer, templates and policies) and at its journal
export; the ``[engine]`` table names a running ``dask scheduler`` (``address``) or,
without one, a local cluster of worker processes on this machine::

    name = "Пермский край"

    [engine]
    address = "tcp://10.0.0.5:8786"   # без адреса: локальный кластер
    workers = 2                       # процессов локального кластера
    retries = 2                       # повторов задания при временном сбое

    [[school]]
    id = "school-17"
    config = "schools/17/archiver.toml"
    source = "schools/17/export.json"
    signer_host = true                # подпись только на исполнителе с ресурсом signer-school-17

Relative paths are taken relative to the region file's folder. Every path must be the
same on every worker (shared storage); the loader checks only what it can see here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from archiver.errors import ArchiverError, ExitCode
from archiver.wording import shown

__all__ = ["EngineOptions", "Region", "RegionError", "SchoolEntry", "load_region"]

SCHOOL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""A school's id in the region: safe in file names and engine resource names."""


class RegionError(ArchiverError):
    """The region file is missing, unreadable or wrong; nothing was started."""

    exit_code = ExitCode.BAD_INPUT


class _Table(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EngineOptions(_Table):
    """``[engine]``: where the work runs."""

    address: str | None = None
    """A running scheduler, ``tcp://host:port``; ``None``: a local cluster on this machine."""
    workers: Annotated[int, Field(ge=1, le=256)] = 2
    """Worker processes of the local cluster (one thread each)."""
    retries: Annotated[int, Field(ge=0, le=10)] = 2
    """How many times a job is run again after a transient failure (a worker died, a network error)."""
    lease_seconds: Annotated[int, Field(ge=5, le=3600)] = 60
    """The school-and-year lock's lease: a lock left by a coordinator that vanished expires after it."""

    @model_validator(mode="after")
    def _scheme(self) -> EngineOptions:
        if self.address is not None and not re.match(r"^(tcp|tls|ucx)://\S+:\d+$", self.address):
            raise ValueError(f"адрес планировщика вида tcp://узел:порт, а не {shown(self.address)}")
        return self


class SchoolEntry(_Table):
    """``[[school]]``: one school of the region."""

    id: str
    config: Path
    """The school's ``archiver.toml``."""
    source: str
    """The school's journal export: a file, or an ``https://`` address."""
    classes: list[str] | None = None
    """Only these classes (default: every class of the export)."""
    signer_host: bool = False
    """Sign only on a worker started with the resource ``signer-<id>`` (where the key or token is)."""

    @model_validator(mode="after")
    def _id(self) -> SchoolEntry:
        if not SCHOOL_ID.match(self.id):
            raise ValueError(
                f"код школы {shown(self.id)}: латинские буквы, цифры, «.», «_», «-», до 64 знаков"
            )
        return self

    @property
    def resource(self) -> str:
        """The engine resource of the worker that holds this school's signer."""
        return f"signer-{self.id}"


class Region(_Table):
    """The whole region file."""

    name: str = "Регион"
    engine: EngineOptions = EngineOptions()
    schools: Annotated[list[SchoolEntry], Field(alias="school", min_length=1)]
    path: Path = Path("region.toml")

    @model_validator(mode="after")
    def _unique(self) -> Region:
        seen: set[str] = set()
        for entry in self.schools:
            if entry.id in seen:
                raise ValueError(f"код школы «{entry.id}» указан дважды")
            seen.add(entry.id)
        return self

    def select(self, ids: tuple[str, ...] | list[str] = ()) -> list[SchoolEntry]:
        """The schools named (all when none); :class:`RegionError` for an unknown id."""
        if not ids:
            return list(self.schools)
        known = {s.id: s for s in self.schools}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise RegionError(
                f"{self.path}: нет школ с кодом {', '.join(unknown)}; "
                f"есть: {', '.join(sorted(known))}"
            )
        return [known[i] for i in dict.fromkeys(ids)]


def _resolved(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Relative school paths made relative to the region file's folder."""
    schools = data.get("school")
    if isinstance(schools, list):
        for entry in schools:
            if not isinstance(entry, dict):
                continue
            config = entry.get("config")
            if isinstance(config, str) and config:
                entry["config"] = str(folder / Path(config).expanduser())
            source = entry.get("source")
            if isinstance(source, str) and source and "://" not in source:
                entry["source"] = str(folder / Path(source).expanduser())
    return data


def _problems(path: Path, error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors(include_url=False):
        loc = [str(p) for p in item["loc"]]
        keys: list[str] = []
        for part in loc:
            if part.isdigit() and keys and keys[-1] == "school":
                keys[-1] = f"school[{int(part) + 1}]"
            else:
                keys.append(part)
        kind = str(item["type"])
        if kind in ("missing", "too_short") and keys == ["school"]:
            message = "не указано ни одной школы (таблицы [[school]])"
        elif kind == "missing":
            message = "обязательный параметр не задан"
        elif kind == "extra_forbidden":
            message = "неизвестный параметр"
        elif kind == "value_error":
            message = str(item.get("ctx", {}).get("error", item["msg"]))
        else:
            message = f"недопустимое значение {shown(item.get('input'))}"
        where = ".".join(k for k in keys if k) or "school"  # the region's own checks: schools
        lines.append(f"{path}: {where}: {message}")
    return lines


def load_region(path: Path) -> Region:
    """Read and check ``region.toml``; :class:`RegionError` naming the file and key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RegionError(f"файл региона {path} не найден") from exc
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise RegionError(f"{path}: не удаётся прочитать файл региона ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RegionError(f"{path}: ошибка в файле региона: {exc}") from exc
    if "path" in data:
        raise RegionError(f"{path}: path: неизвестный параметр")
    data = _resolved(data, path.resolve().parent)
    try:
        region = Region.model_validate({**data, "path": path})
    except ValidationError as exc:
        raise RegionError("\n".join(_problems(path, exc))) from exc
    missing = [s for s in region.schools if not s.config.is_file()]
    if missing:
        raise RegionError(
            "\n".join(
                f"{path}: school «{s.id}»: config: файл настроек школы {s.config} не найден"
                for s in missing
            )
        )
    return region
