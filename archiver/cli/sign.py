"""``archiver sign`` and ``archiver check-signature``: the director's signature."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from archiver.archive.store import find_documents
from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuCommand
from archiver.cli.options import config_option
from archiver.cli.output import echo_json
from archiver.cli.progress import ProgressDisplay
from archiver.demo.keys import demo_timestamping
from archiver.errors import ExitCode, InputError, UsageError
from archiver.settings import SignatureSettings
from archiver.signing.check import DocumentReport, SignatureReport, check_document
from archiver.signing.sign import (
    load_trust_roots,
    secret_env,
    secret_prompt,
    sign_files,
    signing_session,
)


def read_secret(env_name: str, prompt: str) -> str:
    """The passphrase or PIN: from the environment, else asked once on the terminal."""
    value = os.environ.get(env_name)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise UsageError(
            f"{prompt.lower()} не задан: укажите его в переменной окружения {env_name} "
            "или запустите команду в терминале, чтобы ввести его"
        )
    entered: str = click.prompt(prompt, hide_input=True, err=True)
    return entered


def signer_secret(signature: SignatureSettings) -> str:
    """The configured signer's passphrase or PIN (:func:`read_secret`)."""
    return read_secret(secret_env(signature), secret_prompt(signature))


@click.command("sign", cls=RuCommand)
@click.argument(
    "paths",
    nargs=-1,
    required=True,
    type=click.Path(path_type=Path),
    metavar="ПАПКА|ФАЙЛ...",
)
@config_option()
@click.option("--json", "as_json", is_flag=True, help="Вывести результат в формате JSON.")
@pass_cli
def sign(cli: CliContext, paths: tuple[Path, ...], as_json: bool) -> None:
    """Подписать документы электронной подписью директора (PAdES).

    ПАПКА — папка, подготовленная командой «archiver render» (ищутся файлы
    *-class-journal.pdf и *-final-marks.pdf), или отдельные PDF-файлы. Пароль
    ключа или PIN-код токена вводится один раз на все документы. Уже подписанные
    документы повторно не подписываются.
    """
    settings = cli.settings.signature
    documents = find_documents(paths)
    secret = signer_secret(settings)
    progress = ProgressDisplay(as_json, {"sign": "Подпись документов"})
    with signing_session(settings, secret, demo_timestamping(settings)) as signer:
        if not as_json:
            identity = signer.loaded.identity
            click.echo(
                f"Подписант: {identity.owner}, сертификат {identity.serial_hex}, "
                f"уровень {settings.level}",
                err=True,
            )
        try:
            outcomes = sign_files(signer, documents, progress)
        finally:
            progress.close()
    if as_json:
        echo_json(
            [
                {"path": str(o.path), "signed": o.signed, "level": o.level, "note": o.note}
                for o in outcomes
            ]
        )
        return
    for outcome in outcomes:
        if outcome.signed:
            click.echo(f"Подписан ({outcome.level}): {outcome.path}")
        else:
            click.echo(f"Уже подписан, пропущен: {outcome.path}")
    signed = sum(1 for o in outcomes if o.signed)
    click.echo(f"Готово: подписано {signed}, пропущено (уже подписаны) {len(outcomes) - signed}")


SOURCE_TEXT = {"timestamp": "по штампу времени", "claimed": "со слов подписанта, без штампа"}


def _print_signature(sig: SignatureReport) -> None:
    what = "Подпись" if sig.kind == "signature" else "Штамп времени документа"
    mark = "✔" if sig.ok else "✘"
    click.echo(f"  {mark} {what} ({sig.field_name})")
    click.echo(f"    {'Подписант' if sig.kind == 'signature' else 'Служба'}: {sig.signer}")
    click.echo(
        f"    Сертификат: {sig.certificate_serial}, действует с {sig.certificate_valid_from[:10]} "
        f"по {sig.certificate_valid_to[:10]}"
    )
    if sig.signing_time:
        click.echo(
            f"    Время подписи: {sig.signing_time} ({SOURCE_TEXT.get(sig.signing_time_source, sig.signing_time_source)})"
        )
    if sig.kind == "signature":
        click.echo(f"    Уровень: PAdES {sig.level}")
        if sig.ades_indication:
            click.echo(f"    Проверка AdES: {sig.ades_indication} / {sig.ades_subindication}")
    click.echo(
        "    Охват: весь файл"
        if sig.covers_whole_file
        else f"    Охват: НЕ весь файл ({sig.coverage})"
    )
    click.echo(f"    Итог: {sig.verdict}")
    for note in sig.notes:
        click.echo(f"    Внимание: {note}")


def _print_document(report: DocumentReport) -> None:
    click.echo(f"{report.path}: {'ДЕЙСТВИТЕЛЕН' if report.ok else 'НЕ ПОДТВЕРЖДЁН'}")
    for sig in report.signatures:
        _print_signature(sig)
    if not report.signatures:
        click.echo(f"  {report.message}")


@click.command("check-signature", cls=RuCommand)
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="ФАЙЛ...",
)
@config_option()
@click.option(
    "--trust-root",
    "trust_roots",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="СЕРТИФИКАТ",
    help="Доверенный корневой сертификат (PEM или DER); по умолчанию из [signature] trust_roots.",
)
@click.option("--json", "as_json", is_flag=True, help="Вывести результат в формате JSON.")
@pass_cli
def check_signature(
    cli: CliContext, files: tuple[Path, ...], trust_roots: tuple[Path, ...], as_json: bool
) -> None:
    """Проверить электронные подписи документов (без обращения к сети).

    Для каждой подписи: подписант, срок действия сертификата, время подписи и его
    источник, достигнутый уровень PAdES, итог проверки AdES и охватывает ли подпись
    весь файл. Код выхода 0, только если все подписи всех документов действительны.
    """
    roots_paths = list(trust_roots)
    if not roots_paths:
        if not cli.has_config():
            raise UsageError(
                "укажите доверенный корневой сертификат (--trust-root) или файл настроек (--config)"
            )
        roots_paths = list(cli.settings.signature.trust_roots)
    roots = load_trust_roots(roots_paths)
    if not roots:
        raise UsageError(
            "не заданы доверенные корневые сертификаты ([signature] trust_roots или --trust-root)"
        )
    for path in files:
        if not path.is_file():
            raise InputError(f"{path}: нет такого файла")
    reports = [check_document(path, roots) for path in files]
    if as_json:
        echo_json([r.to_json() for r in reports])
    else:
        for report in reports:
            _print_document(report)
        good = sum(1 for r in reports if r.ok)
        click.echo(
            f"Итого: документов {len(reports)}, подтверждено {good}, не подтверждено {len(reports) - good}"
        )
    if not all(r.ok for r in reports):
        raise SystemExit(ExitCode.PROBLEMS_FOUND)
