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

Standard library only (:mod:`urllib.request`), so proxies from ``https_proxy`` /
``no_proxy`` and a custom CA bundle from ``SSL_CERT_FILE`` work as usual.
"""

from __future__ import annotations

import email.utils
import http.client
import os
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from archiver import __version__
from archiver.errors import ArchiverError, InputError

TOKEN_ENV = "ARCHIVER_SOURCE_TOKEN"
"""Environment variable with the bearer token of an HTTP export source."""

DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 1.0
DEFAULT_MAX_DELAY = 60.0
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
CHUNK_SIZE = 1024 * 1024

RETRY_STATUSES = frozenset({408, 429})
"""Statuses below 500 that are retried (every 5xx is retried too)."""

_SECRET_QUERY_KEYS = (
    "token",
    "access_token",
    "auth",
    "key",
    "apikey",
    "api_key",
    "secret",
    "password",
    "passwd",
    "sig",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
)

Progress = Callable[[int, int | None], None]
"""``progress(done, total)``: bytes read so far in this attempt; ``total`` from ``Content-Length`` or ``None``."""

OnRetry = Callable[[int, float, str], None]
"""``on_retry(failed_attempt, delay_seconds, reason)``: called before sleeping; ``reason`` is Russian."""


class SourceError(ArchiverError):
    """The export could not be fetched: a network or server failure (exit code 1).

    ``url`` is the address as shown in messages (no credentials); ``status`` is the
    last HTTP status, if a response came at all; ``attempts`` is how many were made.
    """

    exit_code = 1

    def __init__(
        self, message: str, *, url: str = "", status: int | None = None, attempts: int = 1
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.attempts = attempts


class SourceInputError(SourceError):
    """The request itself is wrong or the answer unusable: bad address or token, 4xx, too large (exit code 2)."""

    exit_code = 2


# --------------------------------------------------------------------------- helpers


def display_url(url: str) -> str:
    """The URL as shown to the user: no ``user:password@``, secret-looking query values masked."""
    try:
        parts = urllib.parse.urlsplit(url)
        netloc = parts.hostname or ""
        if ":" in netloc:  # IPv6 literal
            netloc = f"[{netloc}]"
        if parts.port is not None:
            netloc = f"{netloc}:{parts.port}"
    except ValueError:
        return url.split("@")[-1] if "@" in url else url
    query = parts.query
    if query:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        if any(_is_secret_key(key) for key, _ in pairs):
            query = "&".join(
                f"{urllib.parse.quote(key)}=***"
                if _is_secret_key(key)
                else urllib.parse.urlencode([(key, value)])
                for key, value in pairs
            )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in _SECRET_QUERY_KEYS or lowered.endswith(("token", "secret", "password"))


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def _seconds(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") + " с"


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        text = f"{n / (1024 * 1024):.1f}".rstrip("0").rstrip(".").replace(".", ",")
        return f"{text} МБ"
    if n >= 1024:
        text = f"{n / 1024:.1f}".rstrip("0").rstrip(".").replace(".", ",")
        return f"{text} КБ"
    return f"{n} байт"


def _after(attempts: int) -> str:
    """`` (после N попыток)`` with the right Russian form; empty for a single attempt."""
    if attempts <= 1:
        return ""
    word = "попытки" if attempts % 10 == 1 and attempts % 100 != 11 else "попыток"
    return f" (после {attempts} {word})"


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


@dataclass(eq=False)
class _Failure(Exception):
    """One attempt failed; ``message`` is final except for the attempts suffix."""

    message: str
    retryable: bool
    status: int | None = None
    retry_after: float | None = None
    bad_input: bool = False


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s); keep the token only within the original origin."""

    def __init__(self, origin: tuple[str, str, int | None], authorization: str | None) -> None:
        self._origin = origin
        self._authorization = authorization

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        scheme = urllib.parse.urlsplit(newurl).scheme.lower()
        if scheme not in ("http", "https"):
            raise _Failure(
                f"сервер {display_url(req.full_url)} перенаправил запрос на неподдерживаемый "
                f"адрес {display_url(newurl)}: допустимы только http:// и https://",
                retryable=False,
                bad_input=True,
            )
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and self._authorization and _origin(newurl) == self._origin:
            # an unredirected header is never copied to a redirect target by urllib,
            # so the token reaches other hosts (or plain http) only if we add it here
            new.add_unredirected_header("Authorization", self._authorization)
        return new


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
    :raises SourceInputError: an address that is not http(s) or has ``user:password@``,
        401/403/404 and other 4xx, a body over ``max_bytes``, an HTML page instead of the
        export, a token value unfit for a header (exit code 2).
    :raises SourceError: timeouts, connection failures, 5xx/429 after all attempts,
        TLS errors (exit code 1).
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
    authorization = f"Bearer {token}" if token else None
    opener = urllib.request.build_opener(_RedirectHandler(_origin(url), authorization))
    attempts = max(0, retries) + 1
    for attempt in range(1, attempts + 1):
        try:
            return _fetch_once(
                opener, url, shown, authorization, token_env, timeout, max_bytes, progress
            )
        except _Failure as failure:
            if not failure.retryable or attempt == attempts:
                error = SourceInputError if failure.bad_input else SourceError
                suffix = _after(attempt) if failure.retryable else ""
                raise error(
                    failure.message + suffix, url=shown, status=failure.status, attempts=attempt
                ) from failure.__cause__
            delay = backoff * 2 ** (attempt - 1)
            if failure.retry_after is not None:
                delay = failure.retry_after
            delay = max(0.0, min(delay, max_delay))
            if on_retry is not None:
                on_retry(attempt, delay, failure.message)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _fetch_once(
    opener: urllib.request.OpenerDirector,
    url: str,
    shown: str,
    authorization: str | None,
    token_env: str,
    timeout: float,
    max_bytes: int,
    progress: Progress | None,
) -> bytes:
    request = urllib.request.Request(url, method="GET")
    request.add_header("Accept", "application/json")
    request.add_header("Accept-Encoding", "identity")
    request.add_header("User-Agent", f"archiver/{__version__}")
    if authorization:
        request.add_unredirected_header("Authorization", authorization)
    try:
        response = opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        try:
            raise _status_failure(exc, shown, authorization is not None, token_env) from None
        finally:
            exc.close()
    except urllib.error.URLError as exc:
        raise _network_failure(exc.reason, shown, timeout) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _network_failure(exc, shown, timeout) from exc
    with response:
        return _read_body(response, shown, timeout, max_bytes, progress)


def _read_body(
    response: Any, shown: str, timeout: float, max_bytes: int, progress: Progress | None
) -> bytes:
    headers: http.client.HTTPMessage = response.headers
    content_type = headers.get_content_type()
    if content_type in ("text/html", "application/xhtml+xml"):
        raise _Failure(
            f"сервер {shown} вернул страницу HTML вместо выгрузки JSON "
            f"(Content-Type: {content_type}); возможно, адрес ведёт на страницу входа",
            retryable=False,
            bad_input=True,
        )
    length: int | None = None
    declared = headers.get("Content-Length")
    if declared is not None and declared.strip().isdigit():
        length = int(declared)
        if length > max_bytes:
            raise _Failure(
                f"выгрузка по адресу {shown} слишком велика: {_size(length)} "
                f"(Content-Length), допустимо не более {_size(max_bytes)}; загрузка не начата",
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
                raise _Failure(
                    f"выгрузка по адресу {shown} слишком велика: получено уже больше "
                    f"{_size(max_bytes)} (это предел), загрузка прервана",
                    retryable=False,
                    bad_input=True,
                )
            if progress is not None:
                progress(done, length)
    except (OSError, http.client.HTTPException) as exc:
        raise _network_failure(exc, shown, timeout, reading=True, done=done) from exc
    if length is not None and done < length:
        raise _Failure(
            f"соединение с сервером {shown} оборвалось посреди выгрузки: получено "
            f"{_size(done)} из {_size(length)}",
            retryable=True,
        )
    return b"".join(chunks)


def _status_failure(
    exc: urllib.error.HTTPError, shown: str, has_token: bool, token_env: str
) -> _Failure:
    code = exc.code
    if code == 401:
        if has_token:
            message = (
                f"сервер {shown} отказал в доступе (401): неверный или просроченный токен "
                f"(переменная окружения {token_env})"
            )
        else:
            message = (
                f"сервер {shown} отказал в доступе (401): нужен токен, а переменная "
                f"окружения {token_env} не задана"
            )
        return _Failure(message, retryable=False, status=code, bad_input=True)
    if code == 403:
        if has_token:
            message = (
                f"сервер {shown} запретил доступ к выгрузке (403): у токена из переменной "
                f"окружения {token_env} нет прав на неё"
            )
        else:
            message = (
                f"сервер {shown} запретил доступ к выгрузке (403); переменная окружения "
                f"{token_env} не задана — возможно, нужен токен"
            )
        return _Failure(message, retryable=False, status=code, bad_input=True)
    if code == 404:
        return _Failure(
            f"выгрузка не найдена (404): {shown}; проверьте адрес",
            retryable=False,
            status=code,
            bad_input=True,
        )
    retry_after = _retry_after(exc.headers.get("Retry-After") if exc.headers else None, time.time())
    if code == 429:
        return _Failure(
            f"сервер {shown} ограничивает частоту запросов (429 Too Many Requests)",
            retryable=True,
            status=code,
            retry_after=retry_after,
        )
    if code >= 500 or code in RETRY_STATUSES:
        return _Failure(
            f"сервер {shown} отвечает ошибкой {code}{_reason(exc)}",
            retryable=True,
            status=code,
            retry_after=retry_after,
        )
    return _Failure(
        f"сервер {shown} отклонил запрос выгрузки: ошибка {code}{_reason(exc)}",
        retryable=False,
        status=code,
        bad_input=400 <= code < 500,
    )


def _reason(exc: urllib.error.HTTPError) -> str:
    reason = str(exc.reason or "").strip()
    return f" {reason}" if reason and len(reason) <= 80 and reason.isprintable() else ""


def _network_failure(
    reason: object, shown: str, timeout: float, *, reading: bool = False, done: int = 0
) -> _Failure:
    if isinstance(reason, _Failure):
        return reason
    if isinstance(reason, TimeoutError):
        if reading:
            return _Failure(
                f"сервер {shown} перестал передавать выгрузку: нет данных дольше "
                f"{_seconds(timeout)}",
                retryable=True,
            )
        return _Failure(f"сервер {shown} не ответил за {_seconds(timeout)}", retryable=True)
    if isinstance(reason, ssl.SSLCertVerificationError):
        detail = reason.verify_message or "сертификат не прошёл проверку"
        return _Failure(
            f"не удалось проверить сертификат сервера {shown}: {detail} (свой корневой "
            "сертификат можно указать в переменной окружения SSL_CERT_FILE)",
            retryable=False,
        )
    if isinstance(reason, ssl.SSLError):
        return _Failure(
            f"ошибка TLS при соединении с сервером {shown}: {reason.reason or reason}",
            retryable=True,
        )
    if isinstance(reason, socket.gaierror):
        return _Failure(
            f"не удалось найти сервер {shown}: имя не разрешается (ошибка DNS или нет сети)",
            retryable=True,
        )
    if isinstance(reason, ConnectionRefusedError):
        return _Failure(
            f"не удалось соединиться с сервером {shown}: соединение отклонено "
            "(сервер не запущен или порт закрыт)",
            retryable=True,
        )
    if isinstance(reason, http.client.IncompleteRead):
        return _Failure(
            f"соединение с сервером {shown} оборвалось посреди выгрузки "
            f"(получено {_size(done + len(reason.partial))})",
            retryable=True,
        )
    if isinstance(reason, ConnectionError | http.client.HTTPException):
        what = "оборвалось посреди выгрузки" if reading else "оборвалось"
        return _Failure(f"соединение с сервером {shown} {what}", retryable=True)
    if isinstance(reason, OSError):
        detail = reason.strerror or type(reason).__name__
        return _Failure(
            f"не удалось соединиться с сервером {shown}: {detail}",
            retryable=True,
        )
    return _Failure(f"не удалось соединиться с сервером {shown}: {reason}", retryable=True)


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
