"""``archiver serve``: migrate the service's database, then serve the pages with waitress.

waitress is a production WSGI server in pure Python (threads, no compiling, runs on
Debian as is); it serves the Django application on one address. Behind nginx it
listens on 127.0.0.1 and trusts the proxy's forwarded headers only from there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from archiver.settings import Settings
from archiver.web.config import migrate, setup

THREADS = 8
"""waitress worker threads: concurrent requests served at once (more wait in its queue)."""


def application(settings: Settings) -> Any:
    """The WSGI application of these settings (Django configured, database migrated)."""
    setup(settings)
    migrate()
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted; ``ready`` is told the address once the socket listens."""
    from waitress.server import create_server

    app = application(settings)
    proxy: dict[str, Any] = {}
    if settings.service.https:
        proxy = {
            "trusted_proxy": "127.0.0.1",
            "trusted_proxy_headers": {"x-forwarded-proto", "x-forwarded-for"},
        }
    server: Any = create_server(
        app,
        host=host,
        port=port,
        threads=THREADS,
        ident="archiver",
        clear_untrusted_proxy_headers=True,
        **proxy,
    )
    if ready is not None:
        ready(f"http://{host}:{server.effective_port}/")
    try:
        server.run()
    finally:
        server.close()
