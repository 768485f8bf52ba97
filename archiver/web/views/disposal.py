"""«Уничтожение» (archivist): draft acts of disposal — nothing is deleted here.

The draft is ``archiver dispose draft``'s (:func:`draft_for_archive`): the record series
whose retention has expired as of a day, less those under a legal hold. Approval by the
expert commission and execution stay with ``archiver dispose approve|execute``
(docs/disposal.md).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from archiver.archive.dispose.draft import draft_for_archive, drafts_dir, list_drafts
from archiver.clock import clock_from_env
from archiver.errors import ArchiverError, UsageError
from archiver.web.context import allowed, archive, archiver_settings


@allowed("archiver.draft_disposal")
def disposal_page(request: HttpRequest) -> HttpResponse:
    """The drafts in the working folder; POST drafts a new act as of a day."""
    if request.method == "POST":
        try:
            text = str(request.POST.get("as_of", "")).strip()
            try:
                as_of = date.fromisoformat(text) if text else None
            except ValueError as exc:
                raise UsageError(f"дата «{text}»: нужна дата ГГГГ-ММ-ДД") from exc
            result = draft_for_archive(
                archive(),
                as_of=as_of,
                operator=request.user.get_username(),
                clock=clock_from_env(),
            )
        except ArchiverError as exc:
            messages.error(request, f"Проект акта не составлен: {exc}")
        else:
            if result is None:
                messages.info(request, "Записей с истёкшим сроком хранения нет: акт не составлен.")
            else:
                messages.success(
                    request,
                    f"Составлен проект акта № {result.act.number}: дел {len(result.act.items)}. "
                    "Ничего не удалено.",
                )
                for line in result.held:
                    messages.info(request, f"Не включено: {line}")
        return redirect("disposal")
    context: dict[str, Any] = {"drafts": list_drafts(archiver_settings().working_dir())}
    return render(request, "web/disposal.html", context)


@allowed("archiver.draft_disposal")
def draft_pdf(request: HttpRequest, number: str) -> HttpResponse:
    """A draft act's PDF."""
    folder = drafts_dir(archiver_settings().working_dir())
    path = folder / f"{number}-draft.pdf"
    if path.parent != folder or not path.is_file():
        return render(
            request, "web/error.html", {"title": "Проекта акта нет", "code": 404}, status=404
        )
    response = HttpResponse(path.read_bytes(), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{path.name}"'
    return response
