"""``archiver dispose draft|approve|execute``: destroying records whose retention has expired, by act.

Three steps (docs/disposal.md): a draft act (nothing deleted), the expert commission's
approval stored in the archive, then the execution of exactly the approved act — a
dry run unless ``--apply``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import click

from archiver.archive.dispose.draft import approve_act, draft_for_archive, parse_protocol
from archiver.archive.dispose.execute import execute_act
from archiver.archive.handout import Archive, open_archive, refresh_catalog
from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuGroup
from archiver.cli.options import JSON_OPTION, OPERATOR_OPTION, config_option
from archiver.cli.output import echo_json, warn
from archiver.clock import clock_from_env
from archiver.errors import UsageError
from archiver.render.engines import Engines


@click.group("dispose", cls=RuGroup)
def dispose() -> None:
    """Уничтожение документов с истёкшим сроком хранения — по акту экспертной комиссии.

    Три шага: draft (проект акта), approve (утверждение протоколом комиссии),
    execute (уничтожение ровно записей утверждённого акта; без --apply — только
    проверка). Записи под запретом (archiver hold) в акт не попадают.
    """


@contextmanager
def act_signer(archive: Archive) -> Iterator[Callable[[bytes], bytes] | None]:
    """Signs an act with the configured signer (the demo's TSA when set); ``None`` without one."""
    signature = archive.settings.signature
    if signature.signer is None:
        yield None
        return
    from archiver.cli.sign import signer_secret
    from archiver.demo.keys import demo_timestamping
    from archiver.signing.sign import signing_session

    with signing_session(
        signature, signer_secret(signature), demo_timestamping(signature)
    ) as signer:
        yield signer.sign_bytes


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--as-of: нужна дата ГГГГ-ММ-ДД, а не «{text}»") from exc


@dispose.command("draft")
@click.option(
    "--as-of", "as_of", metavar="ДАТА", help="На какую дату (ГГГГ-ММ-ДД); по умолчанию сегодня."
)
@click.option("--school", "school_id", metavar="ID", help="Школа (если в архиве их несколько).")
@OPERATOR_OPTION
@config_option()
@JSON_OPTION
@pass_cli
def dispose_draft(
    cli: CliContext, as_of: str | None, school_id: str | None, operator: str | None, as_json: bool
) -> None:
    """Составить проект акта о выделении к уничтожению: записи с истёкшим сроком, кроме запрещённых.

    Ничего не удаляется. Проект (PDF и JSON) записывается в рабочую папку.
    """
    result = draft_for_archive(
        open_archive(cli.settings),
        as_of=_date(as_of),
        school_id=school_id,
        operator=operator,
        clock=clock_from_env(),
    )
    if as_json:
        echo_json(
            None
            if result is None
            else {
                **result.act.to_json(),
                "pdf": str(result.pdf_path),
                "json": str(result.json_path),
                "held": result.held,
            }
        )
        return
    if result is None:
        click.echo("Записей с истёкшим сроком хранения нет: акт не составлен.")
        return
    click.echo(
        f"Проект акта № {result.act.number} о выделении к уничтожению: {len(result.act.items)} дел"
    )
    for item in result.act.items:
        click.echo(
            f"  {item.n}. {item.title} — {item.series} (хранить до {item.retain_until[:10]})"
        )
    for line in result.held:
        click.echo(f"  не включено: {line}")
    click.echo(f"Файлы: {result.pdf_path}, {result.json_path}")
    click.echo(
        f"Дальше: рассмотрение экспертной комиссией, затем "
        f"archiver dispose approve {result.act.number} --protocol «№ … от ДД.ММ.ГГГГ»"
    )


@dispose.command("approve")
@click.argument("number", metavar="АКТ")
@click.option(
    "--protocol",
    required=True,
    metavar="«№ … от ДД.ММ.ГГГГ»",
    help="Номер и дата протокола экспертной комиссии, утвердившей акт.",
)
@OPERATOR_OPTION
@config_option()
@pass_cli
def dispose_approve(cli: CliContext, number: str, protocol: str, operator: str | None) -> None:
    """Внести утверждение акта протоколом экспертной комиссии; акт сохраняется в архиве."""
    parse_protocol(protocol)  # a mistyped protocol is told before the signer asks for its PIN
    archive = open_archive(cli.settings)
    with act_signer(archive) as sign:
        result = approve_act(
            archive.locations,
            archive.access_log(),
            working_dir=archive.working_dir,
            number=number,
            protocol=protocol,
            zone=archive.zone,
            clock=clock_from_env(),
            policies=archive.settings.documents.retention_policies,
            engines=Engines(archive.settings.documents.templates),
            operator=operator,
            sign=sign,
        )
    click.echo(
        f"Акт № {number} утверждён ({result.act.approval and result.act.approval['protocol']}) "
        f"и сохранён в архиве: {result.record_id} (хранилища: {', '.join(result.written)})"
    )
    click.echo(f"    подпись: {result.signed_by or 'не подписан (в настройках нет [signer])'}")
    click.echo(f"    журнал доступа: № {result.log_seq}")


@dispose.command("execute")
@click.argument("number", metavar="АКТ")
@click.option(
    "--apply", is_flag=True, help="Действительно уничтожить (без него — только проверка)."
)
@OPERATOR_OPTION
@config_option()
@JSON_OPTION
@pass_cli
def dispose_execute(
    cli: CliContext, number: str, apply: bool, operator: str | None, as_json: bool
) -> None:
    """Уничтожить записи утверждённого акта из обоих хранилищ и составить акт об уничтожении ПДн.

    Перед удалением проверяется весь акт: срок хранения каждой записи истёк, запретов
    нет, записи те же, что утверждены. Иначе не удаляется ничего.
    """
    archive = open_archive(cli.settings)
    refresh_catalog(archive)
    with act_signer(archive) if apply else _nothing() as sign:
        result = execute_act(
            archive.locations,
            archive.access_log(),
            number=number,
            zone=archive.zone,
            clock=clock_from_env(),
            catalog=archive.catalog,
            policies=archive.settings.documents.retention_policies,
            engines=Engines(archive.settings.documents.templates),
            operator=operator,
            apply=apply,
            sign=sign,
        )
    if apply:
        refresh_catalog(archive)  # find then tells the destroyed records by their act
    if as_json:
        echo_json(
            {
                "act": number,
                "applied": result.applied,
                "records": result.records,
                "already_gone": result.already_gone,
                "removed": result.removed,
                "pd_act_record": result.pd_act_record,
                "subjects": result.subjects,
            }
        )
        return
    if not apply:
        click.echo(f"Проверка акта № {number}: можно уничтожить {len(result.records)} записей:")
        for rid in result.records:
            click.echo(f"  {rid}")
        warn("ничего не удалено: чтобы уничтожить, повторите с --apply")
        return
    click.echo(f"По акту № {number} уничтожено записей: {len(result.records)}")
    for name, count in result.removed.items():
        click.echo(f"    хранилище «{name}»: удалено объектов {count}")
    click.echo(
        f"Акт об уничтожении персональных данных ({result.subjects} субъектов): {result.pd_act_record}"
    )


@contextmanager
def _nothing() -> Iterator[None]:
    yield None
