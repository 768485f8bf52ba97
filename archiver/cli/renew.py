"""``archiver renew``: new document timestamps for stored documents whose timestamps age."""

from __future__ import annotations

from datetime import date

import click

from archiver.archive.handout import Archive, open_archive
from archiver.archive.renew import RenewalItem, Renewed, plan_renewal, renew_by, renew_records
from archiver.cli.context import CliContext, pass_cli
from archiver.cli.i18n import RuCommand
from archiver.cli.options import JSON_OPTION, OPERATOR_OPTION, config_option
from archiver.cli.output import echo_json, warn
from archiver.clock import clock_from_env
from archiver.errors import UsageError


@click.command("renew", cls=RuCommand)
@click.option(
    "--before",
    metavar="ДАТА",
    help="Продлить метки, сертификат службы которых истекает раньше этой даты "
    "(по умолчанию: сегодня + [renewal] margin_years).",
)
@click.option("--apply", is_flag=True, help="Действительно продлить (без него — только список).")
@OPERATOR_OPTION
@config_option()
@JSON_OPTION
@pass_cli
def renew(
    cli: CliContext, before: str | None, apply: bool, operator: str | None, as_json: bool
) -> None:
    """Продлить архивные метки времени (PAdES B-LTA) документов, пока они не устарели.

    Продлённый документ сохраняется новой версией той же записи в обоих хранилищах
    с тем же сроком хранения; прежняя версия остаётся под своей блокировкой.
    """
    settings = cli.settings
    archive = open_archive(settings)
    clock = clock_from_env()
    today = clock.today(archive.zone)
    margin = settings.renewal.margin_years
    if before is not None:
        try:
            limit = date.fromisoformat(before)
        except ValueError as exc:
            raise UsageError(f"--before: нужна дата ГГГГ-ММ-ДД, а не «{before}»") from exc
    else:
        limit = today.replace(year=today.year + margin, day=min(today.day, 28))
    items = plan_renewal(
        archive.locations,
        before=limit,
        zone=archive.zone,
        ageing=settings.renewal.ageing_algorithms,
    )
    due = [i for i in items if i.reason is not None]
    renewed: list[Renewed] = []
    if apply and due:
        renewed = _apply(archive, due, operator)
    if as_json:
        echo_json(
            {
                "before": limit.isoformat(),
                "applied": apply,
                "records": [i.to_json() for i in items],
                "renewed": [{"old": r.old, "new": r.new, "reason": r.reason} for r in renewed],
            }
        )
        return
    click.echo(
        f"Метки времени, истекающие до {limit:%d.%m.%Y}: {len(due)} из {len(items)} документов"
    )
    for item in items:
        stamp = item.timestamp
        if stamp is None:
            click.echo(f"  {item.manifest.record_id}: нет архивной метки времени (не B-LTA)")
            continue
        by = renew_by(stamp, margin)
        state = f"ПРОДЛИТЬ: {item.reason}" if item.reason else f"продлить до {by:%d.%m.%Y}"
        click.echo(f"  {item.manifest.record_id}: {state}")
    for done in renewed:
        click.echo(f"Продлено: {done.old} → {done.new}")
    if due and not apply:
        warn("ничего не записано: чтобы продлить, повторите с --apply")


def _apply(archive: Archive, due: list[RenewalItem], operator: str | None) -> list[Renewed]:
    from pyhanko_certvalidator import ValidationContext

    from archiver.demo.keys import demo_timestamping
    from archiver.signing.sign import load_crls, load_trust_roots

    signature = archive.settings.signature
    roots = load_trust_roots(signature.trust_roots)
    if not roots:
        raise UsageError(
            "не заданы доверенные корневые сертификаты ([signature] trust_roots): "
            "без них прежнюю метку времени не проверить"
        )
    context = ValidationContext(
        trust_roots=roots,
        crls=load_crls(signature.crls),
        allow_fetching=True,
        revocation_mode="hard-fail",
    )
    timestamping = demo_timestamping(signature)
    clock = clock_from_env()
    if timestamping is not None:
        with timestamping() as url:
            return renew_records(
                archive.locations,
                due,
                tsa_url=url,
                validation_context=context,
                now=clock.now(archive.zone),
                log=archive.access_log(),
                operator=operator,
            )
    if not signature.tsa_url:
        raise UsageError("не задан адрес службы штампов времени ([signature] tsa_url)")
    return renew_records(
        archive.locations,
        due,
        tsa_url=signature.tsa_url,
        validation_context=context,
        now=clock.now(archive.zone),
        log=archive.access_log(),
        operator=operator,
    )
