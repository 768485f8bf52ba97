"""Logging in and out, and the start page of each role."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render

from archiver.web.context import PAGES
from archiver.web.roles import DIRECTOR, role_of


class LoginPage(LoginView):
    """Django's login (the password checked by the Argon2 hasher, failures counted by axes)."""

    template_name = "web/login.html"
    redirect_authenticated_user = True


def home(request: HttpRequest) -> HttpResponse:
    """The first page the account's role may open."""
    user: Any = request.user
    if not user.is_authenticated:
        return redirect("login")
    if role_of(user) == DIRECTOR:
        return redirect("sign")  # the director comes to sign
    for name, _title, permission in PAGES:
        if user.has_perm(permission):
            return redirect(name)
    return render(
        request,
        "web/error.html",
        {"title": "Учётной записи не назначена роль", "code": 403},
        status=403,
    )


def logout_page(request: HttpRequest) -> HttpResponse:
    """Log out (POST only, with the CSRF token)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    logout(request)
    return redirect("login")
