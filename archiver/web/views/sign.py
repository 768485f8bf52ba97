"""«Подпись» (director): the documents waiting for signature, the certificate, approval.

The batch is the one the year-end run left (``signing-request.json``, as ``archiver
sign --review`` shows it); each document opens in the browser (the PDF inline, or
its pages as images), which is logged once per document and session. Approval signs
exactly the reviewed bytes with the configured signer (:func:`sign_batch`); for a
key on the director's own computer the page gives the prepared data to sign
(``sign --prepare``) and takes the signatures back (``sign --complete``).
"""

from __future__ import annotations

import io
import subprocess
import tempfile
import zipfile
from datetime import tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from archiver.archive.review_log import REVIEW_REASON, log_document_view, log_review
from archiver.demo.keys import demo_timestamping
from archiver.errors import ArchiverError, UsageError
from archiver.lock import RunLock, year_lock
from archiver.settings import CommandSigner
from archiver.signing.review import (
    BatchDocument,
    SigningBatch,
    certificate_before_pin,
    certificate_warnings,
    changed_since_review,
    read_request,
    sign_batch,
)
from archiver.signing.sign import is_signed, needs_secret, secret_prompt
from archiver.sources.export_v1 import read_export
from archiver.status import run_folder
from archiver.web.context import allowed, archive, archiver_settings, can, logging_access, requester
from archiver.web.signer import web_secret
from archiver.yearend import EXPORT_COPY

VIEWED = "viewed_documents"
MAX_PAGE_LINKS = 40


def _folder(request: HttpRequest) -> Path:
    settings = archiver_settings()
    return run_folder(settings.working_dir(create=False), request.GET.get("year") or None)


def _batch(request: HttpRequest) -> SigningBatch | None:
    return read_request(_folder(request))


def _waiting_batch(request: HttpRequest) -> SigningBatch:
    """The batch waiting for the director; a Russian refusal when there is none."""
    batch = _batch(request)
    if batch is None:
        raise UsageError("документов, ждущих подписи директора, нет")
    return batch


def _viewed(request: HttpRequest, number: int) -> tuple[BatchDocument, bytes] | HttpResponse:
    """Document № ``number`` of the waiting batch and its bytes, its view logged (once per
    session and document); or the page saying it does not open."""
    try:
        batch = _batch(request)
        if batch is None or not 1 <= number <= len(batch.documents):
            raise UsageError(f"документа № {number} среди ждущих подписи нет")
        doc = batch.documents[number - 1]
        data = Path(doc.path).read_bytes()
        viewed: list[str] = list(request.session.get(VIEWED, []))
        if doc.sha256 not in viewed:
            with logging_access():
                log_document_view(archive(), batch, doc, requester(request, REVIEW_REASON))
            request.session[VIEWED] = [*viewed, doc.sha256]
    except (ArchiverError, OSError) as exc:
        return render(
            request,
            "web/error.html",
            {"title": "Документ не открывается", "code": 404, "detail": str(exc)},
            status=404,
        )
    return doc, data


def _state(doc: BatchDocument) -> str:
    try:
        data = Path(doc.path).read_bytes()
    except OSError:
        return "файл не читается"
    if is_signed(data):
        return "подписан"
    return "ждёт подписи"


@allowed("archiver.sign_documents")
def sign_page(request: HttpRequest) -> HttpResponse:
    """The batch, each document with its sheets and hash, the certificate and its warnings."""
    year = request.GET.get("year") or ""
    context: dict[str, Any] = {"year_query": f"?year={quote(year)}" if year else ""}
    try:
        batch = _batch(request)
    except ArchiverError as exc:
        return render(request, "web/sign.html", {"problem": str(exc)})
    settings = archiver_settings()
    signature = settings.signature
    if batch is None:
        return render(
            request, "web/sign.html", {"problem": "Документов, ждущих подписи директора, нет."}
        )
    documents = [
        (n, d, _state(d), range(1, min(d.sheets, MAX_PAGE_LINKS) + 1))
        for n, d in enumerate(batch.documents, 1)
    ]
    waiting = [d for _, d, state, _ in documents if state == "ждёт подписи"]
    context.update(batch=batch, documents=documents, waiting=len(waiting))
    try:
        identity = certificate_before_pin(signature)
    except ArchiverError as exc:
        context["certificate_problem"] = str(exc)
    else:
        context.update(
            identity=identity,
            warnings=certificate_warnings(identity, batch.director),
        )
    context.update(
        changed=changed_since_review(batch),
        external=isinstance(signature.signer, CommandSigner),
        asks_secret=signature.signer is not None and needs_secret(signature),
        secret_prompt=secret_prompt(signature) if signature.signer is not None else "",
        can_sign=can(request, "archiver.sign_documents"),
    )
    return render(request, "web/sign.html", context)


@allowed("archiver.sign_documents")
def document_pdf(request: HttpRequest, number: int) -> HttpResponse:
    """One document inline in the browser."""
    found = _viewed(request, number)
    if isinstance(found, HttpResponse):
        return found
    doc, data = found
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{Path(doc.path).name}"'
    response["Cache-Control"] = "no-store"
    return response


@allowed("archiver.sign_documents")
def document_page(request: HttpRequest, number: int, page: int) -> HttpResponse:
    """One page of a document as a PNG (pdftoppm, 70 dpi)."""
    found = _viewed(request, number)
    if isinstance(found, HttpResponse):
        return found
    doc, data = found
    if not 1 <= page <= doc.sheets:
        return render(
            request, "web/error.html", {"title": "Нет такой страницы", "code": 404}, status=404
        )
    with tempfile.TemporaryDirectory(prefix="archiver-page-") as folder:
        source = Path(folder) / "document.pdf"
        source.write_bytes(data)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "70", "-f", str(page), "-l", str(page), "-singlefile",
             str(source), str(Path(folder) / "page")],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        image = (Path(folder) / "page.png").read_bytes()
    response = HttpResponse(image, content_type="image/png")
    response["Cache-Control"] = "no-store"
    return response


@allowed("archiver.sign_documents")
@require_POST
def approve(request: HttpRequest) -> HttpResponse:
    """Sign the reviewed batch (or record that the director declined)."""
    settings = archiver_settings()
    signature = settings.signature
    try:
        batch = _waiting_batch(request)
        identity = certificate_before_pin(signature)
        confirmed = request.POST.get("decision") == "sign" and bool(request.POST.get("confirm"))
        if request.POST.get("decision") == "sign" and not confirmed:
            raise UsageError(
                "отметьте, что документы просмотрены и вы подписываете их своей подписью"
            )
        secret = web_secret(signature, str(request.POST.get("secret", ""))) if confirmed else ""
        with logging_access():
            logged = log_review(
                archive(), batch, identity, confirmed, requester(request, REVIEW_REASON)
            )
        if not confirmed:
            messages.info(
                request,
                f"Подписание отменено, ничего не подписано (журнал доступа № {logged.seq}).",
            )
            return _back(request)
        opened = archive()
        with _year_lock(request, opened.zone):
            outcomes, level, checked = sign_batch(
                signature, batch, identity, secret, demo_timestamping(signature), zone=opened.zone
            )
    except ArchiverError as exc:
        messages.error(request, f"Не подписано: {exc}")
        return _back(request)
    signed = sum(1 for o in outcomes if o.signed)
    messages.success(
        request,
        f"Подписано документов: {signed} (уровень {level}), пропущено уже подписанных: "
        f"{len(outcomes) - signed}. Просмотр записан в журнал доступа (№ {logged.seq}). "
        "Дальше: archiver year-end сохранит их в архив.",
    )
    if checked:
        messages.info(request, checked)
    return _back(request)


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the «Подпись» page of the same year."""
    year = request.GET.get("year")
    return redirect(reverse("sign") + (f"?year={quote(year)}" if year else ""))


def _year_lock(request: HttpRequest, zone: tzinfo) -> RunLock:
    """The school's year lock: no year-end run writes these documents while they are signed."""
    folder = _folder(request)
    report = read_export((folder / EXPORT_COPY).read_bytes(), name=str(folder / EXPORT_COPY))
    if report.export is None:
        raise UsageError(f"{folder / EXPORT_COPY}: выгрузка года не читается")
    return year_lock(archiver_settings().working_dir(), report.export, zone)


def _prepared_folder(request: HttpRequest) -> Path:
    return _folder(request) / "web-prepared"


@allowed("archiver.sign_documents")
@require_POST
def prepare(request: HttpRequest) -> HttpResponse:
    """The data to sign on the director's computer, as a ZIP of ``.tbs`` files."""
    from archiver.signing.external import CommandDocumentSigner
    from archiver.signing.twostep import prepare_batch

    settings = archiver_settings()
    signature = settings.signature
    try:
        batch = _waiting_batch(request)
        if not isinstance(signature.signer, CommandSigner):
            raise UsageError('подпись на компьютере директора — для [signer] kind = "command"')
        identity = certificate_before_pin(signature)
        out = _prepared_folder(request)
        if out.exists():
            import shutil

            shutil.rmtree(out)
        with logging_access():
            log_review(archive(), batch, identity, True, requester(request, REVIEW_REASON))
        zone = archive().zone
        files = prepare_batch(
            CommandDocumentSigner(signature.signer, signature, "", zone), batch, out
        )
    except ArchiverError as exc:
        messages.error(request, f"Не подготовлено: {exc}")
        return _back(request)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive_zip:
        for path in files:
            archive_zip.write(path, path.name)
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="na-podpis.zip"'
    return response


@allowed("archiver.sign_documents")
@require_POST
def complete(request: HttpRequest) -> HttpResponse:
    """Embed the uploaded signatures (``NAME.tbs.sig``) into the prepared documents."""
    from archiver.signing.external import CommandDocumentSigner
    from archiver.signing.twostep import complete_batch

    signature = archiver_settings().signature
    try:
        if not isinstance(signature.signer, CommandSigner):
            raise UsageError('подпись на компьютере директора — для [signer] kind = "command"')
        uploads = request.FILES.getlist("signatures")
        if not uploads:
            raise UsageError("выберите файлы подписей (*.tbs.sig)")
        with tempfile.TemporaryDirectory(prefix="archiver-signatures-") as folder:
            for upload in uploads:
                name = Path(str(upload.name)).name
                (Path(folder) / name).write_bytes(upload.read())
            signer = CommandDocumentSigner(signature.signer, signature, "", archive().zone)
            with _year_lock(request, archive().zone):
                outcomes = complete_batch(signer, _prepared_folder(request), Path(folder))
    except ArchiverError as exc:
        messages.error(request, f"Подписи не встроены: {exc}")
        return _back(request)
    messages.success(
        request, f"Подписи встроены и проверены: {sum(1 for o in outcomes if o.signed)}."
    )
    return _back(request)
