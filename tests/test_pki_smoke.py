"""Smoke tests of the signature test infrastructure (tests/pki): real PKI, real token.

A tiny PDF is signed at PAdES B-LTA by the director, once from a PKCS#12 file and once
through SoftHSM2 over PKCS#11, with the time stamp from the test TSA and revocation data
fetched from the test OCSP responder and CRLs over HTTP on 127.0.0.1. Each result is then
validated offline with pyHanko's AdES LTA validation (no fetching at all, root CA as the only
trust anchor) and must get the AdES verdict ``AdESPassed.OK``. Signers whose certificate is
expired, not yet valid or revoked are refused by pyHanko, and their signatures (made without
pyHanko's checks) fail validation against the live test PKI.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from urllib.parse import urlsplit

import pytest
from pyhanko.config.pkcs11 import TokenCriteria
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.ades.report import AdESIndeterminate, AdESPassed
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.ades import (
    AdESLTAValidationResult,
    ades_lta_validation,
    simulate_future_ades_lta_validation,
)
from pyhanko.sign.validation.policy_decl import (
    CertificateFetchingRule,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.errors import ExpiredError, NotYetValidError, RevokedError
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager

from tests.fixtures.pki import PkiEnvironment, SoftHsmToken

DIRECTOR_CN = "Кузнецова Ольга Петровна"


def tiny_pdf() -> bytes:
    """Return a one-page, empty A4 PDF written by pyHanko's own writer."""
    writer = PdfFileWriter(stream_xrefs=False)
    content = writer.add_object(generic.StreamObject(stream_data=b""))
    writer.insert_page(PageObject(content, [0, 0, 595, 842]))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def signing_context(pki: PkiEnvironment) -> ValidationContext:
    """Validation context for signing: root trusted, OCSP/CRL fetched, hard-fail on gaps."""
    return ValidationContext(
        trust_roots=[pki.cert("root")], allow_fetching=True, revocation_mode="hard-fail"
    )


def sign_b_lta(pki: PkiEnvironment, signer: signers.Signer) -> bytes:
    """Sign :func:`tiny_pdf` at PAdES B-LTA with the test TSA and online revocation data."""
    meta = signers.PdfSignatureMetadata(
        field_name="Director",
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        embed_validation_info=True,
        use_pades_lta=True,
        validation_context=signing_context(pki),
    )
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(BytesIO(tiny_pdf())),
        meta,
        signer=signer,
        timestamper=HTTPTimeStamper(pki.tsa_url),
    )
    return bytes(out.getvalue())


def offline_spec(pki: PkiEnvironment) -> PdfSignatureValidationSpec:
    """AdES validation policy: root CA as the only anchor, revocation data required,
    nothing fetched (neither revocation data nor certificates)."""
    return PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(trust_roots=[pki.cert("root")]),
                revinfo_policy=CertRevTrustPolicy(revocation_checking_policy=REQUIRE_REVINFO),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY,
                certificate_fetching_rule=CertificateFetchingRule.NEVER_FETCH,
            ),
        )
    )


def validate_offline(pki: PkiEnvironment, pdf: bytes) -> AdESLTAValidationResult:
    """Run the AdES LTA validation of the first signature and check no request was made."""
    requests_before = len(pki.served_paths)
    sig = PdfFileReader(BytesIO(pdf)).embedded_signatures[0]
    result = asyncio.run(ades_lta_validation(sig, offline_spec(pki)))
    assert pki.served_paths[requests_before:] == [], "validation must not go online"
    return result


def assert_b_lta_ok(pki: PkiEnvironment, pdf: bytes) -> None:
    """Check the file is B-LTA (signature, DSS, document time stamp) and validates OK offline."""
    reader = PdfFileReader(BytesIO(pdf))
    assert len(reader.embedded_regular_signatures) == 1
    assert len(reader.embedded_timestamp_signatures) == 1, "no document time stamp (LTA)"
    dss = reader.root["/DSS"]
    revinfo = len(dss.get("/OCSPs", [])) + len(dss.get("/CRLs", []))
    assert revinfo >= 2, "revocation data (signer's and TSA's chains) not in the DSS"

    result = validate_offline(pki, pdf)
    # The AdES verdict, not only pyHanko's bottom line (see shared/traps.md).
    assert result.ades_subindic == AdESPassed.OK, result.ades_subindic
    status = result.api_status
    assert status is not None and status.bottom_line
    assert status.signing_cert.subject.native["common_name"] == DIRECTOR_CN
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted


def load_signer(pki: PkiEnvironment, label: str) -> signers.SimpleSigner:
    """Load the PKCS#12 signer of the given label."""
    signer: signers.SimpleSigner | None = signers.SimpleSigner.load_pkcs12(
        str(pki.p12_paths[label]), passphrase=pki.p12_passphrase
    )
    assert signer is not None
    return signer


@pytest.fixture(scope="module")
def director_signer(test_pki: PkiEnvironment) -> signers.SimpleSigner:
    """The director's signer from the PKCS#12 file (loaded once, reused)."""
    return load_signer(test_pki, "director")


@pytest.fixture(scope="module")
def pkcs12_b_lta_pdf(test_pki: PkiEnvironment, director_signer: signers.SimpleSigner) -> bytes:
    """A tiny PDF signed at B-LTA with the director's PKCS#12 key."""
    return sign_b_lta(test_pki, director_signer)


def test_pkcs12_b_lta_signature_validates_offline(
    test_pki: PkiEnvironment, pkcs12_b_lta_pdf: bytes
) -> None:
    assert_b_lta_ok(test_pki, pkcs12_b_lta_pdf)


def test_signing_used_the_http_services(
    test_pki: PkiEnvironment, director_signer: signers.SimpleSigner
) -> None:
    before = len(test_pki.served_paths)
    sign_b_lta(test_pki, director_signer)
    served = test_pki.served_paths[before:]
    assert served.count(urlsplit(test_pki.tsa_url).path) >= 2  # signature + document TS
    assert any("/ocsp/" in path or "/crls/" in path for path in served)


def test_b_lta_still_validates_in_ten_years(
    test_pki: PkiEnvironment, pkcs12_b_lta_pdf: bytes
) -> None:
    """pyHanko's simulation of a future offline validation (with the time stamp chain kept up)."""
    sig = PdfFileReader(BytesIO(pkcs12_b_lta_pdf)).embedded_signatures[0]
    future = datetime.now(UTC) + timedelta(days=3653)
    result = asyncio.run(simulate_future_ades_lta_validation(sig, offline_spec(test_pki), future))
    assert result.ades_subindic == AdESPassed.OK, result.ades_subindic


@pytest.fixture
def pkcs11_signer(softhsm_token: SoftHsmToken) -> Iterator[signers.Signer]:
    """The director's signer on the SoftHSM2 token, through pyHanko's PKCS#11 support."""
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

    session = open_pkcs11_session(
        softhsm_token.module_path,
        token_criteria=TokenCriteria(label=softhsm_token.token_label),
        user_pin=softhsm_token.user_pin,
    )
    try:
        yield PKCS11Signer(
            session,
            cert_label=softhsm_token.cert_label,
            key_label=softhsm_token.key_label,
            other_certs_to_pull=softhsm_token.chain_cert_labels,
            # SoftHSM 2.6 has no CKM_ECDSA_SHA256: hash in Python, sign with raw CKM_ECDSA.
            use_raw_mechanism=True,
        )
    finally:
        session.close()


def test_pkcs11_b_lta_signature_validates_offline(
    test_pki: PkiEnvironment, pkcs11_signer: signers.Signer
) -> None:
    assert_b_lta_ok(test_pki, sign_b_lta(test_pki, pkcs11_signer))


@pytest.mark.parametrize(
    ("label", "cause"),
    [("expired", ExpiredError), ("not-yet-valid", NotYetValidError), ("revoked", RevokedError)],
)
def test_pyhanko_refuses_bad_signer_certificate(
    test_pki: PkiEnvironment, label: str, cause: type[Exception]
) -> None:
    with pytest.raises(SigningError, match="could not be validated") as refused:
        sign_b_lta(test_pki, load_signer(test_pki, label))
    assert isinstance(refused.value.__cause__, cause)


def sign_b_t_unchecked(pki: PkiEnvironment, label: str) -> bytes:
    """Sign at B-T with the given signer, skipping pyHanko's pre-signing certificate checks."""
    meta = signers.PdfSignatureMetadata(
        field_name="Director", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(BytesIO(tiny_pdf())),
        meta,
        signer=load_signer(pki, label),
        timestamper=HTTPTimeStamper(pki.tsa_url),
    )
    return bytes(out.getvalue())


@pytest.mark.parametrize(
    ("label", "problem"),
    [
        ("director", None),  # control: the same procedure accepts a good signer
        ("expired", AdESIndeterminate.OUT_OF_BOUNDS_NO_POE),
        # pyHanko 0.38 reports CERTIFICATE_CHAIN_GENERAL_FAILURE here, not NOT_YET_VALID.
        ("not-yet-valid", AdESIndeterminate.CERTIFICATE_CHAIN_GENERAL_FAILURE),
        ("revoked", AdESIndeterminate.REVOKED_NO_POE),
    ],
)
def test_bad_signer_certificate_fails_validation(
    test_pki: PkiEnvironment, label: str, problem: AdESIndeterminate | None
) -> None:
    """Signatures made without checks are caught by validation against the live test PKI."""
    sig = PdfFileReader(BytesIO(sign_b_t_unchecked(test_pki, label))).embedded_signatures[0]
    status = validate_pdf_signature(sig, signer_validation_context=signing_context(test_pki))
    assert status.intact and status.valid  # cryptographically fine in every case
    assert status.trust_problem_indic == problem
    assert status.bottom_line is (problem is None)
    assert status.revoked is (label == "revoked")
