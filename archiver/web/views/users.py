"""«Учётные записи» (administrator): the accounts, adding one, locking and unlocking."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from archiver.errors import ArchiverError
from archiver.web.accounts import add_user, list_users, set_active
from archiver.web.context import allowed
from archiver.web.roles import ROLE_TEXT


@allowed("archiver.manage_users")
def users_page(request: HttpRequest) -> HttpResponse:
    """The list; POST adds an account or locks/unlocks one."""
    if request.method == "POST":
        try:
            action = request.POST.get("action")
            if action == "add":
                add_user(
                    str(request.POST.get("name", "")),
                    str(request.POST.get("role", "")),
                    str(request.POST.get("password", "")),
                )
                messages.success(request, f"Учётная запись «{request.POST.get('name')}» добавлена.")
            elif action in ("lock", "unlock"):
                name = str(request.POST.get("name", ""))
                if name == request.user.get_username():
                    raise ArchiverError("свою учётную запись заблокировать нельзя")
                set_active(name, action == "unlock")
                messages.success(
                    request,
                    f"Учётная запись «{name}» {'разблокирована' if action == 'unlock' else 'заблокирована'}.",
                )
        except ArchiverError as exc:
            messages.error(request, str(exc))
        return redirect("users")
    return render(request, "web/users.html", {"users": list_users(), "roles": ROLE_TEXT})
