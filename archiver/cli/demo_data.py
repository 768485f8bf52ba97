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
@click.option(
    "--year",
    type=int,
    default=2025,
    show_default=True,
    metavar="ГОД",
    help="Год начала учебного года: 2025 — 2025/2026; 2024 — те же ученики годом раньше, "
    "на класс младше (2022–2025).",
)
def demo_data(out: Path, seed: int, classes: int, year: int) -> None:
    """Создать выгрузку журнала демонстрационной школы-интерната.

    Выгрузки разных лет (--year) с тем же --seed описывают одних и тех же учеников:
    id, ФИО и даты рождения те же, каждый год — на класс старше. Так получается
    архив нескольких лет.
    """
    from archiver.demo.generator import export_bytes, generate_export
    from archiver.demo.generator.years import earlier_year

    data = earlier_year(generate_export(seed=seed, classes=classes), year)
    payload = export_bytes(data)
    write_atomic(out, payload)
    students = {s["id"] for c in data["classes"] for s in c["students"]}
    click.echo(
        f"Записана демонстрационная выгрузка {out} за {data['academic_year']['name']} "
        f"учебный год: классов и групп {len(data['classes'])}, "
        f"учеников {len(students)}, {len(payload) / 1e6:.1f} МБ."
    )
