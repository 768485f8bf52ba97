"""Assemble rendered parts into one archival PDF/A-3b document.

The parts (WeasyPrint and Typst output, each PDF/A-3b with embedded font
subsets) are concatenated page by page with pypdf. The result gets one
document-level identity: XMP metadata declaring PDF/A-3b with Russian title,
author and subject, a matching Info dictionary, the sRGB output intent, the
associated JSON file (the class's slice of the export, ``/AFRelationship
/Source``), and a document ID derived from the content, so that the same input
gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from archiver import __version__

PRODUCER = f"archiver {__version__} (WeasyPrint, Typst, pypdf)"


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """Document-level metadata, in Russian."""

    title: str
    author: str
    subject: str
    created: datetime
    keywords: str = ""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file embedded as an associated file of the document."""

    name: str
    data: bytes
    description: str
    mime_type: str = "application/json"
    relationship: str = "Source"


def pdf_date(moment: datetime) -> str:
    """PDF date string, e.g. ``D:20260620100000+05'00'``."""
    text = moment.strftime("D:%Y%m%d%H%M%S")
    offset = moment.utcoffset()
    if offset is None:
        return text
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{text}{sign}{minutes // 60:02d}'{minutes % 60:02d}'"


def xmp_packet(info: DocumentInfo) -> bytes:
    """The XMP metadata: PDF/A-3b identification and Dublin Core in Russian."""
    created = info.created.isoformat()
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdfaid:part>3</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(info.title)}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{escape(info.author)}</rdf:li></rdf:Seq></dc:creator>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(info.subject)}</rdf:li></rdf:Alt></dc:description>
   <dc:language><rdf:Bag><rdf:li>ru</rdf:li></rdf:Bag></dc:language>
   <xmp:CreatorTool>archiver</xmp:CreatorTool>
   <xmp:CreateDate>{created}</xmp:CreateDate>
   <xmp:ModifyDate>{created}</xmp:ModifyDate>
   <xmp:MetadataDate>{created}</xmp:MetadataDate>
   <pdf:Producer>{escape(PRODUCER)}</pdf:Producer>
   <pdf:Keywords>{escape(info.keywords)}</pdf:Keywords>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>""".encode()


def _embed(writer: PdfWriter, attachment: Attachment, created: datetime) -> None:
    """Embed ``attachment`` as an associated file of the document (PDF/A-3 ``/AF``).

    pypdf's :class:`~pypdf.generic.EmbeddedFile` adds the file specification and the
    ``/EmbeddedFiles`` name tree entry; the catalog's ``/AF`` array lists it too.
    """
    embedded = writer.add_attachment(attachment.name, attachment.data)
    embedded.alternative_name = TextStringObject(attachment.name)  # /UF (and /F)
    embedded.description = TextStringObject(attachment.description)
    embedded.associated_file_relationship = NameObject("/" + attachment.relationship)
    embedded.subtype = NameObject("/" + attachment.mime_type)  # pypdf writes / as #2F
    embedded.size = NumberObject(len(attachment.data))
    embedded.modification_date = created
    embedded.checksum = ByteStringObject(hashlib.md5(attachment.data).digest())
    spec = embedded.pdf_object.indirect_reference
    assert spec is not None  # add_attachment registers the file specification with the writer
    associated = writer.root_object.get("/AF")
    if isinstance(associated, ArrayObject):
        associated.append(spec)
    else:
        writer.root_object[NameObject("/AF")] = ArrayObject([spec])


SIGNATURE_FIELD = "DirectorSignature"
"""Name of the empty signature field the documents carry for the director's signature."""
MARK_WIDTH = 260.0
MARK_HEIGHT = 90.0
"""Size of the visible signature mark, points (the final-marks template reserves 92 × 32 mm)."""
TITLE_SIGNATURE_BOX = (300.0, 40.0, 300.0 + MARK_WIDTH, 40.0 + MARK_HEIGHT)
"""Fallback place of the mark (first page, bottom right) when a layout reserves none."""


@dataclass(frozen=True, slots=True)
class SignaturePlace:
    """Where the director's visible signature mark goes: page index and box in PDF points."""

    page: int
    box: tuple[float, float, float, float]


def _add_signature_field(writer: PdfWriter, place: SignaturePlace) -> None:
    """An empty signature field (with an empty appearance, as PDF/A wants) for the signer."""
    x1, y1, x2, y2 = place.box
    appearance = DecodedStreamObject()
    appearance.set_data(b"")
    appearance.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): ArrayObject(
                [FloatObject(0), FloatObject(0), FloatObject(x2 - x1), FloatObject(y2 - y1)]
            ),
        }
    )
    page = writer.pages[place.page]
    widget = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Widget"),
            NameObject("/FT"): NameObject("/Sig"),
            NameObject("/T"): TextStringObject(SIGNATURE_FIELD),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in place.box]),
            NameObject("/F"): NumberObject(4),  # print
            NameObject("/P"): page.indirect_reference,
            NameObject("/AP"): DictionaryObject({NameObject("/N"): writer._add_object(appearance)}),
        }
    )
    ref = writer._add_object(widget)
    annots = page.get("/Annots")
    if annots is None:
        page[NameObject("/Annots")] = ArrayObject([ref])
    else:
        annots.get_object().append(ref)
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject(
        {NameObject("/Fields"): ArrayObject([ref])}
    )


def assemble(
    parts: list[bytes],
    info: DocumentInfo,
    attachments: list[Attachment] | None = None,
    signature_place: SignaturePlace | None = None,
) -> bytes:
    """Concatenate PDF/A parts into one PDF/A-3b document with the given identity."""
    writer = PdfWriter()
    writer.pdf_header = "%PDF-1.7"
    output_intents = None
    for part in parts:
        reader = PdfReader(io.BytesIO(part))
        root = reader.root_object
        if output_intents is None and "/OutputIntents" in root:
            output_intents = root["/OutputIntents"].clone(writer)
        for page in reader.pages:
            writer.add_page(page)
    root_obj = writer._root_object
    if output_intents is not None:
        root_obj[NameObject("/OutputIntents")] = output_intents
    metadata = DecodedStreamObject()
    metadata.set_data(xmp_packet(info))
    metadata.update(
        {NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")}
    )
    root_obj[NameObject("/Metadata")] = writer._add_object(metadata)
    root_obj[NameObject("/Lang")] = TextStringObject("ru")
    for attachment in attachments or []:
        _embed(writer, attachment, info.created)
    if signature_place is not None:
        _add_signature_field(writer, signature_place)
    created = pdf_date(info.created)
    writer.add_metadata(
        {
            "/Title": info.title,
            "/Author": info.author,
            "/Subject": info.subject,
            "/Keywords": info.keywords,
            "/Creator": "archiver",
            "/Producer": PRODUCER,
            "/CreationDate": created,
            "/ModDate": created,
        }
    )
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    for attachment in attachments or []:
        digest.update(hashlib.sha256(attachment.data).digest())
    digest.update(xmp_packet(info))
    doc_id = ByteStringObject(digest.digest()[:16])
    writer._ID = ArrayObject([doc_id, doc_id])
    writer.compress_identical_objects()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
