"""«Поиск» (archivist; the director may look): students, their records, downloads and extracts.

Every page here shows personal data and is written to the access log first
(:func:`archiver.archive.lookup.find_logged`, :func:`~archiver.archive.lookup.view_record`,
:func:`archiver.archive.handout.read_document`, :func:`~archiver.archive.handout.issue_extract`),
with the purpose of the request: asked with the search (kept for the session's
following views and downloads) and again for each extract.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from archiver.archive.catalog import FIELD_TEXT, StudentMatch
from archiver.archive.handout import issue_extract, read_document
from archiver.archive.lookup import COPY_TEXT, find_logged, view_record
from archiver.demo.keys import demo_timestamping
from archiver.errors import ArchiverError
from archiver.web.context import allowed, archive, can, logging_access, requester
from archiver.web.signer import web_secret

PURPOSE = "purpose"


def _purpose(request: HttpRequest) -> str:
    return str(
        request.POST.get(PURPOSE) or request.GET.get(PURPOSE) or request.session.get(PURPOSE, "")
    ).strip()


def _attachment(data: bytes, name: str, sha256: str, seq: int) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response["X-Archiver-SHA256"] = sha256
    response["X-Archiver-Access-Log"] = str(seq)
    response["Cache-Control"] = "no-store"
    return response


@allowed("archiver.search_archive")
def search_page(request: HttpRequest) -> HttpResponse:
    """The search form; with a query and a purpose, the students found (logged)."""
    query = (request.GET.get("q") or "").strip()
    purpose = _purpose(request)
    context: dict[str, Any] = {"q": query, "purpose": purpose}
    if query:
        if not purpose:
            context["problem"] = "Укажите цель обращения: она записывается в журнал доступа."
        else:
            request.session[PURPOSE] = purpose
            try:
                with logging_access():
                    found = find_logged(archive(), query, requester(request, purpose))
            except ArchiverError as exc:
                context["problem"] = str(exc)
            else:
                context.update(
                    matches=found.matches,
                    logged=found.logged,
                    suggestions=sorted({n for names in found.suggestions.values() for n in names}),
                    fields=FIELD_TEXT,
                )
    return render(request, "web/search.html", context)


@allowed("archiver.search_archive")
def student_page(request: HttpRequest, school_id: str, student_id: str) -> HttpResponse:
    """One student's years, classes and records (logged as a search by id)."""
    purpose = _purpose(request)
    if not purpose:
        return redirect(reverse("search"))
    try:
        with logging_access():
            found = find_logged(archive(), student_id, requester(request, purpose))
    except ArchiverError as exc:
        return render(request, "web/search.html", {"problem": str(exc)}, status=400)
    matches: list[StudentMatch] = [
        m for m in found.matches if m.student_id == student_id and m.school_id == school_id
    ]
    if not matches:
        return render(
            request, "web/error.html", {"title": "Обучающийся не найден", "code": 404}, status=404
        )
    return render(
        request,
        "web/student.html",
        {
            "student": matches[0],
            "logged": found.logged,
            "purpose": purpose,
            "can_extract": can(request, "archiver.issue_extract"),
            "signer": archive().settings.signer is not None,
        },
    )


@allowed("archiver.search_archive")
def record_page(request: HttpRequest, record_id: str) -> HttpResponse:
    """A record: its description, both copies' state, the signature, retention (logged)."""
    purpose = _purpose(request)
    if not purpose:
        return redirect(reverse("search"))
    try:
        with logging_access():
            view = view_record(archive(), record_id, requester(request, purpose))
    except ArchiverError as exc:
        return render(
            request,
            "web/error.html",
            {"title": "Запись не открывается", "code": 404, "detail": str(exc)},
            status=404,
        )
    copies = [(c, COPY_TEXT[c.state]) for c in view.copies]
    last = {level: _when(moment) for level, moment in view.last_verified.items()}
    return render(
        request,
        "web/record.html",
        {"view": view, "copies": copies, "purpose": purpose, "last": last},
    )


def _when(text: str) -> str:
    """An ISO instant as «05.12.2026 14:48» in this computer's zone ('' stays '')."""
    try:
        return datetime.fromisoformat(text).astimezone().strftime("%d.%m.%Y %H:%M") if text else ""
    except ValueError:
        return text


@allowed("archiver.search_archive")
@require_POST
def download(request: HttpRequest, record_id: str) -> HttpResponse:
    """The record's document from the good copy, hash-checked, logged before it is sent."""
    purpose = _purpose(request)
    if not purpose:
        messages.error(request, "Укажите цель обращения.")
        return redirect(reverse("record", args=[record_id]))
    user = request.user.get_username()
    try:
        with logging_access():
            handed = read_document(
                archive(),
                record_id,
                requester(request, purpose),
                {"to": f"скачан в браузере ({user})"},
            )
    except ArchiverError as exc:
        return render(
            request,
            "web/error.html",
            {"title": "Документ не выдан", "code": 400, "detail": str(exc)},
            status=400,
        )
    manifest = handed.fetched.manifest
    return _attachment(
        handed.fetched.payload, manifest.file_name, manifest.sha256, handed.logged.seq
    )


@allowed("archiver.issue_extract")
@require_POST
def extract(request: HttpRequest) -> HttpResponse:
    """A student's extract of final marks, signed when asked, with its purpose logged."""
    student_id = request.POST.get("student", "")
    school_id = request.POST.get("school") or None
    purpose = str(request.POST.get(PURPOSE, "")).strip()
    back = reverse("student", args=[school_id or "-", student_id])
    if not purpose:
        messages.error(request, "Укажите цель выдачи выписки: она записывается в журнал доступа.")
        return redirect(back)
    settings = archive().settings
    signature = settings.signature
    secret = None
    try:
        if request.POST.get("sign"):
            typed = web_secret(signature, str(request.POST.get("secret", "")))
            secret = functools.partial(str, typed)
        user = request.user.get_username()
        with logging_access():
            handed = issue_extract(
                archive(),
                student_id,
                requester(request, purpose),
                {"to": f"скачана в браузере ({user})"},
                school_id=school_id,
                secret=secret,
                timestamping=demo_timestamping(signature),
            )
    except ArchiverError as exc:
        messages.error(request, f"Выписка не выдана: {exc}")
        return redirect(back)
    name = f"выписка-{student_id}.pdf"
    return _attachment(handed.pdf, name, handed.sha256, handed.logged.seq)
