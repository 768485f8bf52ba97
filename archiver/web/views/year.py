"""«Год» (administrator; the director sees it too): each class's state, the deadline, the checks.

The classes' states are :func:`archiver.status.year_status`'s (as ``archiver status``
prints them); the checks are ``archiver verify``'s (:func:`verify_configured`), run
in a background thread of the service, one at a time, never with repair. The page
reloads itself while the check runs and shows its progress.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from archiver.archive.verify import last_report, verify_configured
from archiver.check import run_checks
from archiver.demo.keys import demo_timestamping
from archiver.errors import ArchiverError
from archiver.progress import ProgressEvent
from archiver.status import year_status
from archiver.storage.open import open_locations
from archiver.web.context import allowed, archiver_settings, can

log = logging.getLogger("archiver.web")
CHECKS = "settings_checks"


@dataclass
class VerifyJob:
    """The check running in the background (or the last one)."""

    running: bool = False
    done: int = 0
    total: int = 0
    item: str = ""
    started_by: str = ""
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def progress(self, event: ProgressEvent) -> None:
        if event.stage == "verify" and event.event in ("start", "step", "done"):
            self.done, self.total, self.item = event.done, event.total, event.item or ""


JOB = VerifyJob()


def _run(user: str) -> None:
    try:
        verify_configured(archiver_settings(), progress=JOB.progress)
        log.info("проверка архива, запущенная %s, завершена", user)
    except ArchiverError as exc:
        JOB.error = str(exc)
    except Exception as exc:  # the thread must report, not die silently
        log.exception("проверка архива прервалась")
        JOB.error = f"внутренняя ошибка ({type(exc).__name__}: {exc})"
    finally:
        JOB.running = False


def _standing(year: str | None) -> dict[str, Any]:
    settings = archiver_settings()
    try:
        found = year_status(
            settings.working_dir(create=False), open_locations(settings.require_storage()), year
        )
    except ArchiverError as exc:
        return {"problem": str(exc)}
    return {
        "school": found.export.school.short_name,
        "academic_year": found.export.academic_year.name,
        "deadline": found.deadline,
        "days_left": found.days_left,
        "overdue": -found.days_left,
        "classes": [(s.name, s.state, s.text) for s in found.classes],
        "next_step": found.next_step,
        "notes": found.notes,
    }


def _when(text: str) -> str:
    try:
        return datetime.fromisoformat(text).astimezone().strftime("%d.%m.%Y %H:%M")
    except ValueError:
        return text


@allowed("archiver.view_year")
def year_page(request: HttpRequest) -> HttpResponse:
    """The year's classes, the deadline, the last check of each copy, the «Проверить» button."""
    year = request.GET.get("year") or None
    report = last_report(archiver_settings().working_dir())
    copies = []
    if report is not None:
        for location in report.get("locations", []):
            problems = sum(
                len(location.get(key, []))
                for key in ("changed", "missing", "unreadable", "unprotected", "untracked")
            )
            copies.append(
                {
                    "name": location["name"],
                    "where": location["where"],
                    "available": location["available"],
                    "error": location.get("error"),
                    "problems": problems,
                }
            )
    context = {
        "checks": request.session.pop(CHECKS, None),
        **_standing(year),
        "report": report,
        "report_when": _when(report["finished_at"]) if report else "",
        "copies": copies,
        "job": JOB,
        "can_verify": can(request, "archiver.run_verify"),
    }
    return render(request, "web/year.html", context)


@allowed("archiver.run_verify")
@require_POST
def run_settings_check(request: HttpRequest) -> HttpResponse:
    """``archiver check --no-signer``: settings, both locations writable, TSA, policies, templates.

    The signer's key is not opened here (its passphrase or PIN is the director's).
    """
    settings = archiver_settings()
    try:
        report = run_checks(
            settings,
            open_locations(settings.require_storage()),
            secret=None,
            timestamping=demo_timestamping(settings.signature),
        )
    except ArchiverError as exc:
        request.session[CHECKS] = [{"name": "настройки", "ok": False, "message": str(exc)}]
    else:
        request.session[CHECKS] = [
            {"name": i.name, "ok": i.ok, "message": i.message, "blocking": i.blocking}
            for i in report.items
        ]
    return redirect("year")


@allowed("archiver.run_verify")
@require_POST
def start_verify(request: HttpRequest) -> HttpResponse:
    """Start ``verify`` (no repair) in the background unless one is running."""
    with JOB.lock:
        if not JOB.running:
            JOB.running, JOB.done, JOB.total, JOB.error = True, 0, 0, None
            JOB.started_by = request.user.get_username()
            threading.Thread(target=_run, args=(JOB.started_by,), daemon=True).start()
    return redirect("year")
