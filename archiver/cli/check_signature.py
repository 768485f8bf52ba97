"""``archiver check-signature``: every signature of the given documents validated offline."""

from __future__ import annotations

from pathlib import Path

import click

from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuCommand
from archiver.cli.options import JSON_OPTION, config_option
from archiver.cli.output import echo_json
from archiver.errors import ExitCode, InputError, UsageError
from archiver.settings import CommandSigner
from archiver.signing.check import DocumentReport, SignatureReport, check_document
from archiver.signing.external import external_report, is_gost
from archiver.signing.sign import load_trust_roots

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
@JSON_OPTION
@pass_cli
def check_signature(
    cli: CliContext, files: tuple[Path, ...], trust_roots: tuple[Path, ...], as_json: bool
) -> None:
    """Проверить электронные подписи документов (без обращения к сети).

    Для каждой подписи: подписант, срок действия сертификата, время подписи и его
    источник, достигнутый уровень PAdES, итог проверки AdES и охватывает ли подпись
    весь файл. Код выхода 0, только если все подписи всех документов действительны.
    """
    for path in files:
        if not path.is_file():
            raise InputError(f"{path}: нет такого файла")
    signer = cli.settings.signer if cli.has_config() else None
    command = signer if isinstance(signer, CommandSigner) else None
    gost = {path for path in files if is_gost(path.read_bytes())}
    roots_paths = list(trust_roots)
    if not roots_paths and cli.has_config():
        roots_paths = list(cli.settings.signature.trust_roots)
    roots = load_trust_roots(roots_paths)
    if not roots and set(files) - gost:
        raise UsageError(
            "укажите доверенный корневой сертификат (--trust-root) или файл настроек (--config) "
            "с [signature] trust_roots"
        )
    # ГОСТ: pyHanko cannot validate it; archiver's own checks plus [signer] verify_command
    reports = [
        external_report(path, command) if path in gost else check_document(path, roots)
        for path in files
    ]
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
