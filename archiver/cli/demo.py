"""``archiver demo``: the whole year-end run on a generated school, nothing to configure."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from archiver.cli.i18n import RuCommand
from archiver.cli.progress import year_end_display
from archiver.demo.keys import DEMO_PASSPHRASE, DemoKeys, demo_timestamping, make_demo_keys
from archiver.errors import ExitCode, InputError
from archiver.files import write_atomic
from archiver.init_config import write_config
from archiver.settings import load_settings
from archiver.sources.export_v1 import read_export
from archiver.storage.open import open_locations
from archiver.yearend import REPORT_TEXT, run_year_end


@click.command("demo", cls=RuCommand)
@click.option(
    "--out",
    "out",
    default="archiver-demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    metavar="ПАПКА",
    help="Папка демонстрации (повторный запуск продолжает в ней).",
)
@click.option(
    "--classes", default=12, show_default=True, metavar="N", help="Число классов и групп."
)
@click.option("--json", "as_json", is_flag=True, help="Ход работы — строками JSON.")
def demo(out: Path, classes: int, as_json: bool) -> None:
    """Показать всю работу archiver на демонстрационной школе: без настроек и без сети."""
    from archiver.demo.generator import export_bytes, generate_export

    config_path = out / "archiver.toml"
    export_path = out / "export.json"
    fresh = not config_path.exists()
    if fresh:
        write_config(out, primary="storage/room-1", secondary="storage/room-2", demo=True)
    if not export_path.exists():
        write_atomic(export_path, export_bytes(generate_export(classes=classes)))
    raw = export_path.read_bytes()
    started = time.monotonic()
    report = read_export(raw, name=str(export_path))
    if report.export is None or not report.ok:
        raise InputError(f"{export_path}: демонстрационная выгрузка не прошла проверку")
    validated = time.monotonic() - started
    export = report.export
    keys = DemoKeys.at(out / "keys")
    if not keys.director_p12.exists():
        make_demo_keys(keys.folder, export.school.director.name, export.school.short_name)
    if not as_json:
        click.echo(
            f"Демонстрация в папке {out}: школа «{export.school.short_name}», "
            f"классов и групп {len(export.classes)}.",
            err=True,
        )
    os.environ.setdefault("ARCHIVER_SIGNER_PASSPHRASE", DEMO_PASSPHRASE)
    settings = load_settings(config_path)
    storage = settings.require_storage()
    result = run_year_end(
        report,
        raw,
        export_path.name,
        state_dir=settings.working_dir(),
        signature=settings.signature,
        locations=open_locations(storage),
        secret=lambda: os.environ["ARCHIVER_SIGNER_PASSPHRASE"],
        timestamping=demo_timestamping(settings.signature),
        zone=storage.timezone,
        doc_options=settings.documents,
        progress=year_end_display(as_json),
        validate_seconds=validated,
    )
    click.echo(result.to_text(), nl=False)
    marked = [c for c in export.classes if c.marks_recorded]
    folder = result.work_dir / (marked[-1].id if marked else export.classes[0].id)
    journal = next(iter(sorted(folder.glob("*-class-journal.pdf"))), None)
    final = next(iter(sorted(folder.glob("*-final-marks.pdf"))), None)
    click.echo("")
    click.echo("Что посмотреть:")
    if journal is not None:
        click.echo(f"  журнал класса (PDF/A, подписан): {journal}")
    if final is not None:
        click.echo(f"  сводная ведомость итоговых отметок: {final}")
    click.echo(f"  отчёт: {result.work_dir / REPORT_TEXT}")
    click.echo(f"  две копии архива: {out / 'storage' / 'room-1'} и {out / 'storage' / 'room-2'}")
    click.echo(f"  проверить подпись: archiver check-signature --config {config_path} {journal}")
    pyhanko = Path(sys.executable).parent / "pyhanko"
    click.echo(
        f"  она же независимо (pyHanko): "
        f"{pyhanko if pyhanko.exists() else 'pyhanko'} sign validate --pretty-print "
        f"--trust {keys.ca_cert} --trust-replace {journal}"
    )
    click.echo(f"  проверить архив:   archiver verify --config {config_path}")
    click.echo(f"  где какой класс:   archiver status --config {config_path}")
    if not result.ok:
        raise SystemExit(ExitCode.PROBLEMS_FOUND)
