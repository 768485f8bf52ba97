"""The director's review in the access log: who looked at which documents before signing, and the decision.

``archiver sign --review`` and the web service's «Подпись» page both record the
review here (the documents waiting for signature hold pupils' personal data), and
the web page records each document the director opens (:func:`log_document_view`).
"""

from __future__ import annotations

from archiver.archive.access_log import REVIEW, VIEW, AccessRequest, AppendResult
from archiver.archive.handout import Archive, Requester
from archiver.signing.review import BatchDocument, SigningBatch
from archiver.signing.sign import SignerIdentity

REVIEW_REASON = "подпись документов директором"


def log_review(
    archive: Archive,
    batch: SigningBatch,
    identity: SignerIdentity,
    confirmed: bool,
    requester: Requester | None = None,
) -> AppendResult:
    """The review as an access log entry: the batch, the certificate shown, the decision."""
    requester = requester or Requester(REVIEW_REASON)
    request = AccessRequest(
        action=REVIEW,
        what={"school": batch.school, "academic_year": batch.academic_year},
        reason=requester.reason + ("" if confirmed else " (директор отказался подписывать)"),
        operator=requester.operator,
        role=requester.role,
        client=requester.client,
        output={
            "decision": "confirmed" if confirmed else "declined",
            "certificate_owner": identity.owner,
            "certificate_serial": identity.serial_hex,
            "certificate_sha256": identity.fingerprint_sha256,
        },
        sources=[
            {"path": d.path, "sha256": d.sha256, "kind": d.kind, "class_id": d.class_id}
            for d in batch.documents
        ],
    )
    return archive.access_log().append(request)


def log_document_view(
    archive: Archive, batch: SigningBatch, document: BatchDocument, requester: Requester
) -> AppendResult:
    """One document waiting for signature opened (in the browser) by the director."""
    request = AccessRequest(
        action=VIEW,
        what={
            "document": document.path,
            "school": batch.school,
            "academic_year": batch.academic_year,
            "class_id": document.class_id,
        },
        reason=requester.reason,
        operator=requester.operator,
        role=requester.role,
        client=requester.client,
        sources=[{"path": document.path, "sha256": document.sha256, "kind": document.kind}],
    )
    return archive.access_log().append(request)
