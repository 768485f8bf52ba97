"""``archiver sign``: the director's signature on rendered documents, one PIN entry for the batch."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from archiver.archive.store import find_documents
from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuCommand
from archiver.cli.options import DOCUMENTS_ARGUMENT, JSON_OPTION, config_option
from archiver.cli.output import echo_json
from archiver.cli.progress import ProgressDisplay
from archiver.demo.keys import demo_timestamping
from archiver.errors import UsageError
from archiver.settings import SignatureSettings
from archiver.signing.sign import (
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
@DOCUMENTS_ARGUMENT
@config_option()
@JSON_OPTION
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
    storage = cli.settings.storage
    zone = storage.timezone if storage is not None else None
    with signing_session(settings, secret, demo_timestamping(settings), zone=zone) as signer:
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
