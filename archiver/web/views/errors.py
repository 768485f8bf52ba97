"""403, 404, 500 and a refused CSRF check as plain Russian pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The account's role does not allow this page."""
    return render(request, "web/error.html", {"title": "Нет доступа", "code": 403}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """No such page."""
    return render(
        request, "web/error.html", {"title": "Страница не найдена", "code": 404}, status=404
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """An internal error (details in the service's log)."""
    return render(
        request, "web/error.html", {"title": "Внутренняя ошибка", "code": 500}, status=500
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without the page's CSRF token (another site, or an expired page)."""
    return render(
        request,
        "web/error.html",
        {
            "title": "Форма не принята",
            "code": 403,
            "detail": "Форма отправлена не со страницы архива или страница устарела. "
            "Откройте страницу заново и повторите.",
        },
        status=403,
    )
