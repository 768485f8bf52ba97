"""``archiver demo-data``: write a generated demo school's journal export."""

from __future__ import annotations

from pathlib import Path

import click

from archiver.cli.i18n import RuCommand
from archiver.files import write_atomic


@click.command("demo-data", cls=RuCommand)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="ФАЙЛ",
    help="Куда записать выгрузку (JSON).",
)
@click.option(
    "--seed", default=1, show_default=True, metavar="N", help="Начальное число генератора."
)
@click.option(
    "--classes", default=12, show_default=True, metavar="N", help="Число классов и групп."
)
def demo_data(out: Path, seed: int, classes: int) -> None:
    """Создать выгрузку журнала демонстрационной школы-интерната."""
    from archiver.demo.generator import export_bytes, generate_export

    data = generate_export(seed=seed, classes=classes)
    payload = export_bytes(data)
    write_atomic(out, payload)
    students = {s["id"] for c in data["classes"] for s in c["students"]}
    click.echo(
        f"Записана демонстрационная выгрузка {out}: классов и групп {len(data['classes'])}, "
        f"учеников {len(students)}, {len(payload) / 1e6:.1f} МБ."
    )
