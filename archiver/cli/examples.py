"""One or two examples for every command's help, in one table (shown under «Примеры:»).

Kept apart from the commands so that a command's module holds its behaviour and this
table holds what a newcomer types first; ``tests/test_help.py`` checks that every
command has examples and that each example names its command.
"""

from __future__ import annotations

EXAMPLES: dict[str, tuple[str, ...]] = {
    "": (
        "archiver init",
        "archiver year-end --source выгрузка.json",
    ),
    "validate": (
        "archiver validate выгрузка.json",
        "archiver validate выгрузка.json --json",
    ),
    "demo-data": (
        "archiver demo-data --out школа-2025.json",
        "archiver demo-data --year 2024 --out школа-2024.json",
    ),
    "pull": (
        "archiver pull epos --out выгрузка.json --token-file токен.txt",
        "archiver pull dnevnik --out выгрузка.json --year 2025/2026",
    ),
    "render": (
        "archiver render выгрузка.json --out документы",
        "archiver render выгрузка.json --out документы --class c5a",
    ),
    "sign": (
        "archiver sign документы",
        "archiver sign документы/2025-2026/c5a/c5a-final-marks.pdf",
    ),
    "check-signature": (
        "archiver check-signature документы/2025-2026/c5a/c5a-final-marks.pdf",
        "archiver check-signature --trust-root корневой.pem ведомость.pdf",
    ),
    "store": (
        "archiver store --source выгрузка.json документы",
        'archiver store --source выгрузка.json документы --correction "исправлена отметка"',
    ),
    "keys": (
        "archiver keys demo --out ключи",
        "archiver keys demo-tsa ключи",
    ),
    "keys demo": (
        "archiver keys demo --out ключи",
        "archiver keys demo --out ключи --source выгрузка.json",
    ),
    "keys demo-tsa": (
        "archiver keys demo-tsa ключи",
        "archiver keys demo-tsa ключи --port 8080",
    ),
    "check": (
        "archiver check",
        "archiver check --no-signer --json",
    ),
    "year-end": (
        "archiver year-end --source выгрузка.json",
        'archiver year-end --source выгрузка.json --class c5a --correction "исправлена отметка"',
    ),
    "status": (
        "archiver status",
        "archiver status --year 2025/2026",
    ),
    "init": (
        "archiver init",
        "archiver init /srv/archiver",
    ),
    "demo": (
        "archiver demo",
        "archiver demo --out /tmp/archiver-demo --classes 4",
    ),
    "catalog": ("archiver catalog rebuild",),
    "catalog rebuild": (
        "archiver catalog rebuild",
        "archiver catalog rebuild --json",
    ),
    "find": (
        "archiver find Семёнов",
        "archiver find семенов руслан --year 2025/2026",
    ),
    "get": (
        'archiver get demo-perm-si/2025-2026/c5a/final_marks/v1 --out ведомость.pdf --reason "запрос, вх. № 12"',
    ),
    "list": (
        "archiver list --year 2025/2026 --class 5а",
        "archiver list --kind final_marks --json",
    ),
    "extract": ('archiver extract --student s0018 --out выписка.pdf --reason "справка, вх. № 12"',),
    "log": (
        "archiver log show",
        "archiver log verify --repair",
    ),
    "log show": (
        "archiver log show",
        "archiver log show --json",
    ),
    "log verify": (
        "archiver log verify",
        "archiver log verify --repair",
    ),
    "renew": (
        "archiver renew",
        "archiver renew --before 2031-01-01 --apply",
    ),
    "dispose": (
        "archiver dispose draft",
        "archiver dispose execute 2032-1 --apply",
    ),
    "dispose draft": (
        "archiver dispose draft",
        'archiver dispose draft --as-of 2032-01-10 --operator "Петрова А. В."',
    ),
    "dispose approve": ('archiver dispose approve 2032-1 --protocol "№ 3 от 15.01.2032"',),
    "dispose execute": (
        "archiver dispose execute 2032-1",
        "archiver dispose execute 2032-1 --apply",
    ),
    "region": (
        "archiver region year-end --region region.toml",
        "archiver region status --region region.toml --json",
    ),
    "region validate": ("archiver region validate --region region.toml --school school-17",),
    "region year-end": (
        "archiver region year-end --region region.toml",
        "archiver region year-end --region region.toml --school school-17 --school school-21",
    ),
    "region status": ("archiver region status --region region.toml --year 2025",),
    "region verify": ("archiver region verify --region region.toml --json",),
    "hold": (
        'archiver hold add --pupil s0014 --reason "запрос суда № 2-123/2032"',
        "archiver hold list",
    ),
    "hold add": (
        'archiver hold add demo-perm-si/2025-2026/c5a/final_marks/v1 --reason "апелляция"',
        'archiver hold add --class c5a --year 2025/2026 --reason "запрос суда"',
    ),
    "hold list": (
        "archiver hold list",
        "archiver hold list --json",
    ),
    "hold remove": ('archiver hold remove 12 --reason "решение суда вступило в силу"',),
    "verify": (
        "archiver verify",
        "archiver verify --deep --repair",
    ),
    "serve": (
        "archiver serve --config archiver-demo/archiver.toml",
        "archiver serve --host 127.0.0.1 --port 8080",
    ),
    "users": (
        "archiver users add ivanova --role archivist",
        "archiver users list",
    ),
    "users add": (
        "archiver users add ivanova --role archivist",
        "archiver users add petrov --role director --password-file пароль.txt",
    ),
    "users list": ("archiver users list",),
    "users lock": ("archiver users lock ivanova",),
    "users unlock": ("archiver users unlock ivanova",),
}
"""Command path (``"log verify"``; ``""`` is ``archiver`` itself) → example command lines."""


def examples_for(path: str) -> tuple[str, ...]:
    """The examples of the command ``path`` (empty when there are none)."""
    return EXAMPLES.get(path, ())
