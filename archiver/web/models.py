"""The service's permissions, carried by a model without a table (Django ties permissions to models)."""

from __future__ import annotations

from django.db import models

PERMISSIONS = (
    ("view_year", "Год: состояние классов, срок 30 июня, результаты проверок"),
    ("run_verify", "Год: запуск проверки архива (verify)"),
    ("sign_documents", "Подпись: просмотр и подпись документов"),
    ("search_archive", "Поиск: обучающиеся, записи, скачивание документов"),
    ("issue_extract", "Поиск: выдача выписки"),
    ("draft_disposal", "Уничтожение: проекты актов о выделении к уничтожению"),
    ("view_access_log", "Журнал доступа и отчёты проверок"),
    ("manage_users", "Учётные записи"),
)


class Access(models.Model):
    """No rows: the permissions the roles are made of."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = PERMISSIONS
