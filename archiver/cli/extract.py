"""``archiver extract``: a student's final marks over the years, as a one-page PDF/A, logged."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import click

from archiver.archive.extract import SOURCE_TEXT
from archiver.archive.handout import logged_json, make_extract, open_archive
from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuCommand
from archiver.cli.options import (
    JSON_OPTION,
    OPERATOR_OPTION,
    OUT_OPTION,
    PASSPHRASE_FILE_OPTION,
    REASON_OPTION,
    config_option,
)
from archiver.cli.output import echo_json, print_logged, print_rebuild, warn
from archiver.cli.sign import signer_secret
from archiver.demo.keys import demo_timestamping
from archiver.errors import UsageError
from archiver.signing.review import certificate_before_pin
from archiver.wording import ru_date


@click.command("extract", cls=RuCommand)
@click.option(
    "--student",
    "student_id",
    required=True,
    metavar="ID",
    help="id обучающегося (см. «archiver find»).",
)
@OUT_OPTION
@REASON_OPTION
@OPERATOR_OPTION
@click.option("--school", "school_id", metavar="ID", help="Школа, если в архиве их несколько.")
@click.option(
    "--sign",
    "sign",
    is_flag=True,
    help="Подписать выписку электронной подписью ([signer]); пароль или PIN спрашивается.",
)
@PASSPHRASE_FILE_OPTION
@config_option()
@JSON_OPTION
@pass_cli
def extract(
    cli: CliContext,
    student_id: str,
    out: Path,
    reason: str,
    operator: str | None,
    school_id: str | None,
    sign: bool,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    """Выписка из сводной ведомости итоговых отметок обучающегося за все годы в архиве (PDF/A).

    Составляется по архивным данным журнала (sha256 каждой записи проверяется):
    по выгрузкам, а после их срока хранения (5 лет) по данным, вложенным в
    сводные ведомости итоговых отметок (хранятся 25 лет). На
    одной странице: школа, обучающийся, годовые (и экзаменационные) отметки по
    годам, решения педагогического совета. Обращение записывается в
    журнал доступа архива. Существующий файл не перезаписывается.
    Подписывается, только если указано --sign (ключом из [signer]; archiver
    называет, чей это ключ, до запроса пароля).
    """
    settings = cli.settings
    signature = settings.signature
    secret: Callable[[], str] | None = None
    if sign:
        if signature.signer is None:
            raise UsageError("--sign: в файле настроек не задан подписант (раздел [signer])")
        whose = certificate_before_pin(signature)
        click.echo(
            f"Выписка будет подписана ключом: {whose.owner} (сертификат {whose.serial_hex}, "
            f"действителен по {ru_date(whose.not_after)})",
            err=True,
        )
        secret = functools.partial(signer_secret, signature, passphrase_file)

    handed = make_extract(
        open_archive(settings),
        student_id,
        out,
        reason=reason,
        operator=operator,
        school_id=school_id,
        secret=secret,
        timestamping=demo_timestamping(signature),
    )
    data = handed.data
    if handed.rebuilt is not None and not as_json:
        print_rebuild(handed.rebuilt, err=True)
    for note in data.notes:
        warn(note)
    if as_json:
        echo_json(
            {
                "out": str(out),
                "school_id": handed.school_id,
                "student_id": student_id,
                "full_name": data.full_name,
                "years": data.years,
                "pages": handed.pages,
                "sha256": handed.sha256,
                "signed": handed.signer is not None,
                "signer": handed.signer,
                "sources": data.sources,
                "notes": data.notes,
                "access_log": logged_json(handed.logged),
            }
        )
        return
    click.echo(f"Записана выписка {out}: {data.full_name}, учебные годы {', '.join(data.years)}")
    if handed.pages > 1:
        warn(f"выписка не уместилась на одной странице ({handed.pages} стр.)")
    for source in data.sources:
        text = SOURCE_TEXT.get(source["kind"], source["kind"])
        click.echo(
            f"    по записи {source['record_id']} ({text}; sha256 {source['sha256'][:16]}…, "
            f"хранилище «{source['location']}»)"
        )
    if handed.signer is not None:
        click.echo(f"    подписана электронной подписью: {handed.signer}")
    else:
        click.echo(
            "    Выписка НЕ подписана электронной подписью (подписать: --sign, ключом из "
            "[signer]). Или распечатайте её и подпишите у директора, заверив печатью."
        )
    print_logged(handed.logged)
