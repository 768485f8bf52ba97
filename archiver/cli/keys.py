"""``archiver keys``: demo keys for trying archiver out (never for real documents)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from archiver.cli.i18n import RuCommand, RuGroup
from archiver.demo.keys import DEMO_NOTICE, DemoKeys, make_demo_keys, serve_demo_tsa
from archiver.errors import InputError
from archiver.sources.export_v1 import read_export

DEFAULT_DIRECTOR = "Директор демонстрационной школы"


@click.group("keys", cls=RuGroup)
def keys() -> None:
    """Ключи электронной подписи: демонстрационные ключи для пробы."""


def signature_config(folder: Path, relative_to: Path) -> str:
    """The ``archiver.toml`` lines that sign with the demo keys in ``folder``."""
    try:
        shown = folder.resolve().relative_to(relative_to.resolve())
    except ValueError:
        shown = folder.resolve()
    return (
        "[signer]\n"
        'kind = "pkcs12"\n'
        f'pkcs12_file = "{shown / "director.p12"}"\n'
        f'certificate = "{shown / "director.pem"}"\n'
        'passphrase_env = "ARCHIVER_SIGNER_PASSPHRASE"\n'
        "\n"
        "[signature]\n"
        'level = "B-LTA"\n'
        f'demo_tsa = "{shown}"\n'
        f'trust_roots = ["{shown / "demo-ca.pem"}"]\n'
        f'crls = ["{shown / "demo-ca.crl"}"]\n'
    )


@keys.command("demo", cls=RuCommand)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    metavar="ПАПКА",
    help="Куда записать демонстрационные ключи.",
)
@click.option(
    "--source",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="ВЫГРУЗКА",
    help="Взять имя директора и название школы из выгрузки журнала.",
)
def keys_demo(out_dir: Path, source: Path | None) -> None:
    """Создать демонстрационный УЦ, сертификат директора (PKCS#12) и ключ службы штампов времени.

    Все демонстрационные сертификаты содержат в имени «ДЕМО — не имеет юридической
    силы»; этой же надписью помечается видимая отметка подписи.
    """
    director, school = DEFAULT_DIRECTOR, "Демонстрационная школа"
    if source is not None:
        report = read_export(source)
        if report.export is None:
            raise InputError(
                f"{source}: выгрузка не читается; проверьте её командой «archiver validate»"
            )
        school = report.export.school.short_name or report.export.school.full_name
        director = report.export.school.director.name
    made = make_demo_keys(out_dir, director, school)
    click.echo(f"Демонстрационные ключи записаны в {out_dir} ({DEMO_NOTICE}):")
    click.echo(f"  {made.ca_cert.name} — корневой сертификат демо-УЦ (доверенный для проверки)")
    click.echo(f"  {made.crl.name} — список отзыва демо-УЦ")
    click.echo(
        f"  {made.director_p12.name} — ключ и сертификат директора ({director}), пароль «{made.passphrase}»"
    )
    click.echo(
        f"  {made.tsa_cert.name}, {made.tsa_key.name} — демонстрационная служба штампов времени"
    )
    click.echo("")
    click.echo("Добавьте в archiver.toml:")
    click.echo("")
    click.echo(signature_config(out_dir, Path.cwd()))
    click.echo(
        f"Пароль ключа («{made.passphrase}») archiver спросит при подписи, ввод не отображается."
    )


@keys.command("demo-tsa", cls=RuCommand)
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), metavar="ПАПКА")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Порт на 127.0.0.1.")
def keys_demo_tsa(folder: Path, port: int) -> None:
    """Запустить демонстрационную службу штампов времени на 127.0.0.1 (до Ctrl-C)."""
    with serve_demo_tsa(DemoKeys.at(folder), port) as url:
        click.echo(f"Демонстрационная служба штампов времени: {url} (остановка: Ctrl-C)")
        while True:
            time.sleep(3600)
