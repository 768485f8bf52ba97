"""The importer interface and the one HTTP client every importer shares.

An importer (:class:`Importer`) walks a journal system's web API for one school and
one academic year and builds the export document (format v1, as JSON data); the
common run (:mod:`.run`) validates it with the v1 reader, so what comes out is the
same immutable model a file export gives. Requests go through :class:`ApiClient`:
the urllib3 pool of :mod:`archiver.sources.http` (retries with backoff, ``Retry-After``,
the credential headers dropped on redirects elsewhere), paging, every response
recorded for provenance, and each response checked against a pydantic model of its
route, so a renamed or retyped field is one Russian message naming the field and
the route. 401, 403 and 429 get messages of their own.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, TypeVar

import urllib3
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from archiver.errors import ArchiverError, ExitCode, InputError
from archiver.progress import ProgressCallback
from archiver.sources.http import (
    DEFAULT_MAX_BYTES,
    OnRetry,
    SourceError,
    display_url,
    fetch_export,
    open_pool,
)

T = TypeVar("T")


class Shape(BaseModel):
    """A response item of a route: the fields archiver reads; others are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class PullError(ArchiverError):
    """A pull could not finish: the journal system or the network failed (exit code 70)."""

    exit_code = ExitCode.FAILURE


class PullInputError(PullError):
    """What the user has to fix: the token, the rights, the settings (exit code 2)."""

    exit_code = ExitCode.BAD_INPUT


class ShapeChanged(PullError):
    """A response does not have the shape the importer knows (exit code 70)."""


@dataclass(frozen=True, slots=True)
class Response:
    """One response as received: what provenance and capture keep."""

    seq: int
    route: str
    """The route template, e.g. ``/api/ej/core/teacher/v1/marks``."""
    url: str
    """The address as shown (secret-looking query values masked)."""
    body: bytes
    received_at: datetime


@dataclass(slots=True)
class Notes:
    """What a pull reports besides the export: warnings and what the system does not provide."""

    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def lacks(self, text: str) -> None:
        if text not in self.missing:
            self.missing.append(text)

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(весь ответ)"


def _shape_problem(error: ValidationError, route: str, system: str) -> ShapeChanged:
    first = error.errors(include_url=False)[0]
    where = _where(tuple(first["loc"]))
    if first["type"] == "missing":
        what = "нет поля"
    else:
        what = (
            f"неожиданное значение {json.dumps(first.get('input'), ensure_ascii=False)[:60]} в поле"
        )
    more = error.error_count() - 1
    tail = f" (и ещё {more} несовпадений)" if more > 0 else ""
    return ShapeChanged(
        f"{system}: ответ на запрос {route} изменил вид: {what} {where}{tail}. Импорт написан "
        "по известному виду ответов; сохраните ответы (archiver pull … --capture ПАПКА) и "
        "сообщите разработчикам archiver"
    )


class ApiClient:
    """GET requests to one journal system: shared connections, retries, paging, shapes, records."""

    def __init__(
        self,
        system: str,
        base_url: str,
        auth_headers: Mapping[str, str],
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 1.0,
        max_delay: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: OnRetry | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.system = system
        self.base_url = base_url.rstrip("/")
        self.auth_headers = dict(auth_headers)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_delay = max_delay
        self.sleep = sleep
        self.on_retry = on_retry
        self.clock = clock
        self.responses: list[Response] = []
        self._pool: urllib3.PoolManager | None = None

    def __enter__(self) -> ApiClient:
        self._pool = open_pool(self.base_url, self.timeout)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._pool is not None:
            self._pool.clear()
            self._pool = None

    @property
    def routes(self) -> list[str]:
        """The routes used, in the order first used."""
        return list(dict.fromkeys(r.route for r in self.responses))

    def raw(self, route: str, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """The JSON of ``GET base_url + path`` (``route``: the path's template, for messages)."""
        query = urllib.parse.urlencode(
            {k: _param(v) for k, v in (params or {}).items() if v is not None}
        )
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        try:
            body = fetch_export(
                url,
                token_env="",
                timeout=self.timeout,
                retries=self.retries,
                backoff=self.backoff,
                max_delay=self.max_delay,
                max_bytes=DEFAULT_MAX_BYTES,
                sleep=self.sleep,
                on_retry=self.on_retry,
                auth_headers=self.auth_headers,
                pool=self._pool,
            )
        except SourceError as exc:
            raise self._failure(exc, route) from exc
        self.responses.append(
            Response(len(self.responses) + 1, route, display_url(url), body, self.clock())
        )
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ShapeChanged(
                f"{self.system}: ответ на запрос {route} — не JSON ({display_url(url)}); "
                "возможно, адрес ведёт не на API системы"
            ) from exc

    def get(
        self,
        route: str,
        shape: Any,
        *,
        path: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """The response of ``route`` checked against ``shape`` (a pydantic model or type)."""
        data = self.raw(route, path or route, params)
        try:
            return TypeAdapter(shape).validate_python(data)
        except ValidationError as exc:
            raise _shape_problem(exc, route, self.system) from exc

    def pages(
        self,
        route: str,
        item: type[T],
        *,
        path: str | None = None,
        params: Mapping[str, Any] | None = None,
        per_page: int = 100,
        page_key: str = "page",
        size_key: str = "per_page",
    ) -> list[T]:
        """Every item of a paged list: pages 1, 2, … until one brings nothing new.

        A page shorter than an earlier one is the last; a server that serves fewer
        items per page than asked (its own cap) is followed to the end too.
        """
        items: list[T] = []
        seen: set[str] = set()
        largest = 0
        for page in range(1, 100_000):
            got = self.get(
                route,
                list[item],  # type: ignore[valid-type]
                path=path,
                params={**(params or {}), page_key: page, size_key: per_page},
            )
            fresh = [x for x in got if _key(x) not in seen]
            seen.update(_key(x) for x in fresh)
            items.extend(fresh)
            if not fresh or (largest and len(got) < largest):  # the last page, or paging ignored
                break
            largest = max(largest, len(got))
        return items

    def _failure(self, exc: SourceError, route: str) -> PullError:
        system, base = self.system, display_url(self.base_url)
        if exc.status == 401:
            return PullInputError(
                f"{system} ({base}) не принял токен (401) на запросе {route}: токен просрочен "
                f"или неверен. Войдите в {system} в браузере заново, скопируйте новый токен и "
                "запустите команду снова (--token-file ФАЙЛ или ввод по запросу)"
            )
        if exc.status == 403:
            return PullInputError(
                f"{system} ({base}) отказал в доступе (403) на запросе {route}: у учётной "
                "записи нет прав на эти данные. Нужен администратор школы или учитель с "
                "доступом к журналам выгружаемых классов"
            )
        if exc.status == 429:
            return PullError(
                f"{system} ({base}) ограничивает частоту запросов (429) на запросе {route}; "
                f"паузы по Retry-After не помогли{_attempts(exc.attempts)}. Запустите выгрузку "
                "позже: она начнётся заново, ничего не записано"
            )
        kind = PullInputError if exc.exit_code == ExitCode.BAD_INPUT else PullError
        return kind(f"{system}: запрос {route} не выполнен: {exc}. Ничего не записано")


def _attempts(n: int) -> str:
    return f" (попыток: {n})" if n > 1 else ""


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _key(item: Any) -> str:
    ident = getattr(item, "id", None)
    return repr(ident) if ident is not None else repr(item)


@dataclass(frozen=True, slots=True)
class SchoolInfo:
    """The school as printed: not every system gives it, so it comes from ``archiver.toml``."""

    id: str
    short_name: str
    full_name: str
    director: str
    director_position: str
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Pulled:
    """An importer's outcome: the export document (JSON data) and what it noticed."""

    document: dict[str, Any]
    account: dict[str, Any]
    notes: Notes


class Importer(Protocol):
    """A journal system's importer: one school's academic year into the export document."""

    system: ClassVar[str]
    """The name on the command line: ``epos``, ``dnevnik``."""
    title: ClassVar[str]
    """The system's name as printed on the title sheet."""

    def auth_headers(self, token: str) -> dict[str, str]:
        """The headers that carry the token (and profile) to the system."""
        ...

    def pull(
        self,
        api: ApiClient,
        school: SchoolInfo,
        year: str | None,
        progress: ProgressCallback | None,
    ) -> Pulled:
        """Walk the API for ``year`` (``"2025/2026"``; ``None``: the current year)."""
        ...


def check_token(token: str, system: str) -> str:
    """The token as sent: stripped; refused when empty or unfit for an HTTP header."""
    token = token.strip()
    if not token:
        raise InputError(f"{system}: токен пуст — вставьте токен, скопированный из браузера")
    if not all(0x21 <= ord(c) <= 0x7E for c in token):
        raise InputError(
            f"{system}: токен содержит пробелы или буквы не латиницей; скопируйте его целиком "
            "ещё раз (только значение, без «Bearer» и кавычек)"
        )
    return token
