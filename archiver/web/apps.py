"""The Django application of the web service: the roles are made after every migration."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _roles(sender: Any, **kwargs: Any) -> None:
    from archiver.web.roles import ensure_roles

    ensure_roles()


class WebConfig(AppConfig):
    """``archiver.web``: its one model only carries the service's permissions."""

    name = "archiver.web"
    label = "archiver"
    verbose_name = "archiver"

    def ready(self) -> None:
        post_migrate.connect(_roles, sender=self)
