"""``archiver sign``: the director's signature: review, then one PIN entry for the batch.

``archiver sign --review`` (or without documents: the batch the year-end run left
waiting) shows every document and the certificate before any PIN is asked, asks for
confirmation, records the review in the access log, then signs exactly what was
shown. ``--prepare``/``--complete`` sign on another computer (an external signer).
The passphrase or PIN comes from a prompt without echo, ``--passphrase-file`` (read
once; ``/dev/fd/N`` for a descriptor) or, for automation only, the environment
variable the settings name; it is never printed, logged or passed on a command line.
"""

from __future__ import annotations

import os
import sys
from datetime import tzinfo
from pathlib import Path

import click

from archiver.archive.store import find_documents
from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuCommand
from archiver.cli.options import JSON_OPTION, PASSPHRASE_FILE_OPTION, config_option
from archiver.cli.output import echo_json, warn
from archiver.cli.progress import ProgressDisplay
from archiver.demo.keys import demo_timestamping
from archiver.errors import ExitCode, UsageError
from archiver.settings import CommandSigner, Settings, SignatureSettings
from archiver.signing.review import (
    SigningBatch,
    certificate_before_pin,
    certificate_warnings,
    checked_by,
    make_batch,
    read_request,
    sign_batch,
)
from archiver.signing.sign import (
    SignerIdentity,
    SignOutcome,
    needs_secret,
    secret_env,
    secret_prompt,
    sign_files,
    signing_session,
)
from archiver.wording import program, ru_date

YES = {"да", "д", "yes", "y"}


def read_secret(env_name: str, prompt: str, passphrase_file: Path | None = None) -> str:
    """The passphrase or PIN: ``--passphrase-file`` (read once), else a prompt without echo.

    The environment variable is for automation only (a script, a test): it is read
    when there is no file, before the prompt.
    """
    if passphrase_file is not None:
        try:
            with open(passphrase_file, encoding="utf-8") as handle:  # /dev/fd/N too
                return handle.readline().rstrip("\r\n")
        except OSError as exc:
            raise UsageError(f"файл пароля {passphrase_file} не читается: {exc.strerror}") from exc
    value = os.environ.get(env_name)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise UsageError(
            f"{prompt.lower()} не задан: запустите команду в терминале, чтобы ввести его, "
            f"или укажите --passphrase-file ФАЙЛ (для автоматизации — переменная {env_name})"
        )
    entered: str = click.prompt(prompt, hide_input=True, err=True)
    return entered


def signer_secret(signature: SignatureSettings, passphrase_file: Path | None = None) -> str:
    """The configured signer's passphrase or PIN (:func:`read_secret`); empty when a program asks itself."""
    if not needs_secret(signature):
        return ""
    return read_secret(secret_env(signature), secret_prompt(signature), passphrase_file)


@click.command("sign", cls=RuCommand)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[ПАПКА|ФАЙЛ...]")
@click.option(
    "--review",
    is_flag=True,
    help="Сначала показать документы и сертификат и спросить подтверждение (без документов — всегда).",
)
@click.option(
    "--year", metavar="ГОД", help="Учебный год документов, ждущих подписи (по умолчанию последний)."
)
@click.option(
    "--prepare",
    "prepare_dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="ПАПКА",
    help="Подготовить документы к подписи на другом компьютере: данные для подписи — в ПАПКУ.",
)
@click.option(
    "--complete",
    "complete_dirs",
    nargs=2,
    type=click.Path(file_okay=False, path_type=Path),
    metavar="ПАПКА ПОДПИСИ",
    help="Встроить подписи (файлы *.tbs.sig из папки ПОДПИСИ) в подготовленные документы.",
)
@PASSPHRASE_FILE_OPTION
@config_option()
@JSON_OPTION
@pass_cli
def sign(
    cli: CliContext,
    paths: tuple[Path, ...],
    review: bool,
    year: str | None,
    prepare_dir: Path | None,
    complete_dirs: tuple[Path, Path] | None,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    """Подписать документы электронной подписью директора (PAdES).

    Без ПАПКИ — документы, которые «archiver year-end» оставил ждать подписи
    директора: сначала они показываются (класс, вид, листы, sha256) вместе с
    сертификатом, директор подтверждает, затем один раз вводит PIN-код. ПАПКА —
    папка «archiver render» или отдельные PDF-файлы. Документ, изменённый после
    просмотра, не подписывается. Уже подписанные документы повторно не подписываются.
    """
    settings = cli.settings
    signature = settings.signature
    zone = settings.storage.timezone if settings.storage is not None else None
    if complete_dirs is not None:
        _complete(signature, complete_dirs, as_json, zone)
        return
    if paths and not review and prepare_dir is None:
        _sign_unreviewed(signature, find_documents(paths), passphrase_file, as_json, zone)
        return
    batch = _batch(settings, paths, year)
    if prepare_dir is not None:
        _prepare(signature, batch, prepare_dir, as_json, zone)
        return
    identity = certificate_before_pin(signature)
    if not _reviewed(settings, batch, identity):
        click.echo("Подписание отменено: ничего не подписано.", err=True)
        raise SystemExit(ExitCode.WAITING_FOR_SIGNATURE)
    if not batch.documents:
        click.echo("Нечего подписывать: все документы уже подписаны.")
        return
    secret = signer_secret(signature, passphrase_file)
    progress = ProgressDisplay(as_json, {"sign": "Подпись документов"})
    if not as_json:
        click.echo(f"Подписант: {identity.owner}, сертификат {identity.serial_hex}", err=True)
    try:
        outcomes, _level, checked = sign_batch(
            signature, batch, identity, secret, demo_timestamping(signature), progress, zone
        )
    finally:
        progress.close()
    if checked and not as_json and any(o.signed for o in outcomes):
        click.echo(checked)
    _print_outcomes(outcomes, as_json)


def _sign_unreviewed(
    signature: SignatureSettings,
    documents: list[Path],
    passphrase_file: Path | None,
    as_json: bool,
    zone: tzinfo | None,
) -> None:
    """Documents named on the command line, without the review (the administrator's own key)."""
    secret = signer_secret(signature, passphrase_file)
    progress = ProgressDisplay(as_json, {"sign": "Подпись документов"})
    with signing_session(signature, secret, demo_timestamping(signature), zone=zone) as signer:
        if not as_json:
            identity = signer.loaded.identity
            click.echo(
                f"Подписант: {identity.owner}, сертификат {identity.serial_hex}, "
                f"уровень {signer.level}",
                err=True,
            )
        try:
            outcomes = sign_files(signer, documents, progress)
        finally:
            progress.close()
        checked = checked_by(signer)
    if checked and not as_json and any(o.signed for o in outcomes):
        click.echo(checked)
    _print_outcomes(outcomes, as_json)


def _batch(settings: Settings, paths: tuple[Path, ...], year: str | None) -> SigningBatch:
    """The documents given, or the batch the year-end run left waiting for the director."""
    if paths:
        return make_batch(find_documents(paths))
    from archiver.status import run_folder

    folder = run_folder(settings.working_dir(create=False), year)
    batch = read_request(folder)
    if batch is None:
        raise UsageError(
            f"в {folder} нет документов, ждущих подписи директора: сначала «{program()} year-end», "
            "или укажите папку с документами"
        )
    return batch


def _reviewed(settings: Settings, batch: SigningBatch, identity: SignerIdentity) -> bool:
    """Show the batch and the certificate, ask for confirmation, log the review; True: confirmed."""
    shown = click.echo
    shown(f"Школа: {batch.school}", err=True)
    shown(f"Учебный год: {batch.academic_year}", err=True)
    shown(f"Документы на подпись ({len(batch.documents)}, листов {batch.sheets}):", err=True)
    for i, doc in enumerate(batch.documents, 1):
        shown(f"  {i}. {doc.title}", err=True)
        shown(
            f"     класс {doc.class_id or '—'}; {doc.kind_text}; листов {doc.sheets}; "
            f"sha256 {doc.sha256}",
            err=True,
        )
        shown(f"     файл {doc.path}", err=True)
    shown("Сертификат подписи:", err=True)
    shown(f"  владелец: {identity.owner}", err=True)
    shown(f"  субъект: {identity.subject}", err=True)
    shown(f"  серийный номер: {identity.serial_hex}", err=True)
    shown(
        f"  действителен: с {ru_date(identity.not_before)} по {ru_date(identity.not_after)}",
        err=True,
    )
    for line in certificate_warnings(identity, batch.director):
        warn(line)
    if not batch.documents:
        return True
    click.echo(
        f"Подписать эти документы ({len(batch.documents)}) своей подписью? Введите «да»: ",
        nl=False,
        err=True,
    )
    answer = sys.stdin.readline().strip().lower()
    if not sys.stdin.isatty():
        click.echo(answer, err=True)  # what was answered, as a terminal would have shown it
    confirmed = answer in YES
    logged = _log_review(settings, batch, identity, confirmed)
    if logged is not None:
        shown(f"Просмотр записан в журнал доступа (запись № {logged}).", err=True)
    else:
        warn("в archiver.toml нет [storage]: просмотр не записан в журнал доступа архива")
    return confirmed


def _log_review(
    settings: Settings, batch: SigningBatch, identity: SignerIdentity, confirmed: bool
) -> int | None:
    """The review as an access log entry (who, when, which documents); ``None`` without storage."""
    if settings.storage is None:
        return None
    from archiver.archive.handout import open_archive
    from archiver.archive.review_log import log_review

    return log_review(open_archive(settings), batch, identity, confirmed).seq


def _command_signer(signature: SignatureSettings) -> CommandSigner:
    if not isinstance(signature.signer, CommandSigner):
        raise UsageError(
            "подготовка к подписи на другом компьютере — для внешней программы подписи: "
            '[signer] kind = "command" с сертификатом директора (certificate)'
        )
    return signature.signer


def _prepare(
    signature: SignatureSettings,
    batch: SigningBatch,
    out: Path,
    as_json: bool,
    zone: tzinfo | None,
) -> None:
    from archiver.signing.external import CommandDocumentSigner
    from archiver.signing.twostep import prepare_batch

    signer = CommandDocumentSigner(_command_signer(signature), signature, "", zone)
    files = prepare_batch(signer, batch, out)
    if as_json:
        echo_json({"prepared": str(out), "to_sign": [str(p) for p in files]})
        return
    click.echo(f"Подготовлено документов: {len(files)}. Подпишите на компьютере директора файлы:")
    for path in files:
        click.echo(f"  {path}  →  {path.name}.sig (отделённая подпись CAdES, DER)")
    click.echo(f"Затем: {program()} sign --complete {out} ПАПКА_С_ПОДПИСЯМИ")


def _complete(
    signature: SignatureSettings, dirs: tuple[Path, Path], as_json: bool, zone: tzinfo | None
) -> None:
    from archiver.signing.external import CommandDocumentSigner
    from archiver.signing.twostep import complete_batch

    signer = CommandDocumentSigner(_command_signer(signature), signature, "", zone)
    outcomes = complete_batch(signer, dirs[0], dirs[1])
    checked = checked_by(signer)
    if checked and not as_json:
        click.echo(checked)
    _print_outcomes(outcomes, as_json)


def _print_outcomes(outcomes: list[SignOutcome], as_json: bool) -> None:
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
