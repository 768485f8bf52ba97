"""«Журнал доступа» (auditor; the director may look): the hash-chained log, filtered, and its check.

The entries are read as ``archiver log show`` reads them, the chain is checked as
``archiver log verify`` checks it (every location, the copies compared); the last
verification report of the archive (``verify``) is shown below.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from archiver.archive.access_log import ACTIONS, Entry, verify_log
from archiver.archive.verify import last_report
from archiver.errors import ArchiverError
from archiver.web.context import allowed, archive, archiver_settings
from archiver.web.roles import ROLE_TEXT


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _when(text: str) -> str:
    try:
        return datetime.fromisoformat(text).astimezone().strftime("%d.%m.%Y %H:%M")
    except ValueError:
        return text


def _row(entry: Entry) -> dict[str, Any]:
    doc = entry.doc
    who = doc.get("who") or {}
    try:
        at = datetime.fromisoformat(str(doc.get("at")))
    except ValueError:
        at = None
    what = doc.get("what") or {}
    return {
        "seq": entry.seq,
        "at": at,
        "at_text": at.strftime("%d.%m.%Y %H:%M:%S %z") if at else str(doc.get("at")),
        "operator": who.get("operator", ""),
        "role": ROLE_TEXT.get(str(who.get("role", "")), who.get("role") or "командная строка"),
        "client": who.get("client") or f"{who.get('os_user', '')}@{who.get('host', '')}",
        "action": doc.get("action", ""),
        "action_text": ACTIONS.get(str(doc.get("action")), str(doc.get("action"))),
        "what": "; ".join(
            f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in what.items()
        ),
        "why": doc.get("why", ""),
        "sha256": entry.sha256,
        "text": json.dumps(doc, ensure_ascii=False).lower(),
    }


@allowed("archiver.view_access_log")
def access_log_page(request: HttpRequest) -> HttpResponse:
    """Entries (filter by action, account, text, dates) and the chain's verification."""
    filters = {
        "action": request.GET.get("action", ""),
        "operator": request.GET.get("operator", "").strip(),
        "text": request.GET.get("text", "").strip(),
        "since": request.GET.get("since", ""),
        "until": request.GET.get("until", ""),
    }
    context: dict[str, Any] = {"filters": filters, "actions": ACTIONS}
    try:
        opened = archive()
        location, entries = opened.access_log().entries()
        check = verify_log(opened.locations, opened.working_dir)  # the tail anchor too
    except ArchiverError as exc:
        return render(request, "web/access_log.html", {**context, "problem": str(exc)})
    rows = [_row(e) for e in entries]
    since, until = _day(filters["since"]), _day(filters["until"])
    shown = [
        r
        for r in rows
        if (not filters["action"] or r["action"] == filters["action"])
        and (not filters["operator"] or filters["operator"].lower() in str(r["operator"]).lower())
        and (not filters["text"] or filters["text"].lower() in r["text"])
        and (since is None or (r["at"] is not None and r["at"].date() >= since))
        and (until is None or (r["at"] is not None and r["at"].date() <= until))
    ]
    report = last_report(archiver_settings().working_dir())
    context.update(
        location=location,
        total=len(rows),
        rows=list(reversed(shown)),
        check=check,
        report=report,
        report_when=_when(str(report.get("finished_at", ""))) if report else "",
    )
    return render(request, "web/access_log.html", context)
