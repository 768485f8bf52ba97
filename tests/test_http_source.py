"""Fetching the export over HTTP against a real local server: token, errors, retries, limits."""

from __future__ import annotations

import email.utils
import ipaddress
import re
import socket
import ssl
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TypeVar

import pytest

from archiver.errors import ExitCode, InputError
from archiver.sources.export_v1 import read_export
from archiver.sources.http import (
    TOKEN_ENV,
    SourceError,
    SourceInputError,
    display_url,
    fetch_export,
    load_source,
)

DATA = Path(__file__).parent / "data"
SPEC = (DATA / "spec_export.json").read_bytes()
TOKEN = "tok-3f9a7c1e5b2d4a60.SECRET"
LIMIT = 4096  # bytes, for the "too large" cases


class Sleeps:
    """A no-op ``sleep`` that records the delays asked for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class Handler(BaseHTTPRequestHandler):
    server: JournalServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = urllib.parse.urlsplit(self.path).path  # a proxy is asked for the whole URL
        with self.server.lock:
            self.server.hits[path] += 1
            attempt = self.server.hits[path]
            self.server.auth.setdefault(path, []).append(self.headers.get("Authorization"))
        route = getattr(self, "route_" + path.strip("/").replace("-", "_").replace(".", "_"), None)
        if route is None:
            self.send_error(404)
            return
        try:
            route(attempt)
        except OSError:  # the client hung up (timeouts, size limit): expected
            self.close_connection = True

    # ------------------------------------------------------------------ helpers

    def body(self, data: bytes, status: int = 200, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def status(self, code: int, **headers: str) -> None:
        self.send_response(code)
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def stall(self) -> None:
        self.server.stop.wait(5)

    # ------------------------------------------------------------------ routes

    def route_export_json(self, attempt: int) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.status(401, WWW_Authenticate="Bearer")
            return
        self.body(SPEC)

    def route_echo(self, attempt: int) -> None:
        self.body(SPEC)

    def route_forbidden(self, attempt: int) -> None:
        self.status(403)

    def route_flaky(self, attempt: int) -> None:
        if attempt <= 2:
            self.status(503)
        else:
            self.body(SPEC)

    def route_flaky_retry_after(self, attempt: int) -> None:
        if attempt == 1:
            self.status(503, Retry_After="7")
        else:
            self.body(SPEC)

    def route_broken(self, attempt: int) -> None:
        self.status(500)

    def route_busy(self, attempt: int) -> None:
        self.status(429, Retry_After="3600")

    def route_bad_request(self, attempt: int) -> None:
        self.status(400)

    def route_slow_headers(self, attempt: int) -> None:
        self.stall()

    def route_slow_body(self, attempt: int) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(SPEC)))
        self.end_headers()
        self.wfile.write(SPEC[:100])
        self.wfile.flush()
        self.stall()

    def route_big_length(self, attempt: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(300 * 1024 * 1024))
        self.end_headers()
        self.wfile.write(b"[" * 1000)

    def route_big_chunked(self, attempt: int) -> None:
        self.protocol_version = "HTTP/1.1"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        piece = b" " * 1000
        for _ in range(LIMIT // 1000 * 5):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def route_big_unsized(self, attempt: int) -> None:
        self.send_response(200)  # HTTP/1.0, no length: the body ends when the connection closes
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        for _ in range(LIMIT // 1000 * 5):
            self.wfile.write(b" " * 1000)

    def route_truncated_json(self, attempt: int) -> None:
        self.body(SPEC[: SPEC.rindex(b"}", 0, len(SPEC) // 2) + 1])

    def route_truncated_in_string(self, attempt: int) -> None:
        self.body(SPEC[: len(SPEC) // 2])  # cut inside a string value

    def route_cut(self, attempt: int) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(SPEC)))
        self.end_headers()
        self.wfile.write(SPEC[:1000])
        self.close_connection = True

    def route_html(self, attempt: int) -> None:
        self.body(b"<html><body>Login</body></html>", content_type="text/html; charset=utf-8")

    def route_redirect_same(self, attempt: int) -> None:
        self.status(302, Location="/export.json")

    def route_redirect_other(self, attempt: int) -> None:
        self.status(302, Location=f"http://localhost:{self.server.server_port}/echo")

    def route_redirect_ftp(self, attempt: int) -> None:
        self.status(302, Location="ftp://127.0.0.1/export.json")


class JournalServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.hits: Counter[str] = Counter()
        self.auth: dict[str, list[str | None]] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_port}{path}"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[JournalServer]:
    for name in (
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with serving(JournalServer()) as httpd:
        yield httpd


@contextmanager
def serving(httpd: JournalServer) -> Iterator[JournalServer]:
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


E = TypeVar("E", bound=Exception)


def failure(call: Callable[[], object], kind: type[E] = SourceError) -> E:  # type: ignore[assignment]
    with pytest.raises(kind) as info:
        call()
    return info.value


def assert_clear(error: Exception, url: str) -> str:
    """The message names the URL, is Russian and never shows the token."""
    message = str(error)
    assert url in message
    assert TOKEN not in message and "SECRET" not in message
    assert any("а" <= ch <= "я" for ch in message.lower())
    assert "\n" not in message
    return message


# --------------------------------------------------------------------------- success


def test_ok_sends_bearer_token_and_returns_the_bytes(server: JournalServer) -> None:
    calls: list[tuple[int, int | None]] = []
    raw = fetch_export(server.url("/export.json"), progress=lambda d, t: calls.append((d, t)))
    assert raw == SPEC
    assert server.auth["/export.json"] == [f"Bearer {TOKEN}"]
    assert calls[-1] == (len(SPEC), len(SPEC))


def test_load_source_url_then_read_export_is_valid(server: JournalServer) -> None:
    url = server.url("/export.json")
    raw, name = load_source(url)
    assert name == url
    report = read_export(raw, name=name)
    assert report.ok and report.source == url


def test_redirect_within_origin_keeps_the_token(server: JournalServer) -> None:
    assert fetch_export(server.url("/redirect-same")) == SPEC
    assert server.auth["/export.json"] == [f"Bearer {TOKEN}"]


def test_redirect_to_another_host_drops_the_token(server: JournalServer) -> None:
    assert fetch_export(server.url("/redirect-other")) == SPEC
    assert server.auth["/echo"] == [None]


# --------------------------------------------------------------------------- 4xx


def test_401_with_token_says_token_is_wrong(
    server: JournalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = server.url("/export.json")
    monkeypatch.setenv(TOKEN_ENV, "wrong-token-42")
    error = failure(lambda: fetch_export(url, sleep=Sleeps()), SourceInputError)
    message = assert_clear(error, url)
    assert "отказал в доступе" in message
    assert "неверный или просроченный токен (переменная окружения ARCHIVER_SOURCE_TOKEN)" in message
    assert "wrong-token-42" not in message
    assert (error.exit_code, error.status, server.hits["/export.json"]) == (2, 401, 1)


def test_401_without_token_says_the_variable_is_not_set(
    server: JournalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV)
    url = server.url("/export.json")
    error = failure(lambda: fetch_export(url), SourceInputError)
    message = assert_clear(error, url)
    assert "переменная окружения ARCHIVER_SOURCE_TOKEN не задана" in message
    assert server.auth["/export.json"] == [None]  # no Authorization header at all
    assert error.exit_code == 2


def test_empty_token_variable_counts_as_unset(
    server: JournalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "  ")
    error = failure(lambda: fetch_export(server.url("/export.json")), SourceInputError)
    assert "не задана" in str(error)
    assert server.auth["/export.json"] == [None]


def test_403(server: JournalServer) -> None:
    url = server.url("/forbidden")
    error = failure(lambda: fetch_export(url, sleep=Sleeps()), SourceInputError)
    message = assert_clear(error, url)
    assert "запретил доступ к выгрузке (403)" in message and TOKEN_ENV in message
    assert (error.exit_code, server.hits["/forbidden"]) == (2, 1)


def test_404(server: JournalServer) -> None:
    url = server.url("/no-such-export.json")
    error = failure(lambda: fetch_export(url, sleep=Sleeps()), SourceInputError)
    message = assert_clear(error, url)
    assert message.startswith("выгрузка не найдена (404)")
    assert (error.exit_code, server.hits["/no-such-export.json"]) == (2, 1)


def test_other_4xx_is_not_retried(server: JournalServer) -> None:
    url = server.url("/bad-request")
    sleeps = Sleeps()
    error = failure(lambda: fetch_export(url, sleep=sleeps), SourceInputError)
    assert "ошибка 400" in assert_clear(error, url)
    assert (sleeps.delays, server.hits["/bad-request"]) == ([], 1)


# --------------------------------------------------------------------------- retries


def test_503_then_ok_is_retried_with_backoff(server: JournalServer) -> None:
    sleeps = Sleeps()
    retried: list[tuple[int, float, str]] = []
    raw = fetch_export(
        server.url("/flaky"),
        backoff=0.5,
        sleep=sleeps,
        on_retry=lambda n, d, why: retried.append((n, d, why)),
    )
    assert raw == SPEC
    assert server.hits["/flaky"] == 3
    assert sleeps.delays == [0.5, 1.0]
    assert [(n, d) for n, d, _ in retried] == [(1, 0.5), (2, 1.0)]
    assert "ошибкой 503" in retried[0][2]


def test_retry_after_is_honoured(server: JournalServer) -> None:
    sleeps = Sleeps()
    assert fetch_export(server.url("/flaky-retry-after"), sleep=sleeps) == SPEC
    assert sleeps.delays == [7.0]


def test_always_500_gives_up_after_all_attempts(server: JournalServer) -> None:
    url = server.url("/broken")
    sleeps = Sleeps()
    error = failure(lambda: fetch_export(url, retries=3, backoff=0.5, sleep=sleeps))
    message = assert_clear(error, url)
    assert "отвечает ошибкой 500" in message and "(после 4 попыток)" in message
    assert sleeps.delays == [0.5, 1.0, 2.0]  # exponential
    assert server.hits["/broken"] == 4
    assert (error.exit_code, error.status, error.attempts) == (ExitCode.FAILURE, 500, 4)
    assert type(error) is SourceError


def test_backoff_is_capped(server: JournalServer) -> None:
    sleeps = Sleeps()
    failure(lambda: fetch_export(server.url("/broken"), retries=5, max_delay=3, sleep=sleeps))
    assert sleeps.delays == [1.0, 2.0, 3.0, 3.0, 3.0]


def test_429_retry_after_is_capped(server: JournalServer) -> None:
    url = server.url("/busy")
    sleeps = Sleeps()
    error = failure(lambda: fetch_export(url, retries=2, max_delay=5, sleep=sleeps))
    assert "429" in assert_clear(error, url) and "(после 3 попыток)" in str(error)
    assert sleeps.delays == [5.0, 5.0]
    assert error.exit_code == ExitCode.FAILURE


def test_retry_after_as_http_date(server: JournalServer) -> None:
    from archiver.sources.http import _retry_after

    now = time.time()
    assert _retry_after(email.utils.formatdate(now + 10, usegmt=True), now) == pytest.approx(
        10, abs=1
    )
    assert _retry_after(email.utils.formatdate(now - 10, usegmt=True), now) == 0
    assert _retry_after("soon", now) is None


def test_no_retries_means_one_attempt_and_no_suffix(server: JournalServer) -> None:
    error = failure(lambda: fetch_export(server.url("/broken"), retries=0, sleep=Sleeps()))
    assert "попыт" not in str(error)
    assert server.hits["/broken"] == 1


# --------------------------------------------------------------------------- network


def test_slow_response_times_out_and_is_retried(server: JournalServer) -> None:
    url = server.url("/slow-headers")
    sleeps = Sleeps()
    started = time.monotonic()
    error = failure(lambda: fetch_export(url, timeout=0.2, retries=1, sleep=sleeps))
    assert time.monotonic() - started < 3
    message = assert_clear(error, url)
    assert "не ответил за 0,2 с (после 2 попыток)" in message
    assert error.exit_code == ExitCode.FAILURE and sleeps.delays == [1.0]


def test_body_that_stalls_times_out(server: JournalServer) -> None:
    url = server.url("/slow-body")
    error = failure(lambda: fetch_export(url, timeout=0.2, retries=0))
    assert "перестал передавать выгрузку" in assert_clear(error, url)
    assert error.exit_code == ExitCode.FAILURE


def test_connection_cut_mid_body_is_retried_then_reported(server: JournalServer) -> None:
    url = server.url("/cut")
    error = failure(lambda: fetch_export(url, retries=1, sleep=Sleeps()))
    message = assert_clear(error, url)
    assert "оборвалось" in message and "из 6" in message and "(после 2 попыток)" in message
    assert server.hits["/cut"] == 2


def test_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/export.json"
    sleeps = Sleeps()
    error = failure(lambda: fetch_export(url, retries=2, sleep=sleeps))
    message = assert_clear(error, url)
    assert "соединение отклонено" in message and "(после 3 попыток)" in message
    assert error.exit_code == ExitCode.FAILURE and error.status is None and len(sleeps.delays) == 2


# --------------------------------------------------------------------------- size limit


def test_content_length_over_the_limit_is_refused_before_reading(server: JournalServer) -> None:
    url = server.url("/big-length")
    error = failure(lambda: fetch_export(url, sleep=Sleeps()), SourceInputError)
    message = assert_clear(error, url)
    assert "слишком велика: 300 МБ (Content-Length)" in message
    assert "не более 200 МБ" in message and "загрузка не начата" in message
    assert (error.exit_code, server.hits["/big-length"]) == (2, 1)


@pytest.mark.parametrize("path", ["/big-chunked", "/big-unsized"])
def test_body_without_length_stops_at_the_limit(server: JournalServer, path: str) -> None:
    url = server.url(path)
    seen: list[int] = []
    error = failure(
        lambda: fetch_export(url, max_bytes=LIMIT, progress=lambda d, t: seen.append(d)),
        SourceInputError,
    )
    message = assert_clear(error, url)
    assert "слишком велика: получено уже больше 4 КБ" in message and "прервана" in message
    assert max(seen, default=0) <= LIMIT
    assert (error.exit_code, server.hits[path]) == (2, 1)


# --------------------------------------------------------------------------- content


def test_truncated_json_is_reported_by_read_export_in_one_line(server: JournalServer) -> None:
    url = server.url("/truncated-json")
    raw, name = load_source(url)
    report = read_export(raw, name=name)
    assert not report.ok and report.source == url
    assert len(report.errors) == 1
    message = str(report.errors[0])
    assert "обрывается раньше конца документа JSON" in message
    assert re.search(r"строка \d+, столбец \d+", message) and "\n" not in message


def test_json_cut_inside_a_string_is_one_line_with_position(server: JournalServer) -> None:
    raw, name = load_source(server.url("/truncated-in-string"))
    report = read_export(raw, name=name)
    assert [p.code for p in report.errors] == ["not_json"]
    message = str(report.errors[0])
    assert "JSON" in message and re.search(r"строка \d+, столбец \d+", message)
    assert "\n" not in message


def test_html_page_instead_of_json(server: JournalServer) -> None:
    url = server.url("/html")
    error = failure(lambda: fetch_export(url), SourceInputError)
    assert "страницу HTML" in assert_clear(error, url)


# --------------------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    "url", ["ftp://example.org/export.json", "file:///etc/passwd", "https:///no-host"]
)
def test_only_http_and_https(url: str) -> None:
    error = failure(lambda: load_source(url), SourceInputError)
    assert "не поддерживается" in str(error) and error.exit_code == 2


def test_redirect_to_ftp_is_refused(server: JournalServer) -> None:
    error = failure(lambda: fetch_export(server.url("/redirect-ftp")), SourceInputError)
    assert "ftp://127.0.0.1/export.json" in str(error) and "только http://" in str(error)


def test_credentials_in_the_url_are_not_shown(server: JournalServer) -> None:
    port = server.server_port
    url = f"http://user:pa55word@127.0.0.1:{port}/missing?year=2025&access_token=abc123"
    error = failure(lambda: fetch_export(url, sleep=Sleeps()), SourceInputError)
    message = str(error)
    assert "не должно быть имени и пароля" in message and TOKEN_ENV in message
    assert "pa55word" not in message and "abc123" not in message
    assert f"http://127.0.0.1:{port}/missing?year=2025&access_token=***" in message
    assert server.hits["/missing"] == 0
    assert display_url("https://h.example/x?sig=1&a=2") == "https://h.example/x?sig=***&a=2"
    assert display_url(f"http://127.0.0.1:{port}/missing?access_token=abc123") == (
        f"http://127.0.0.1:{port}/missing?access_token=***"
    )


@pytest.mark.parametrize("bad", ["ТокенСекрет99", "two words99", "line\nbreak99"])
def test_token_unfit_for_a_header_is_refused_without_showing_it(
    server: JournalServer, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv(TOKEN_ENV, bad)
    error = failure(lambda: fetch_export(server.url("/export.json")), SourceInputError)
    assert TOKEN_ENV in str(error) and bad not in str(error)
    assert server.hits["/export.json"] == 0


# --------------------------------------------------------------------------- TLS and proxies


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key, and the key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(
    server: JournalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[JournalServer, Path]]:
    """The journal server over HTTPS with a self-signed certificate; yields it and the certificate."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    cert, key = self_signed_certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd = JournalServer()
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    with serving(httpd):
        yield httpd, cert


def test_certificate_that_fails_verification_is_not_retried(
    tls_server: tuple[JournalServer, Path],
) -> None:
    httpd, _ = tls_server
    url = f"https://127.0.0.1:{httpd.server_port}/export.json"
    sleeps = Sleeps()
    error = failure(lambda: fetch_export(url, retries=2, sleep=sleeps))
    message = assert_clear(error, url)
    assert "не удалось проверить сертификат сервера" in message and "SSL_CERT_FILE" in message
    assert (type(error), error.exit_code, error.attempts, sleeps.delays) == (
        SourceError,
        ExitCode.FAILURE,
        1,
        [],
    )
    assert httpd.hits["/export.json"] == 0


def test_ssl_cert_file_adds_a_trusted_root(
    tls_server: tuple[JournalServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    httpd, cert = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    assert fetch_export(f"https://127.0.0.1:{httpd.server_port}/export.json") == SPEC
    assert httpd.auth["/export.json"] == [f"Bearer {TOKEN}"]


def test_proxy_from_the_environment(server: JournalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", f"127.0.0.1:{server.server_port}")
    assert fetch_export("http://export.invalid/export.json") == SPEC  # the proxy answers
    assert server.hits["/export.json"] == 1


def test_no_proxy_bypasses_the_proxy(
    server: JournalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{closed}")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert fetch_export(server.url("/export.json"), retries=0) == SPEC


# --------------------------------------------------------------------------- files


def test_load_source_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(SPEC)
    raw, name = load_source(str(path))
    assert (raw, name) == (SPEC, str(path))
    assert read_export(raw, name=name).ok


def test_load_source_missing_file_and_folder(tmp_path: Path) -> None:
    missing = tmp_path / "нет.json"
    error = failure(lambda: load_source(str(missing)), InputError)
    assert str(error) == f"файл выгрузки {missing} не найден" and error.exit_code == 2
    error = failure(lambda: load_source(str(tmp_path)), InputError)
    assert "это папка" in str(error) and str(tmp_path) in str(error)
