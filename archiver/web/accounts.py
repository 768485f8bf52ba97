"""Accounts of the web service: adding one with its role (``archiver users add``, the «Учётные записи» page).

Passwords go through Django's validators (at least 10 characters, not a common or
all-digit one) and are stored as Argon2 hashes; an account has exactly one role.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver.errors import UsageError
from archiver.files import write_atomic
from archiver.web.roles import ROLES, check_role, role_of


@dataclass(frozen=True, slots=True)
class Account:
    """An account as listed."""

    name: str
    role: str | None
    active: bool
    last_login: Any


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 150 or any(c.isspace() for c in name):
        raise UsageError(
            f"имя учётной записи «{name}»: нужно одно слово без пробелов (до 150 знаков)"
        )
    return name


def check_password(password: str, name: str | None = None) -> None:
    """Django's password validators, their messages joined; :class:`UsageError` when refused."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    try:
        validate_password(password)
    except ValidationError as exc:
        raise UsageError("пароль не подходит: " + " ".join(exc.messages)) from exc


def add_user(name: str, role: str, password: str, *, replace: bool = False) -> Account:
    """A new account with ``role`` (``replace``: set the password and role of an existing one)."""
    from django.contrib.auth.models import Group, User
    from django.db import transaction

    name = _check_name(name)
    check_role(role)
    check_password(password, name)
    with transaction.atomic():
        user = User.objects.filter(username=name).first()
        if user is not None and not replace:
            raise UsageError(f"учётная запись «{name}» уже есть")
        if user is None:
            user = User(username=name)
        user.set_password(password)
        user.is_active = True
        user.save()
        user.groups.set([Group.objects.get(name=role)])
    return Account(name, role, True, user.last_login)


def set_active(name: str, active: bool) -> None:
    """Lock or unlock an account (it is never deleted: the access log names it)."""
    from django.contrib.auth.models import User

    updated = User.objects.filter(username=name).update(is_active=active)
    if not updated:
        raise UsageError(f"учётной записи «{name}» нет")


def list_users() -> list[Account]:
    """Every account, by name."""
    from django.contrib.auth.models import User

    return [
        Account(u.username, role_of(u), u.is_active, u.last_login)
        for u in User.objects.order_by("username").prefetch_related("groups")
    ]


DEMO_ACCOUNTS_FILE = "demo-accounts.txt"


def demo_accounts(folder: Path) -> dict[str, str]:
    """One account per role for the demo (``demo-<role>``), their passwords kept in ``folder``.

    The passwords are random, made on the first run and written (mode 0600) to
    ``demo-accounts.txt`` in the demo's folder; a rerun reads them back and sets
    them again. Returns name → password.
    """
    path = folder / DEMO_ACCOUNTS_FILE
    known: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            name, _, password = line.partition(" ")
            if name.startswith("demo-") and password:
                known[name] = password.strip()
    made = {}
    for role in ROLES:
        name = f"demo-{role}"
        password = known.get(name) or secrets.token_urlsafe(12)
        add_user(name, role, password, replace=True)
        made[name] = password
    text = "".join(f"{name} {password}\n" for name, password in made.items())
    write_atomic(path, text.encode("utf-8"))
    os.chmod(path, 0o600)
    return made
