"""The four roles as Django groups with their permissions, and what each role's pages are.

*administrator*: the year's state, the checks, the accounts. *director*: review and
sign, see everything (the year, the archive, the access log), change nothing.
*archivist*: find, view, download, extracts, draft acts of disposal. *auditor*: the access log and the
verification reports only. The groups are made (and their permissions set back to
these) after every migration, so a changed role is corrected by ``archiver serve``.
"""

from __future__ import annotations

from typing import Any

from archiver.errors import UsageError

ADMINISTRATOR = "administrator"
DIRECTOR = "director"
ARCHIVIST = "archivist"
AUDITOR = "auditor"

ROLES: dict[str, tuple[str, ...]] = {
    ADMINISTRATOR: ("view_year", "run_verify", "manage_users"),
    DIRECTOR: ("sign_documents", "view_year", "search_archive", "view_access_log"),
    ARCHIVIST: ("search_archive", "issue_extract", "draft_disposal"),
    AUDITOR: ("view_access_log",),
}
"""Role → its permissions (codenames of :data:`archiver.web.models.PERMISSIONS`)."""

ROLE_TEXT = {
    ADMINISTRATOR: "администратор",
    DIRECTOR: "директор",
    ARCHIVIST: "архивист",
    AUDITOR: "аудитор",
}


def check_role(role: str) -> str:
    """``role`` if it is one of :data:`ROLES`, else :class:`UsageError`."""
    if role not in ROLES:
        raise UsageError(f"неизвестная роль «{role}»; допустимы: {', '.join(ROLES)}")
    return role


def ensure_roles() -> None:
    """Make the groups and give each exactly its permissions."""
    from django.contrib.auth.models import Group, Permission

    for role, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = Permission.objects.filter(
            content_type__app_label="archiver", codename__in=codenames
        )
        group.permissions.set(permissions)


def role_of(user: Any) -> str | None:
    """The role of an account (its group), ``None`` for none."""
    names = [g.name for g in user.groups.all() if g.name in ROLES]
    return names[0] if names else None
