"""The permissions' model (no table)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import migrations, models

from archiver.web.models import PERMISSIONS


class Migration(migrations.Migration):
    """Creates the unmanaged model carrying the permissions."""

    initial = True
    dependencies: ClassVar[list[Any]] = []
    operations: ClassVar[list[Any]] = [
        migrations.CreateModel(
            name="Access",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                )
            ],
            options={"managed": False, "default_permissions": (), "permissions": PERMISSIONS},
        )
    ]
