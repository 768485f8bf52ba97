"""What went wrong fetching the export over HTTP, in Russian.

The errors callers see (:class:`SourceError`, :class:`SourceInputError`), the URL as
messages show it (:func:`display_url`), and :class:`Failure`: one failed attempt with
its message, made from an HTTP status (:func:`status_failure`) or from the exception
behind a network failure (:func:`network_failure`). Used by :mod:`archiver.sources.http`.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.parse
from dataclasses import dataclass

import urllib3
from urllib3.exceptions import NewConnectionError, ProtocolError, ProxyError, SSLError

from archiver.errors import ArchiverError, ExitCode

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


class SourceError(ArchiverError):
    """The export could not be fetched: a network or server failure (exit code 70).

    ``url`` is the address as shown in messages (no credentials); ``status`` is the
    last HTTP status, if a response came at all; ``attempts`` is how many were made.
    """

    exit_code = ExitCode.FAILURE

    def __init__(
        self, message: str, *, url: str = "", status: int | None = None, attempts: int = 1
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.attempts = attempts


class SourceInputError(SourceError):
    """The request itself is wrong or the answer unusable: bad address or token, 4xx, too large (exit code 2)."""

    exit_code = ExitCode.BAD_INPUT


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


def seconds_text(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") + " с"


def size_text(n: int) -> str:
    if n >= 1024 * 1024:
        text = f"{n / (1024 * 1024):.1f}".rstrip("0").rstrip(".").replace(".", ",")
        return f"{text} МБ"
    if n >= 1024:
        text = f"{n / 1024:.1f}".rstrip("0").rstrip(".").replace(".", ",")
        return f"{text} КБ"
    return f"{n} байт"


def attempts_suffix(attempts: int) -> str:
    """`` (после N попыток)`` with the right Russian form; empty for a single attempt."""
    if attempts <= 1:
        return ""
    word = "попытки" if attempts % 10 == 1 and attempts % 100 != 11 else "попыток"
    return f" (после {attempts} {word})"


@dataclass(eq=False)
class Failure(Exception):
    """One attempt failed; ``message`` is final except for the attempts suffix."""

    message: str
    retryable: bool
    status: int | None = None
    bad_input: bool = False
    cause: BaseException | None = None
    attempt: int = 1
    """Which attempt failed (1 for the first)."""


def status_failure(
    code: int, phrase: str | None, *, shown: str, token_env: str, has_token: bool
) -> Failure:
    """The failure an HTTP status other than 2xx means (``phrase``: the status's reason phrase)."""
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
        return Failure(message, retryable=False, status=code, bad_input=True)
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
        return Failure(message, retryable=False, status=code, bad_input=True)
    if code == 404:
        return Failure(
            f"выгрузка не найдена (404): {shown}; проверьте адрес",
            retryable=False,
            status=code,
            bad_input=True,
        )
    if code == 429:
        return Failure(
            f"сервер {shown} ограничивает частоту запросов (429 Too Many Requests)",
            retryable=True,
            status=code,
        )
    if code >= 500 or code in RETRY_STATUSES:
        return Failure(
            f"сервер {shown} отвечает ошибкой {code}{_phrase(phrase)}",
            retryable=True,
            status=code,
        )
    return Failure(
        f"сервер {shown} отклонил запрос выгрузки: ошибка {code}{_phrase(phrase)}",
        retryable=False,
        status=code,
        bad_input=400 <= code < 500,
    )


def _phrase(phrase: str | None) -> str:
    reason = (phrase or "").strip()
    return f" {reason}" if reason and len(reason) <= 80 and reason.isprintable() else ""


def cause_of(error: BaseException) -> BaseException:
    """The standard library's exception behind a urllib3 one: what the messages describe."""
    if isinstance(error, NewConnectionError) and error.__cause__ is not None:
        return error.__cause__  # refused, unreachable, DNS (socket.gaierror)
    if isinstance(error, urllib3.exceptions.TimeoutError):
        return TimeoutError(str(error))
    if isinstance(error, ProtocolError | SSLError | ProxyError):
        inner = next((a for a in reversed(error.args) if isinstance(a, BaseException)), None)
        if inner is not None:
            return cause_of(inner)
    return error


def network_failure(
    error: BaseException, *, shown: str, timeout: float, reading: bool = False
) -> Failure:
    """The failure behind a urllib3 (or standard library) exception; ``reading``: in the body."""
    reason = cause_of(error)
    if isinstance(reason, Failure):
        return reason
    if isinstance(reason, TimeoutError):
        if reading:
            return Failure(
                f"сервер {shown} перестал передавать выгрузку: нет данных дольше "
                f"{seconds_text(timeout)}",
                retryable=True,
                cause=error,
            )
        return Failure(
            f"сервер {shown} не ответил за {seconds_text(timeout)}", retryable=True, cause=error
        )
    if isinstance(reason, ssl.SSLCertVerificationError):
        detail = reason.verify_message or "сертификат не прошёл проверку"
        return Failure(
            f"не удалось проверить сертификат сервера {shown}: {detail} (свой корневой "
            "сертификат можно указать в переменной окружения SSL_CERT_FILE)",
            retryable=False,
            cause=error,
        )
    if isinstance(reason, ssl.SSLError):
        return Failure(
            f"ошибка TLS при соединении с сервером {shown}: {reason.reason or reason}",
            retryable=True,
            cause=error,
        )
    if isinstance(reason, socket.gaierror):
        return Failure(
            f"не удалось найти сервер {shown}: имя не разрешается (ошибка DNS или нет сети)",
            retryable=True,
            cause=error,
        )
    if isinstance(reason, ConnectionRefusedError):
        return Failure(
            f"не удалось соединиться с сервером {shown}: соединение отклонено "
            "(сервер не запущен или порт закрыт)",
            retryable=True,
            cause=error,
        )
    if isinstance(reason, ConnectionError | http.client.HTTPException):
        what = "оборвалось посреди выгрузки" if reading else "оборвалось"
        return Failure(f"соединение с сервером {shown} {what}", retryable=True, cause=error)
    if isinstance(reason, OSError):
        detail = reason.strerror or type(reason).__name__
        return Failure(
            f"не удалось соединиться с сервером {shown}: {detail}",
            retryable=True,
            cause=error,
        )
    return Failure(
        f"не удалось соединиться с сервером {shown}: {reason}", retryable=True, cause=error
    )
