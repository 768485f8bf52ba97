"""What every view needs: archiver's settings, the archive, who asks and why, the role checks.

:func:`allowed` is the one decorator of every page and download: an anonymous visitor
is sent to the login page, an account without the permission gets 403 — on the server,
whatever buttons the page showed. :func:`requester` names the account, its role and
the client's address for the access log. Appends to the access log are serialized
within the process (the log's own race handling still covers several processes).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings as django_conf
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from archiver.archive.handout import Archive, Requester, open_archive
from archiver.settings import Settings
from archiver.web.roles import ROLE_TEXT, role_of

View = TypeVar("View", bound=Callable[..., HttpResponse])
_log_lock = threading.Lock()

PAGES = (
    ("year", "Год", "archiver.view_year"),
    ("sign", "Подпись", "archiver.sign_documents"),
    ("search", "Поиск", "archiver.search_archive"),
    ("disposal", "Уничтожение", "archiver.draft_disposal"),
    ("access_log", "Журнал доступа", "archiver.view_access_log"),
    ("users", "Учётные записи", "archiver.manage_users"),
)
"""The navigation: url name, title, the permission it needs."""


def archiver_settings() -> Settings:
    """archiver's settings the service was started with."""
    found: Settings = django_conf.ARCHIVER_SETTINGS
    return found


def archive() -> Archive:
    """The configured archive (its locations checked on first use in this request)."""
    return open_archive(archiver_settings())


@contextmanager
def logging_access() -> Iterator[None]:
    """Hold the process's access log turn while a read is logged."""
    with _log_lock:
        yield


def client_address(request: HttpRequest) -> str:
    """The client's address: the proxy's X-Forwarded-For behind HTTPS, else the peer's."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and archiver_settings().service.https:
        return str(forwarded.split(",")[0].strip())
    return str(request.META.get("REMOTE_ADDR", ""))


def requester(request: HttpRequest, reason: str) -> Requester:
    """The account, its role and address, and the purpose given for this access."""
    user: Any = request.user
    return Requester(
        reason=reason,
        operator=str(user.get_username()),
        role=role_of(user) or "нет роли",
        client=client_address(request),
    )


def allowed(permission: str) -> Callable[[View], View]:
    """Log in first; then the permission (``archiver.<codename>``) or 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user: Any = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorate


def can(request: HttpRequest, permission: str) -> bool:
    """Whether the logged-in account has ``permission`` (to show a button; the view checks again)."""
    user: Any = request.user
    return bool(user.has_perm(permission))


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Template context: the pages this account may open, its role, the school's name."""
    user: Any = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"pages": []}
    role = role_of(user)
    return {
        "pages": [(name, title) for name, title, perm in PAGES if user.has_perm(perm)],
        "role": role,
        "role_text": ROLE_TEXT.get(role or "", "нет роли"),
    }
