"""Fetching the journal export over HTTP(S), and opening an export source (file or URL).

:func:`fetch_export` downloads the export with the bearer token from an environment
variable (``ARCHIVER_SOURCE_TOKEN`` by default), with a socket timeout, retries with
exponential backoff on transient failures (5xx, 429, 408, timeouts, connection errors,
a connection dropped mid-body), ``Retry-After`` honoured up to a cap, and a size limit
that is checked against ``Content-Length`` before reading and again while reading.

Every failure is a :class:`SourceError` with a Russian message that names the URL
(without user info and with secret-looking query parameters masked) and never the
token. Network and server failures exit with 1; what the user has to fix (a bad address,
401/403/404 and other 4xx, an export over the size limit, an HTML page instead of JSON)
is a :class:`SourceInputError` and exits with 2.

Only the bytes are fetched here: whether they are UTF-8 JSON in the export format is
decided by :func:`archiver.sources.export_v1.read_export`, which reports broken or
truncated JSON in one line with the position.

Why urllib3: it is a kept library that is installed anyway (botocore depends on it),
and it does what was hand-written here on :mod:`urllib.request`: connection pools and
timeouts, redirects that drop the ``Authorization`` header when they leave the
URL's origin (``remove_headers_on_redirect``), and the retry policy
(:class:`urllib3.util.Retry`: which statuses and errors are repeated, the backoff,
``Retry-After``). What stays here is the policy's details (:class:`_Retry`: the delays
go through the caller's ``sleep``, the first repeat waits ``backoff`` too, a certificate
that fails verification is not repeated), reading the body under the size limit (a
connection dropped mid-body is a failed attempt of the same budget) and the Russian
messages. TLS is verified against the system's trust store (OpenSSL's defaults, so
``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` apply); a proxy comes from ``https_proxy`` / ``http_proxy`` /
``no_proxy``, chosen for the export's own address.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import os
import re
import ssl
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import urllib3
from urllib3.exceptions import HTTPError, MaxRetryError
from urllib3.response import BaseHTTPResponse
from urllib3.util import Retry, Timeout

from archiver import __version__
from archiver.errors import InputError
from archiver.sources.http_messages import (
    RETRY_STATUSES,
    Failure,
    SourceError,
    SourceInputError,
    attempts_suffix,
    cause_of,
    display_url,
    network_failure,
    size_text,
    status_failure,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "TOKEN_ENV",
    "OnRetry",
    "Progress",
    "SourceError",
    "SourceInputError",
    "display_url",
    "fetch_export",
    "is_url",
    "load_source",
    "open_pool",
]

TOKEN_ENV = "ARCHIVER_SOURCE_TOKEN"
"""Environment variable with the bearer token of an HTTP export source."""

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 1.0
DEFAULT_MAX_DELAY = 60.0
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
CHUNK_SIZE = 1024 * 1024
MAX_REDIRECTS = 10

Progress = Callable[[int, int | None], None]
"""``progress(done, total)``: bytes read so far in this attempt; ``total`` from ``Content-Length`` or ``None``."""

OnRetry = Callable[[int, float, str], None]
"""``on_retry(failed_attempt, delay_seconds, reason)``: called before sleeping; ``reason`` is Russian."""


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


def _valid_token(token: str) -> bool:
    return all(0x21 <= ord(char) <= 0x7E for char in token)


@dataclass(frozen=True, slots=True)
class _Request:
    """What one :func:`fetch_export` call's messages and waits need."""

    shown: str
    token_env: str
    has_token: bool
    timeout: float
    repeats: int
    sleep: Callable[[float], None]
    on_retry: OnRetry | None

    def status_failure(self, response: BaseHTTPResponse) -> Failure:
        return status_failure(
            response.status,
            response.reason,
            shown=self.shown,
            token_env=self.token_env,
            has_token=self.has_token,
        )

    def network_failure(self, error: BaseException, *, reading: bool = False) -> Failure:
        return network_failure(error, shown=self.shown, timeout=self.timeout, reading=reading)


class _Retry(Retry):
    """urllib3's retry policy with this module's rules.

    urllib3 decides what is repeated (``status_forcelist``, connection and read errors),
    follows redirects and strips the token from those leaving the origin, and keeps the
    history. This subclass adds: one budget of ``repeats`` failed attempts whatever their
    kind (redirects are not failures), a certificate that fails verification and a
    redirect to another scheme are not repeated, the first repeat also waits
    ``backoff_factor`` (urllib3 waits nothing), every wait is capped at ``backoff_max``
    (``Retry-After`` too, and one that is neither seconds nor a date is ignored), and
    the wait goes through the caller's ``sleep`` after its ``on_retry``.
    """

    RETRY_AFTER_STATUS_CODES = frozenset({429, 503})
    """A ``Retry-After`` on 413 does not make it a failure worth repeating."""

    def __init__(self, request: _Request, **options: Any) -> None:
        super().__init__(**options)
        self.request = request

    def new(self, **options: Any) -> Self:
        options.setdefault("request", self.request)
        return super().new(**options)

    @property
    def failures(self) -> int:
        """Failed attempts so far."""
        return sum(1 for entry in self.history if entry.redirect_location is None)

    def is_exhausted(self) -> bool:
        return self.failures > self.request.repeats or super().is_exhausted()

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Self:
        if error is not None:
            failure = _as_failure(error, self.request)
            failure.attempt = self.failures + 1
            if not failure.retryable:
                raise failure
            error = failure
        elif response is not None and (location := response.get_redirect_location()):
            target = urllib.parse.urljoin(url or "", location)
            if urllib.parse.urlsplit(target).scheme.lower() not in ("http", "https"):
                raise Failure(
                    f"сервер {display_url(url or '')} перенаправил запрос на неподдерживаемый "
                    f"адрес {display_url(target)}: допустимы только http:// и https://",
                    retryable=False,
                    bad_input=True,
                    attempt=self.failures + 1,
                )
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def get_backoff_time(self) -> float:
        return min(self.backoff_max, self.backoff_factor * 2.0 ** (self.failures - 1))

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        return _retry_after(response.headers.get("Retry-After"), time.time())

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        delay = self.get_backoff_time()
        if response is not None:
            reason = self.request.status_failure(response).message
            after = self.get_retry_after(response) if self.respect_retry_after_header else None
            if after is not None:
                delay = after
        else:
            last = self.history[-1].error
            reason = last.message if isinstance(last, Failure) else str(last)
        delay = max(0.0, min(delay, self.backoff_max))
        if self.request.on_retry is not None:
            self.request.on_retry(self.failures, delay, reason)
        self.request.sleep(delay)


def open_pool(url: str, timeout: float = DEFAULT_TIMEOUT) -> urllib3.PoolManager:
    """Connections with the timeouts and the system trust store, through the environment's proxy if any."""
    options: dict[str, Any] = {
        "timeout": Timeout(connect=timeout, read=timeout),
        # the system's trust store as before (OpenSSL's defaults, which honour
        # SSL_CERT_FILE / SSL_CERT_DIR): a school's own root installed with
        # update-ca-certificates keeps working
        "ssl_context": ssl.create_default_context(),
    }
    parts = urllib.parse.urlsplit(url)
    proxy = urllib.request.getproxies().get(parts.scheme.lower())
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return urllib3.PoolManager(**options)
    if "://" not in proxy:
        proxy = "http://" + proxy
    auth = urllib3.util.parse_url(proxy).auth
    headers = urllib3.make_headers(proxy_basic_auth=urllib.parse.unquote(auth)) if auth else None
    return urllib3.ProxyManager(proxy, proxy_headers=headers, **options)


# --------------------------------------------------------------------------- fetching


def fetch_export(
    url: str,
    *,
    token_env: str = TOKEN_ENV,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    backoff: float = DEFAULT_BACKOFF,
    max_delay: float = DEFAULT_MAX_DELAY,
    max_bytes: int = DEFAULT_MAX_BYTES,
    sleep: Callable[[float], None] = time.sleep,
    progress: Progress | None = None,
    on_retry: OnRetry | None = None,
    auth_headers: Mapping[str, str] | None = None,
    pool: urllib3.PoolManager | None = None,
) -> bytes:
    """Download the export at ``url`` (``http://`` or ``https://``) and return its bytes.

    :param token_env: environment variable holding the bearer token; when it is unset or
        empty no ``Authorization`` header is sent. The token is sent only to the URL's own
        origin (scheme, host, port), also across redirects, and never appears in messages.
    :param timeout: seconds to wait for the connection and for each read from the socket.
    :param retries: how many times a failed attempt is repeated, so at most
        ``retries + 1`` attempts. Repeated are 5xx, 429, 408, timeouts, connection errors
        and a body cut short; 4xx and a too large answer are not.
    :param backoff: delay before the first repeat; it doubles on each further repeat.
        A ``Retry-After`` header (seconds or a date) replaces the computed delay.
        Every delay is capped at ``max_delay`` seconds.
    :param max_bytes: largest accepted body. A larger ``Content-Length`` fails before
        reading; a body without a length is read only up to the limit, then dropped.
    :param sleep: called with each delay (tests pass a recorder).
    :param progress: called after each chunk read, see :data:`Progress`.
    :param on_retry: called before each delay, see :data:`OnRetry`.
    :param auth_headers: headers carrying a credential of another kind than a bearer token
        (an importer's ``Auth-Token``, ``Access-Token``); sent like the token, only to the
        URL's own origin, and never shown.
    :param pool: connections to reuse (:func:`open_pool`), e.g. for the many requests of
        an importer; by default a pool of its own for this one request.
    :raises SourceInputError: an address that is not http(s) or has ``user:password@``,
        401/403/404 and other 4xx, a body over ``max_bytes``, an HTML page instead of the
        export, a token value unfit for a header (exit code 2).
    :raises SourceError: timeouts, connection failures, 5xx/429 after all attempts,
        TLS errors (exit code 70).
    """
    shown = display_url(url)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise SourceInputError(
            f"адрес выгрузки {shown} не поддерживается: нужен адрес http:// или https://",
            url=shown,
        )
    try:
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError as exc:
        raise SourceInputError(
            f"в адресе выгрузки {shown} неверный номер порта", url=shown
        ) from exc
    if parts.username is not None or parts.password is not None:
        raise SourceInputError(
            f"в адресе выгрузки {shown} не должно быть имени и пароля (user:password@): "
            f"токен доступа задаётся в переменной окружения {token_env}",
            url=shown,
        )
    token = os.environ.get(token_env, "").strip()
    if token and not _valid_token(token):
        raise SourceInputError(
            f"значение переменной окружения {token_env} не годится для заголовка HTTP: "
            "токен должен состоять из латинских букв, цифр и знаков без пробелов",
            url=shown,
        )
    headers = {
        "Accept": "application/json",
        "Accept-Encoding": "identity",
        "User-Agent": f"archiver/{__version__}",
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    secret_headers = {"Authorization", "Cookie", "Proxy-Authorization"}
    for key, value in (auth_headers or {}).items():
        headers[key] = value
        secret_headers.add(key)
    has_token = bool(token) or bool(auth_headers)
    request = _Request(shown, token_env, has_token, timeout, max(0, retries), sleep, on_retry)
    retry = _Retry(
        request,
        total=None,  # the budget of failed attempts is _Retry.is_exhausted's
        redirect=MAX_REDIRECTS,
        raise_on_redirect=False,  # the last redirect comes back as a status that is refused
        status_forcelist=RETRY_STATUSES | frozenset(range(500, 600)),
        raise_on_status=False,  # the last failed status comes back and gets its message
        allowed_methods=frozenset({"GET"}),
        backoff_factor=backoff,
        backoff_max=max_delay,
        respect_retry_after_header=True,
        # the token never goes to another origin (scheme, host, port) on redirect
        remove_headers_on_redirect=frozenset(secret_headers),
    )
    with contextlib.nullcontext(pool) if pool is not None else open_pool(url, timeout) as conn:
        while True:
            try:
                response = conn.urlopen(
                    "GET",
                    url,
                    headers=headers,
                    retries=retry,
                    preload_content=False,
                    decode_content=False,
                )
            except MaxRetryError as exc:  # the last attempt allowed failed too
                failure = _as_failure(exc.reason or exc, request)
                raise _final(failure, shown) from failure.cause
            except (Failure, HTTPError) as exc:  # not worth repeating; or an unusable redirect
                failure = _as_failure(exc, request)
                raise _final(failure, shown) from failure.cause
            try:
                if not 200 <= response.status < 300:
                    refused = request.status_failure(response)
                    refused.attempt = _retry_of(response).failures + 1
                    raise _final(refused, shown)
                return _read_body(response, request, max_bytes, progress)
            except Failure as broken:  # the attempt failed after the headers, in the body
                try:
                    retry = _retry_of(response).increment("GET", url, error=broken)
                except (MaxRetryError, Failure):
                    raise _final(broken, shown) from broken.cause
                retry.sleep()
            finally:
                response.close()


def _retry_of(response: BaseHTTPResponse) -> _Retry:
    retry = response.retries
    assert isinstance(retry, _Retry)  # fetch_export passes one, urllib3 hands on its increments
    return retry


def _as_failure(error: BaseException, request: _Request) -> Failure:
    return error if isinstance(error, Failure) else request.network_failure(error)


def _final(failure: Failure, shown: str) -> SourceError:
    """The error for the user; the attempts suffix when repeating could have helped."""
    kind = SourceInputError if failure.bad_input else SourceError
    suffix = attempts_suffix(failure.attempt) if failure.retryable else ""
    return kind(
        failure.message + suffix, url=shown, status=failure.status, attempts=failure.attempt
    )


def _read_body(
    response: BaseHTTPResponse, request: _Request, max_bytes: int, progress: Progress | None
) -> bytes:
    shown = request.shown
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type in ("text/html", "application/xhtml+xml"):
        raise Failure(
            f"сервер {shown} вернул страницу HTML вместо выгрузки JSON "
            f"(Content-Type: {content_type}); возможно, адрес ведёт на страницу входа",
            retryable=False,
            bad_input=True,
        )
    length: int | None = None
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.strip().isdigit():
        length = int(declared)
        if length > max_bytes:
            raise Failure(
                f"выгрузка по адресу {shown} слишком велика: {size_text(length)} "
                f"(Content-Length), допустимо не более {size_text(max_bytes)}; загрузка не начата",
                retryable=False,
                bad_input=True,
            )
    chunks: list[bytes] = []
    done = 0
    try:
        while True:
            chunk = response.read(min(CHUNK_SIZE, max_bytes + 1 - done))
            if not chunk:
                break
            chunks.append(chunk)
            done += len(chunk)
            if done > max_bytes:
                raise Failure(
                    f"выгрузка по адресу {shown} слишком велика: получено уже больше "
                    f"{size_text(max_bytes)} (это предел), загрузка прервана",
                    retryable=False,
                    bad_input=True,
                )
            if progress is not None:
                progress(done, length)
    except (HTTPError, OSError) as exc:
        cause = cause_of(exc)
        if not isinstance(cause, http.client.IncompleteRead):
            raise request.network_failure(exc, reading=True) from exc
        received = size_text(max(done, response.tell()))
        if length is None:
            message = (
                f"соединение с сервером {shown} оборвалось посреди выгрузки (получено {received})"
            )
        else:
            message = (
                f"соединение с сервером {shown} оборвалось посреди выгрузки: получено "
                f"{received} из {size_text(length)}"
            )
        raise Failure(message, retryable=True, cause=exc) from exc
    if length is not None and done < length:
        raise Failure(
            f"соединение с сервером {shown} оборвалось посреди выгрузки: получено "
            f"{size_text(done)} из {size_text(length)}",
            retryable=True,
        )
    return b"".join(chunks)


# --------------------------------------------------------------------------- sources


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(source: str) -> bool:
    """Whether ``source`` is an address (``scheme://…``) rather than a file path.

    Any scheme counts, so that ``ftp://…`` is refused as an unsupported address
    instead of being looked up as a file; only http and https are fetched.
    """
    return _SCHEME.match(source) is not None


def load_source(
    source: str,
    *,
    token_env: str = TOKEN_ENV,
    timeout: float = DEFAULT_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    max_bytes: int = DEFAULT_MAX_BYTES,
    sleep: Callable[[float], None] = time.sleep,
    progress: Progress | None = None,
    on_retry: OnRetry | None = None,
) -> tuple[bytes, str]:
    """The export's raw bytes and display name, from an ``http(s)://`` URL or a file path.

    A URL is fetched with :func:`fetch_export` (the keyword arguments are passed on) and
    named by its :func:`display_url`; a file is read whole and named by the path as
    given. The bytes are not checked here: pass them to
    :func:`~archiver.sources.export_v1.read_export` with ``name=``.

    :raises SourceError: see :func:`fetch_export`.
    :raises InputError: the file is missing, is a folder or cannot be read (exit code 2).
    """
    if is_url(source):
        raw = fetch_export(
            source,
            token_env=token_env,
            timeout=timeout,
            retries=retries,
            max_bytes=max_bytes,
            sleep=sleep,
            progress=progress,
            on_retry=on_retry,
        )
        return raw, display_url(source)
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            mb = 1024 * 1024
            raise InputError(
                f"файл выгрузки {path} слишком велик: {size / mb:.1f} МБ, допустимо не более "
                f"{max_bytes / mb:.0f} МБ (настройка [archive] max_export_mb); файл не прочитан"
            )
        return path.read_bytes(), str(path)
    except FileNotFoundError as exc:
        raise InputError(f"файл выгрузки {path} не найден") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path} — это папка, а нужен файл выгрузки") from exc
    except PermissionError as exc:
        raise InputError(f"нет прав на чтение файла выгрузки {path}") from exc
    except OSError as exc:
        raise InputError(
            f"файл выгрузки {path} не читается: {exc.strerror or type(exc).__name__}"
        ) from exc
