"""Signing rendered documents with real keys, a real TSA/OCSP/CRL, and validating them offline."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from archiver.render.batch import render_classes
from archiver.settings import SignatureSettings
from archiver.signing.check import check_document
from archiver.signing.sign import (
    DocumentSigner,
    SignError,
    load_pkcs12,
    load_trust_roots,
    open_pkcs11,
)
from archiver.signing.signer_of import signer_of
from archiver.sources.export_v1 import read_export
from tests.fixtures.pdf import appearance_text
from tests.fixtures.pki import PkiEnvironment, SoftHsmToken


@pytest.fixture(scope="module")
def unsigned(
    tmp_path_factory: pytest.TempPathFactory, spec_export_doc: dict[str, Any]
) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("unsigned")
    report = read_export(json.dumps(spec_export_doc, ensure_ascii=False).encode())
    assert report.export is not None
    docs = render_classes(report.export, out, ["5a"], workers=1)
    return {d.kind: d.path for d in docs}


def settings(pki: PkiEnvironment, level: str) -> SignatureSettings:
    return SignatureSettings(
        signer=None, level=level, tsa_url=pki.tsa_url, trust_roots=(pki.root_cert_path,)
    )


def copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / src.name
    shutil.copy(src, dst)
    return dst


@pytest.fixture(scope="module")
def signed_lta(
    unsigned: dict[str, Path], test_pki: PkiEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    path = copy(unsigned["class_journal"], tmp_path_factory.mktemp("lta"))
    loaded = load_pkcs12(test_pki.director_p12, test_pki.p12_passphrase)
    outcome = DocumentSigner(loaded, settings(test_pki, "B-LTA")).sign_file(path)
    assert outcome.signed and outcome.level == "B-LTA"
    return path


def test_b_lta_validates_offline(signed_lta: Path, test_pki: PkiEnvironment) -> None:
    served_before = len(test_pki.served_paths)
    report = check_document(signed_lta, load_trust_roots([test_pki.root_cert_path]))
    assert len(test_pki.served_paths) == served_before  # nothing fetched
    assert report.ok, report
    signature = report.signatures[0]
    assert signature.kind == "signature" and signature.level == "B-LTA"
    assert signature.ades_subindication == "OK" and signature.ades_indication == "AdESPassed"
    assert signature.signer == "Кузнецова Ольга Петровна"
    assert signature.signing_time_source == "timestamp"
    assert report.signatures[-1].kind == "timestamp" and report.signatures[-1].covers_whole_file


def test_signer_of_names_the_director_not_the_timestamp_authority(
    signed_lta: Path, unsigned: dict[str, Path]
) -> None:
    import hashlib

    from pyhanko.pdf_utils.reader import PdfFileReader

    data = signed_lta.read_bytes()
    with signed_lta.open("rb") as handle:
        signature, doc_ts = PdfFileReader(handle).embedded_signatures
        certificate = signature.signer_cert
    assert doc_ts.sig_object_type == "/DocTimeStamp"
    signer = signer_of(data)
    assert signer is not None
    assert signer.cert_sha256 == hashlib.sha256(certificate.dump()).hexdigest()
    assert "Кузнецова Ольга Петровна" in signer.subject
    assert signer_of(unsigned["final_marks"].read_bytes()) is None
    # the words of a signature dictionary that frame no signature are not one
    assert signer_of(b"%PDF-1.7\n/ByteRange [0 10 20 5] <00>\n%%EOF\n") is None


def test_signature_reason_names_the_document(
    signed_lta: Path, unsigned: dict[str, Path], test_pki: PkiEnvironment, tmp_path: Path
) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    path = copy(unsigned["final_marks"], tmp_path)
    loaded = load_pkcs12(test_pki.director_p12, test_pki.p12_passphrase)
    DocumentSigner(loaded, settings(test_pki, "B-B")).sign_file(path)
    reasons = {}
    for signed in (signed_lta, path):
        with signed.open("rb") as handle:
            reasons[signed] = str(
                PdfFileReader(handle).embedded_signatures[0].sig_object["/Reason"]
            )
    assert reasons[signed_lta] == "Заверение распечатки электронного журнала"
    assert reasons[path] == "Заверение сводной ведомости"


def test_signed_file_stays_pdfa_with_visible_mark(signed_lta: Path) -> None:
    reader = PdfReader(signed_lta)
    assert reader.pdf_header == "%PDF-1.7"
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfaid:part(>|=")3', xmp) and re.search(r'pdfaid:conformance(>|=")B', xmp)
    info = reader.metadata
    assert (
        info is not None and info.producer is not None and info.producer in xmp
    )  # Info and XMP agree
    annots = [a.get_object() for a in reader.pages[0]["/Annots"]]
    widget = next(a for a in annots if a.get("/FT") == "/Sig")
    mark = appearance_text(widget)
    assert "ДОКУМЕНТ ПОДПИСАН" in mark and "ЭЛЕКТРОННОЙ ПОДПИСЬЮ" in mark
    assert "Владелец: Кузнецова Ольга Петровна" in mark and "Сертификат: 1001" in mark
    assert "Действителен: с 01.01.2024 по 01.01.2100" in mark and "Подписан: " in mark
    for page in reader.pages:
        resources = page["/Resources"]
        for font in resources.get("/Font", {}).values():
            font = font.get_object()
            desc = (
                font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            )["/FontDescriptor"]
            assert any(k in desc.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    ap_fonts = widget["/AP"]["/N"].get_object()["/Resources"]["/Font"]
    for font in ap_fonts.values():
        font = font.get_object()
        assert "PTSerif" in str(font["/BaseFont"])
        desc = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in desc or "/FontFile3" in desc


def test_flipped_byte_is_invalid(
    signed_lta: Path, tmp_path: Path, test_pki: PkiEnvironment
) -> None:
    broken = copy(signed_lta, tmp_path)
    data = bytearray(broken.read_bytes())
    # a byte inside the first revision's content (the title page stream), inside the signed range
    offset = data.index(b"stream\n") + 200
    data[offset] ^= 0x01
    broken.write_bytes(bytes(data))
    report = check_document(broken, load_trust_roots([test_pki.root_cert_path]))
    assert not report.ok
    assert not report.signatures[0].intact


def test_appended_bytes_are_reported(
    signed_lta: Path, tmp_path: Path, test_pki: PkiEnvironment
) -> None:
    tail = copy(signed_lta, tmp_path)
    tail.write_bytes(tail.read_bytes() + b"\n% appended after EOF\n")
    report = check_document(tail, load_trust_roots([test_pki.root_cert_path]))
    assert not report.ok
    assert not report.signatures[-1].covers_whole_file
    assert any("не охватывает весь файл" in n for n in report.signatures[-1].notes)


def test_already_signed_is_not_signed_again(signed_lta: Path, test_pki: PkiEnvironment) -> None:
    before = signed_lta.read_bytes()
    loaded = load_pkcs12(test_pki.director_p12, test_pki.p12_passphrase)
    outcome = DocumentSigner(loaded, settings(test_pki, "B-B")).sign_file(signed_lta)
    assert not outcome.signed and "уже подписан" in outcome.note
    assert signed_lta.read_bytes() == before


def test_b_t_is_intact_but_not_long_term(
    unsigned: dict[str, Path], tmp_path: Path, test_pki: PkiEnvironment
) -> None:
    path = copy(unsigned["final_marks"], tmp_path)
    loaded = load_pkcs12(test_pki.director_p12, test_pki.p12_passphrase)
    DocumentSigner(loaded, settings(test_pki, "B-T")).sign_file(path)
    report = check_document(path, load_trust_roots([test_pki.root_cert_path]))
    (sig,) = report.signatures
    assert sig.level == "B-T" and report.ok
    assert "не допускает долговременной проверки" in sig.verdict


def test_pkcs11_token_signs_b_lta(
    unsigned: dict[str, Path], tmp_path: Path, test_pki: PkiEnvironment, softhsm_token: SoftHsmToken
) -> None:
    from archiver.settings import Pkcs11Signer

    path = copy(unsigned["final_marks"], tmp_path)
    token = Pkcs11Signer(
        module=Path(softhsm_token.module_path),
        token_label=softhsm_token.token_label,
        key_label=softhsm_token.key_label,
        cert_label=softhsm_token.cert_label,
    )
    with open_pkcs11(token, softhsm_token.user_pin) as loaded:
        DocumentSigner(loaded, settings(test_pki, "B-LTA")).sign_file(path)
    report = check_document(path, load_trust_roots([test_pki.root_cert_path]))
    assert report.ok and report.signatures[0].ades_subindication == "OK"


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("expired", "срок действия сертификата подписанта .* истёк"),
        ("not-yet-valid", "ещё не действует"),
    ],
)
def test_certificate_validity_errors(test_pki: PkiEnvironment, label: str, message: str) -> None:
    with pytest.raises(SignError, match=message):
        load_pkcs12(test_pki.p12_paths[label], test_pki.p12_passphrase)


def test_wrong_passphrase(test_pki: PkiEnvironment) -> None:
    with pytest.raises(SignError, match="неверный пароль"):
        load_pkcs12(test_pki.director_p12, b"wrong")


def test_wrong_pin(test_pki: PkiEnvironment, softhsm_token: SoftHsmToken) -> None:
    from archiver.settings import Pkcs11Signer

    token = Pkcs11Signer(
        module=Path(softhsm_token.module_path),
        token_label=softhsm_token.token_label,
        key_label="director",
        cert_label="director",
    )
    with pytest.raises(SignError, match="неверный PIN-код"), open_pkcs11(token, "000000"):
        pass


def test_unreachable_tsa_writes_nothing(
    unsigned: dict[str, Path], tmp_path: Path, test_pki: PkiEnvironment
) -> None:
    path = copy(unsigned["final_marks"], tmp_path)
    before = path.read_bytes()
    loaded = load_pkcs12(test_pki.director_p12, test_pki.p12_passphrase)
    dead = SignatureSettings(
        signer=None, level="B-T", tsa_url="http://127.0.0.1:9/tsa", trust_roots=()
    )
    with pytest.raises(
        SignError, match=r"служба штампов времени http://127\.0\.0\.1:9/tsa недоступна"
    ):
        DocumentSigner(loaded, dead).sign_file(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
