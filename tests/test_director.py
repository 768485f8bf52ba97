"""The director signs: year-end waits, the review, a ГОСТ key through an external command, prepare/complete.

Real tools throughout: a ГОСТ Р 34.10-2012 test key and certificate made with OpenSSL and
Debian's libengine-gost-openssl (not certified), ``openssl cms`` as the external signer
and as the independent verifier, archiver run as a process, two local storage folders.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from archiver.demo.generator import export_bytes, generate_export
from archiver.errors import ExitCode
from archiver.render.batch import render_classes
from archiver.sources.export_v1 import read_export
from tests.fixtures.cli import COMMAND, CliResult, cli_env, run_cli
from tests.fixtures.pki import PkiEnvironment, SoftHsmToken

PASSPHRASE = "gost-Пароль-7f3a9c2e51"
"""The test key's passphrase: unique, so that a grep finds every place it leaked to."""
CLASS = "c5a"


def openssl(*args: str, env: dict[str, str] | None = None, data: bytes | None = None) -> bytes:
    """Run ``openssl`` (with the GOST engine) and return its stdout; fail the test on an error."""
    done = subprocess.run(
        ["openssl", *args],
        input=data,
        capture_output=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    return done.stdout


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A small generated school and a GOST test key (encrypted with :data:`PASSPHRASE`)."""
    folder = tmp_path_factory.mktemp("gost-school")
    data = generate_export(classes=3)
    (folder / "export.json").write_bytes(export_bytes(data))
    director = data["school"]["director"]["name"]
    env = {"KEYPASS": PASSPHRASE}
    key, cert = folder / "director-key.pem", folder / "director.pem"
    openssl(
        "genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A",
        "-aes-256-cbc", "-pass", "env:KEYPASS", "-out", str(key), env=env,
    )  # fmt: skip
    openssl(
        "req", "-engine", "gost", "-new", "-x509", "-key", str(key), "-passin", "env:KEYPASS",
        "-out", str(cert), "-days", "365", "-utf8", "-md_gost12_256",
        "-subj", f"/CN={director}/O=Тестовая школа/OU=ТЕСТ — не имеет юридической силы",
        env=env,
    )  # fmt: skip
    return folder, data


def gost_signer_config(folder: Path, *, mode: str = "director") -> str:
    """``[signer] kind = "command"``: openssl with the GOST engine, through a wrapper logging its argv."""
    wrapper = folder / "sign-tool.sh"
    wrapper.write_text(
        '#!/bin/sh\nprintf "%s\\n" "$@" >> "$(dirname "$0")/argv.log"\nexec openssl "$@"\n',
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    sign = [
        str(wrapper), "cms", "-sign", "-engine", "gost", "-binary", "-outform", "DER",
        "-md", "md_gost12_256", "-cades", "-signer", str(folder / "director.pem"),
        "-inkey", str(folder / "director-key.pem"), "-passin", "env:ARCHIVER_SIGNER_SECRET",
        "-in", "{data}", "-out", "{signature}",
    ]  # fmt: skip
    verify = [
        "openssl", "cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER",
        "-in", "{signature}", "-content", "{data}", "-CAfile", str(folder / "director.pem"),
        "-purpose", "any", "-out", "/dev/null",
    ]  # fmt: skip
    return (
        "[signer]\n"
        'kind = "command"\n'
        f'mode = "{mode}"\n'
        'certificate = "director.pem"\n'
        "asks_secret = true\n"
        f"sign_command = {json.dumps(sign, ensure_ascii=False)}\n"
        f"verify_command = {json.dumps(verify, ensure_ascii=False)}\n"
    )


def setup_run(tmp_path: Path, school: tuple[Path, dict[str, Any]]) -> Path:
    folder = school[0]
    for name in ("export.json", "director.pem", "director-key.pem"):
        shutil.copy(folder / name, tmp_path / name)
    (tmp_path / "room-1").mkdir()
    (tmp_path / "room-2").mkdir()
    (tmp_path / "pass.txt").write_text(PASSPHRASE + "\n", encoding="utf-8")
    (tmp_path / "archiver.toml").write_text(
        '[archive]\nstate_dir = "state"\n\n'
        '[storage.primary]\nkind = "local"\npath = "room-1"\n\n'
        '[storage.secondary]\nkind = "local"\npath = "room-2"\n\n' + gost_signer_config(tmp_path),
        encoding="utf-8",
    )
    return tmp_path


def run_input(folder: Path, *args: str, text: str = "") -> CliResult:
    """``archiver ARGS`` with ``text`` on its standard input (the director's answer)."""
    done = subprocess.run(
        [*COMMAND, *args],
        cwd=folder,
        env=cli_env(),
        input=text,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return CliResult(done.args, done.returncode, done.stdout, done.stderr)


def unsigned_documents(folder: Path) -> dict[Path, str]:
    return {
        p: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((folder / "state" / "year-end").rglob("*.pdf"))
    }


def embedded_signature(pdf: bytes) -> tuple[bytes, bytes]:
    """The last signature's CMS and the bytes its /ByteRange covers (read independently of archiver)."""
    *_, match = re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    a, b, c, d = map(int, match.groups())
    assert a == 0 and c + d == len(pdf)  # covers the whole file but /Contents
    cms = bytes.fromhex(pdf[b + 1 : c - 1].decode("ascii"))
    return cms, pdf[:b] + pdf[c : c + d]


def openssl_verifies(tmp: Path, cms: bytes, data: bytes, ca: Path) -> bool:
    """``openssl cms -verify`` of a detached signature (DER) over ``data``."""
    (tmp / "v.sig").write_bytes(cms)
    (tmp / "v.bin").write_bytes(data)
    done = subprocess.run(
        ["openssl", "cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER",
         "-in", str(tmp / "v.sig"), "-content", str(tmp / "v.bin"), "-CAfile", str(ca),
         "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, check=False,
    )  # fmt: skip
    return done.returncode == 0


def _der_trimmed(cms: bytes) -> bytes:
    """The CMS without /Contents' zero padding (its DER length says where it ends)."""
    from asn1crypto import cms as asn1_cms

    return bytes(asn1_cms.ContentInfo.load(cms, strict=False).dump())


def test_year_end_waits_for_the_director_then_gost_signature_is_stored(
    tmp_path: Path, school: tuple[Path, dict[str, Any]]
) -> None:
    folder = setup_run(tmp_path, school)
    first = run_cli("year-end", "--source", "export.json", "--class", CLASS, cwd=folder)
    assert first.returncode == ExitCode.WAITING_FOR_SIGNATURE, first.stderr
    assert "ждёт подписи директора" in first.stdout
    documents = unsigned_documents(folder)
    assert len(documents) == 2 and all(b"/ByteRange" not in p.read_bytes() for p in documents)
    assert not any((folder / "room-1").rglob("*.pdf"))  # nothing stored before the signature
    status = run_cli("status", cwd=folder)
    assert re.search(r"5 «А»\s+ждёт подписи директора", status.stdout), status.stdout
    assert "Опись дел: не составлена" in status.stdout  # only one class was asked for

    # the review lists every document and the certificate before the passphrase is wanted
    no_secret = run_input(folder, "sign", "--review", text="да\n")
    assert no_secret.returncode == ExitCode.BAD_INPUT
    review = no_secret.stderr
    asked = review.index("не задан")
    for path, digest in documents.items():
        assert 0 <= review.index(digest) < asked
        assert str(path) in review
    assert review.index("серийный номер") < asked and review.index("владелец") < asked
    assert "листов" in review and "распечатка журнала" in review
    assert unsigned_documents(folder) == documents

    # declined: nothing signed, still waiting, the refusal is in the access log
    declined = run_input(folder, "sign", "--review", "--passphrase-file", "pass.txt", text="нет\n")
    assert declined.returncode == ExitCode.WAITING_FOR_SIGNATURE
    assert "ничего не подписано" in declined.stderr
    assert unsigned_documents(folder) == documents

    signed = run_input(folder, "sign", "--review", "--passphrase-file", "pass.txt", text="да\n")
    assert signed.returncode == 0, signed.stderr
    assert signed.stdout.count("Подписан (B-B)") == 2

    again = run_cli("year-end", "--source", "export.json", "--class", CLASS, cwd=folder)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "всё сделано и проверено" in again.stdout
    ca = folder / "director.pem"
    for room in ("room-1", "room-2"):
        stored = sorted((folder / room).rglob(f"{CLASS}-*.pdf"))
        assert len(stored) == 2
        for pdf_path in stored:
            pdf = pdf_path.read_bytes()
            cms, covered = embedded_signature(pdf)
            assert openssl_verifies(tmp_path, _der_trimmed(cms), covered, ca)
            detached = pdf_path.with_name(pdf_path.name + ".sig")
            assert openssl_verifies(tmp_path, detached.read_bytes(), pdf, ca)
            bag = pdf_path.parent.parent
            manifest = (bag / "manifest-sha256.txt").read_text(encoding="utf-8")
            assert f"data/{detached.name}" in manifest
            record = json.loads((bag / "archive-record.json").read_text(encoding="utf-8"))
            assert (
                record["detached_signature"]["sha256"]
                == hashlib.sha256(detached.read_bytes()).hexdigest()
            )
    status = run_cli("status", cwd=folder)
    assert "сохранён в двух копиях и проверен" in status.stdout
    deep = run_cli("verify", "--deep", cwd=folder)  # ГОСТ: archiver's checks and verify_command
    assert deep.returncode == 0, deep.stdout + deep.stderr
    check = run_cli("check-signature", *map(str, documents), cwd=folder)
    assert check.returncode == 0, check.stdout
    assert "[проверяет openssl]: да" in check.stdout
    assert "[проверяет archiver через OpenSSL (модуль gost)]: да" in check.stdout

    # the review is in the access log: who, when, which documents, and the decision
    log = run_cli("log", "show", "--json", cwd=folder)
    entries = [e for e in log.json() if e["action"] == "review"]
    assert [e["output"]["decision"] for e in entries] == ["confirmed", "declined", "confirmed"]
    assert {s["sha256"] for s in entries[-1]["sources"]} == set(documents.values())

    # the passphrase is nowhere archiver wrote, nor on the signing program's command line
    leaked = [
        p
        for p in folder.rglob("*")
        if p.is_file() and p.name != "pass.txt" and PASSPHRASE.encode() in p.read_bytes()
    ]
    assert leaked == []
    assert (folder / "argv.log").is_file()
    for result in (first, no_secret, declined, signed, again, check, log, deep):
        assert PASSPHRASE not in result.stdout + result.stderr


def test_document_changed_after_review_is_refused(
    tmp_path: Path, school: tuple[Path, dict[str, Any]]
) -> None:
    folder = setup_run(tmp_path, school)
    first = run_cli("year-end", "--source", "export.json", "--class", CLASS, cwd=folder)
    assert first.returncode == ExitCode.WAITING_FOR_SIGNATURE, first.stderr
    documents = unsigned_documents(folder)
    process = subprocess.Popen(
        [*COMMAND, "sign", "--review", "--passphrase-file", "pass.txt"],
        cwd=folder,
        env=cli_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stderr is not None
    shown = b""
    while "Введите «да»".encode() not in shown:  # the director is looking at the list
        chunk = process.stderr.read1(4096)  # type: ignore[attr-defined]
        assert chunk, shown.decode("utf-8", "replace")
        shown += chunk
    journal = next(p for p in documents if p.name.endswith("class-journal.pdf"))
    journal.write_bytes(journal.read_bytes() + b"%changed after review\n")
    out, err = process.communicate("да\n".encode(), timeout=600)
    assert process.returncode == ExitCode.FAILURE, (out + err).decode()
    assert "изменён после просмотра" in err.decode()
    assert all(b"/ByteRange" not in p.read_bytes() for p in documents)  # nothing signed


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, spec_export_doc: dict[str, Any]) -> Path:
    out = tmp_path_factory.mktemp("rendered")
    report = read_export(json.dumps(spec_export_doc, ensure_ascii=False).encode())
    assert report.export is not None
    render_classes(report.export, out / "docs", ["5a"], workers=1)
    return out / "docs"


def test_prepare_then_complete_with_signatures_made_elsewhere(
    tmp_path: Path, rendered: Path, school: tuple[Path, dict[str, Any]]
) -> None:
    folder = setup_run(tmp_path, school)
    shutil.copytree(rendered, folder / "docs")
    before = {p: p.read_bytes() for p in (folder / "docs").rglob("*.pdf")}
    prepared = run_cli("sign", "--prepare", "to-sign", "docs", cwd=folder)
    assert prepared.returncode == 0, prepared.stderr
    to_sign = sorted((folder / "to-sign").glob("*.tbs"))
    assert len(to_sign) == 2
    assert {p: p.read_bytes() for p in before} == before  # the documents themselves unchanged

    # the director's computer: any CAdES tool, here openssl in a process of its own
    (folder / "signatures").mkdir()
    for data in to_sign:
        openssl(
            "cms", "-sign", "-engine", "gost", "-binary", "-outform", "DER", "-md",
            "md_gost12_256", "-cades", "-signer", str(folder / "director.pem"),
            "-inkey", str(folder / "director-key.pem"),
            "-passin", "env:KEYPASS", "-in", str(data),
            "-out", str(folder / "signatures" / f"{data.name}.sig"),
            env={"KEYPASS": PASSPHRASE},
        )  # fmt: skip

    # a prepared file changed in between: refused, nothing written
    victim = next((folder / "to-sign").glob("*.prepared.pdf"))
    original = victim.read_bytes()
    victim.write_bytes(original + b"\n")
    refused = run_cli("sign", "--complete", "to-sign", "signatures", cwd=folder)
    assert refused.returncode == ExitCode.FAILURE
    assert "подготовленный файл изменён" in refused.stderr
    assert {p: p.read_bytes() for p in before} == before
    victim.write_bytes(original)

    done = run_cli("sign", "--complete", "to-sign", "signatures", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "openssl: значение подписи" in done.stdout
    for path in before:
        cms, covered = embedded_signature(path.read_bytes())
        assert openssl_verifies(tmp_path, _der_trimmed(cms), covered, folder / "director.pem")
    check = run_cli("check-signature", *map(str, before), cwd=folder)
    assert check.returncode == 0, check.stdout


def test_a_signature_by_another_key_is_refused(
    tmp_path: Path, rendered: Path, school: tuple[Path, dict[str, Any]]
) -> None:
    """The CMS must come from the configured certificate; archiver's own check catches it."""
    folder = setup_run(tmp_path, school)
    shutil.copytree(rendered, folder / "docs")
    other_key, other_cert = folder / "other-key.pem", folder / "other.pem"
    openssl(
        "genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A",
        "-out", str(other_key),
    )  # fmt: skip
    openssl(
        "req", "-engine", "gost", "-new", "-x509", "-key", str(other_key), "-out",
        str(other_cert), "-days", "30", "-subj", "/CN=Other", "-md_gost12_256",
    )  # fmt: skip
    assert run_cli("sign", "--prepare", "to-sign", "docs", cwd=folder).returncode == 0
    (folder / "signatures").mkdir()
    for data in (folder / "to-sign").glob("*.tbs"):
        openssl(
            "cms", "-sign", "-engine", "gost", "-binary", "-outform", "DER", "-md",
            "md_gost12_256", "-signer", str(other_cert), "-inkey", str(other_key),
            "-in", str(data), "-out", str(folder / "signatures" / f"{data.name}.sig"),
        )  # fmt: skip
    refused = run_cli("sign", "--complete", "to-sign", "signatures", cwd=folder)
    assert refused.returncode == ExitCode.FAILURE
    assert "сертификат директора из настроек" in refused.stderr
    assert all(b"/ByteRange" not in p.read_bytes() for p in (folder / "docs").rglob("*.pdf"))


def test_review_with_a_pkcs11_token_reads_the_certificate_before_the_pin(
    tmp_path: Path, rendered: Path, softhsm_token: SoftHsmToken
) -> None:
    shutil.copytree(rendered, tmp_path / "docs")
    (tmp_path / "pin.txt").write_text(softhsm_token.user_pin + "\n", encoding="utf-8")
    (tmp_path / "archiver.toml").write_text(
        "[signer]\n"
        'kind = "pkcs11"\n'
        f'module = "{softhsm_token.module_path}"\n'
        f'token_label = "{softhsm_token.token_label}"\n'
        f'key_label = "{softhsm_token.key_label}"\n'
        f'cert_label = "{softhsm_token.cert_label}"\n',
        encoding="utf-8",
    )
    declined = run_input(tmp_path, "sign", "--review", "docs", text="\n")  # no PIN given at all
    assert declined.returncode == ExitCode.WAITING_FOR_SIGNATURE, declined.stderr
    assert "Кузнецова Ольга Петровна" in declined.stderr and "серийный номер" in declined.stderr
    assert "не записан в журнал доступа" in declined.stderr  # no [storage] on this computer
    signed = run_input(
        tmp_path, "sign", "--review", "docs", "--passphrase-file", "pin.txt", text="да\n"
    )
    assert signed.returncode == 0, signed.stderr
    assert signed.stdout.count("Подписан (B-B)") == 2


def test_pkcs12_review_needs_the_certificate_before_the_passphrase(
    tmp_path: Path, rendered: Path, test_pki: PkiEnvironment
) -> None:
    shutil.copytree(rendered, tmp_path / "docs")
    (tmp_path / "archiver.toml").write_text(
        f'[signer]\nkind = "pkcs12"\npkcs12_file = "{test_pki.director_p12}"\n', encoding="utf-8"
    )
    result = run_input(tmp_path, "sign", "--review", "docs", text="да\n")
    assert result.returncode == ExitCode.FAILURE
    assert "[signer] certificate" in result.stderr
    assert all(b"/ByteRange" not in p.read_bytes() for p in (tmp_path / "docs").rglob("*.pdf"))


@pytest.mark.parametrize("last", [b"\x00", b"\t", b"\n", b"\x0b", b"\x0c", b"\r", b" "])
def test_a_der_signature_ending_in_a_white_space_byte_is_read_whole(last: bytes) -> None:
    """A GOST signature value is random: its last byte may look like white space (1 in 43)."""
    import base64

    from asn1crypto import algos, cms

    from archiver.signing.external import cms_der

    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier({"subject_key_identifier": b"\x01" * 20}),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"}),
            "signature": b"\x5a" * 63 + last,
        }
    )
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
            "encap_content_info": {"content_type": "data"},
            "signer_infos": [signer],
        }
    )
    der = cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()
    assert der.endswith(last)
    assert cms_der(der, "x.sig") == der
    pem = b"-----BEGIN CMS-----\n" + base64.encodebytes(der) + b"-----END CMS-----\n"
    assert cms_der(pem, "x.sig") == der
    assert cms_der(b"  " + base64.b64encode(der) + b"\r\n", "x.sig") == der
