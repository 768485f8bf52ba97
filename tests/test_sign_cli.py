"""The signing commands as a user runs them: keys demo, sign, check-signature (real processes)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from archiver.demo.keys import DEMO_NOTICE
from archiver.errors import ExitCode
from archiver.render.batch import render_classes
from archiver.sources.export_v1 import read_export
from tests.fixtures.cli import run_cli
from tests.fixtures.pdf import appearance_text
from tests.fixtures.pki import PkiEnvironment, SoftHsmToken

ENV_SECRET = "ARCHIVER_SIGNER_PASSPHRASE"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, spec_export_doc: dict[str, Any]) -> Path:
    """The spec school's class 5a, rendered once (unsigned); tests copy it."""
    out = tmp_path_factory.mktemp("rendered")
    report = read_export(json.dumps(spec_export_doc, ensure_ascii=False).encode())
    assert report.export is not None
    render_classes(report.export, out / "docs", ["5a"], workers=1)
    (out / "export.json").write_text(json.dumps(spec_export_doc, ensure_ascii=False), "utf-8")
    return out


@pytest.fixture(scope="module")
def demo_keys(tmp_path_factory: pytest.TempPathFactory, rendered: Path) -> Path:
    """``archiver keys demo`` run once; returns the folder holding ``keys/``."""
    home = tmp_path_factory.mktemp("demo-keys")
    result = run_cli(
        "keys", "demo", "--out", "keys", "--source", str(rendered / "export.json"), cwd=home
    )
    assert result.returncode == 0, result.stderr
    config = result.stdout.split("Добавьте в archiver.toml:")[1].split("Пароль ключа")[0]
    (home / "archiver.toml").write_text(config, encoding="utf-8")
    return home


@pytest.fixture
def workdir(tmp_path: Path, rendered: Path, demo_keys: Path) -> Path:
    """A fresh folder with the demo keys, their archiver.toml and unsigned documents."""
    shutil.copytree(demo_keys / "keys", tmp_path / "keys")
    shutil.copy(demo_keys / "archiver.toml", tmp_path / "archiver.toml")
    shutil.copytree(rendered / "docs", tmp_path / "docs")
    return tmp_path


def documents(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.pdf"))


def test_demo_certificates_say_demo(demo_keys: Path) -> None:
    keys = demo_keys / "keys"
    for pem in ("demo-ca.pem", "demo-tsa.pem"):
        cert = x509.load_pem_x509_certificate((keys / pem).read_bytes())
        assert DEMO_NOTICE in cert.subject.rfc4514_string()
    key, cert, _ = pkcs12.load_key_and_certificates((keys / "director.p12").read_bytes(), b"demo")
    assert key is not None and cert is not None
    assert DEMO_NOTICE in cert.subject.rfc4514_string()
    # the director named in the export
    assert "Кузнецова Ольга Петровна" in cert.subject.rfc4514_string()
    assert oct((keys / "director.p12").stat().st_mode & 0o777) == "0o600"


def test_keys_demo_refuses_to_overwrite(demo_keys: Path) -> None:
    result = run_cli("keys", "demo", "--out", "keys", cwd=demo_keys)
    assert result.returncode != 0
    assert "уже есть демонстрационные ключи" in result.stderr


def test_sign_folder_b_lta_then_check(workdir: Path) -> None:
    result = run_cli("sign", "docs", cwd=workdir, env={ENV_SECRET: "demo"})
    assert result.returncode == 0, result.stderr
    docs = documents(workdir / "docs")
    assert len(docs) == 2
    assert result.stdout.count("Подписан (B-LTA)") == 2
    root = x509.load_pem_x509_certificate((workdir / "keys" / "demo-ca.pem").read_bytes())
    from asn1crypto import x509 as asn1_x509

    anchor = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    for path in docs:
        # independent check with pyHanko's validator
        with path.open("rb") as handle:
            sig = PdfFileReader(handle).embedded_signatures[0]
            status = validate_pdf_signature(
                sig,
                signer_validation_context=ValidationContext(
                    trust_roots=[anchor], allow_fetching=False, revocation_mode="soft-fail"
                ),
            )
            assert status.intact and status.valid and status.trusted
            assert status.timestamp_validity is not None
        reader = PdfReader(path)
        assert reader.pdf_header == "%PDF-1.7"
        assert b"pdfaid:part>3<" in reader.xmp_metadata.stream.get_data() or b'pdfaid:part="3"' in (
            reader.xmp_metadata.stream.get_data()
        )
    check = run_cli("check-signature", *map(str, docs), "--json", cwd=workdir)
    assert check.returncode == 0, check.stdout + check.stderr
    reports = json.loads(check.stdout)
    for report in reports:
        assert report["ok"]
        signature = report["signatures"][0]
        assert signature["level"] == "B-LTA"
        assert signature["ades_indication"] == "AdESPassed"
        assert signature["ades_subindication"] == "OK"
        assert signature["signing_time_source"] == "timestamp"
        assert signature["covers_whole_file"]
    text = run_cli("check-signature", str(docs[0]), cwd=workdir)
    assert "ДЕЙСТВИТЕЛЕН" in text.stdout and "по штампу времени" in text.stdout


def test_the_mark_sits_in_the_layouts_field(workdir: Path) -> None:
    """The summary statement carries a field placed by the layout; the mark fills it."""
    final = next((workdir / "docs").rglob("*-final-marks.pdf"))
    before = PdfReader(final)
    (field,) = [
        a.get_object()
        for page in before.pages
        for a in page.get("/Annots", [])
        if a.get_object().get("/FT") == "/Sig"
    ]
    rect = [float(v) for v in field["/Rect"]]
    assert run_cli("sign", str(final), cwd=workdir, env={ENV_SECRET: "demo"}).returncode == 0
    after = PdfReader(final)
    widgets = [
        a.get_object()
        for page in after.pages
        for a in page.get("/Annots", [])
        if a.get_object().get("/FT") == "/Sig" and a.get_object().get("/T") == "DirectorSignature"
    ]
    assert len(widgets) == 1  # signed into the existing field, no second one
    assert [float(v) for v in widgets[0]["/Rect"]] == rect
    mark = appearance_text(widgets[0])
    assert "ДЕМО" in mark and "Кузнецова Ольга Петровна" in mark


def test_sign_again_changes_nothing(workdir: Path) -> None:
    assert run_cli("sign", "docs", cwd=workdir, env={ENV_SECRET: "demo"}).returncode == 0
    hashes = {p: sha(p) for p in documents(workdir / "docs")}
    again = run_cli("sign", "docs", cwd=workdir, env={ENV_SECRET: "demo"})
    assert again.returncode == 0
    assert again.stdout.count("Уже подписан, пропущен") == 2
    assert {p: sha(p) for p in documents(workdir / "docs")} == hashes


def test_wrong_passphrase_writes_nothing(workdir: Path) -> None:
    hashes = {p: sha(p) for p in documents(workdir / "docs")}
    result = run_cli("sign", "docs", cwd=workdir, env={ENV_SECRET: "wrong"})
    assert result.returncode == ExitCode.FAILURE
    assert "неверный пароль" in result.stderr
    assert "Traceback" not in result.stderr
    assert {p: sha(p) for p in documents(workdir / "docs")} == hashes
    assert sorted(p.name for p in (workdir / "docs").rglob("*") if p.is_file()) == sorted(
        p.name for p in hashes
    )


def test_no_passphrase_and_no_terminal(workdir: Path) -> None:
    result = run_cli("sign", "docs", cwd=workdir)
    assert result.returncode == 2
    assert ENV_SECRET in result.stderr


def test_key_not_matching_certificate(workdir: Path) -> None:
    """PKCS#12 tools refuse to pack a foreign key, so the check is shown on the loaded pair."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign import signers

    from archiver.signing.sign import SignError, check_key_matches

    _, cert, _ = pkcs12.load_key_and_certificates(
        (workdir / "keys" / "director.p12").read_bytes(), b"demo"
    )
    assert cert is not None
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            other.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=None,
    )
    with pytest.raises(SignError, match="не соответствует сертификату"):
        check_key_matches(signer, cert)


def test_check_signature_fails_on_tampered_and_unsigned(workdir: Path, rendered: Path) -> None:
    assert run_cli("sign", "docs", cwd=workdir, env={ENV_SECRET: "demo"}).returncode == 0
    journal = next((workdir / "docs").rglob("*-class-journal.pdf"))
    data = bytearray(journal.read_bytes())
    at = data.index(b"Contents") - 200  # inside the signed body, before the signature dict
    data[at] ^= 0x01
    tampered = workdir / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    unsigned = next((rendered / "docs").rglob("*-final-marks.pdf"))
    for path in (tampered, unsigned):
        result = run_cli("check-signature", str(path), cwd=workdir)
        assert result.returncode == 1, result.stdout
        assert "НЕ ПОДТВЕРЖДЁН" in result.stdout


def test_unreachable_tsa(workdir: Path) -> None:
    config = workdir / "archiver.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace(
        text[text.index("demo_tsa") : text.index("\n", text.index("demo_tsa"))],
        'tsa_url = "http://127.0.0.1:9/tsa"',
    ).replace('level = "B-LTA"', 'level = "B-T"')
    config.write_text(text, encoding="utf-8")
    hashes = {p: sha(p) for p in documents(workdir / "docs")}
    result = run_cli("sign", "docs", cwd=workdir, env={ENV_SECRET: "demo"})
    assert result.returncode == ExitCode.FAILURE
    assert "служба штампов времени http://127.0.0.1:9/tsa недоступна" in result.stderr
    assert {p: sha(p) for p in documents(workdir / "docs")} == hashes


def test_sign_with_pkcs11_token_and_real_tsa(
    tmp_path: Path, rendered: Path, test_pki: PkiEnvironment, softhsm_token: SoftHsmToken
) -> None:
    shutil.copytree(rendered / "docs", tmp_path / "docs")
    (tmp_path / "archiver.toml").write_text(
        "[signer]\n"
        'kind = "pkcs11"\n'
        f'module = "{softhsm_token.module_path}"\n'
        f'token_label = "{softhsm_token.token_label}"\n'
        f'key_label = "{softhsm_token.key_label}"\n'
        f'cert_label = "{softhsm_token.cert_label}"\n'
        "[signature]\n"
        f'tsa_url = "{test_pki.tsa_url}"\n'
        f'trust_roots = ["{test_pki.root_cert_path}"]\n',
        encoding="utf-8",
    )
    result = run_cli(
        "sign", "docs", cwd=tmp_path, env={"ARCHIVER_SIGNER_PIN": softhsm_token.user_pin}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Подписан (B-LTA)") == 2  # B-LTA is the default with a TSA
    check = run_cli("check-signature", *map(str, documents(tmp_path / "docs")), cwd=tmp_path)
    assert check.returncode == 0, check.stdout
    wrong = run_cli("sign", "docs", cwd=tmp_path, env={"ARCHIVER_SIGNER_PIN": "000000"})
    assert wrong.returncode == ExitCode.FAILURE
