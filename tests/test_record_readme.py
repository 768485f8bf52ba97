"""A record copied out of the archive checks out without archiver: README.txt and certs/ in its bag.

The record is stored by the real store operation (documents signed with the test PKI's
director key); its folder is copied elsewhere and checked exactly as its README.txt
says — ``sha256sum -c`` and pyHanko's command line with the roots stored in the bag — in
a process that knows nothing of archiver's configuration, keys or demo folder.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import bagit

from tests.fixtures.archive import Archive, Year, record
from tests.fixtures.pki import PkiEnvironment

Y1 = "2025/2026"
PYHANKO = Path(sys.executable).parent / "pyhanko"


def clean_env() -> dict[str, str]:
    """PATH and locale only: no ARCHIVER_*, no configuration of any kind."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}


def readme_commands(readme: str, tool: str) -> list[list[str]]:
    """The command lines of README.txt that run ``tool``, as argument lists."""
    return [
        shlex.split(line.strip()) for line in readme.splitlines() if line.strip().startswith(tool)
    ]


def test_a_copied_record_checks_out_with_the_tools_its_readme_names(
    archive: Archive, test_pki: PkiEnvironment, tmp_path: Path
) -> None:
    rid = record(Y1, "c5a", "final_marks")
    copied = tmp_path / "elsewhere" / "c5a-final-marks"
    shutil.copytree(archive.primary_root / rid, copied)
    for path in [copied, *copied.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)

    readme = (copied / "README.txt").read_text(encoding="utf-8")
    manifest = json.loads((copied / "archive-record.json").read_text(encoding="utf-8"))
    assert "СРОК ХРАНЕНИЯ: до 01.01.2052" in readme
    assert manifest["retention"]["retain_until"] in readme
    assert "data/c5a-final-marks.pdf" in readme
    assert "Кузнецова Ольга Петровна" in readme  # the signer's certificate
    assert manifest["bag_texts"]["README.txt"] == readme  # fixed in the manifest

    roots = (copied / "certs" / "roots.pem").read_bytes()
    assert roots == test_pki.root_cert_pem or roots.strip() == test_pki.root_cert_pem.strip()
    chain = (copied / "certs" / "signer-chain.pem").read_text()
    assert chain.count("BEGIN CERTIFICATE") == 3  # director, intermediate, root

    # 1. the hashes, as README.txt says
    sums = readme_commands(readme, "sha256sum")
    assert [c[-1] for c in sums] == ["manifest-sha256.txt", "tagmanifest-sha256.txt"]
    for command in sums:
        done = subprocess.run(
            command, cwd=copied, env=clean_env(), capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert ": OK" in done.stdout
    checked = subprocess.run(
        ["sha256sum", "-c", "tagmanifest-sha256.txt"], cwd=copied, capture_output=True, text=True
    ).stdout
    for name in ("README.txt", "certs/roots.pem", "certs/signer-chain.pem"):
        assert f"{name}: OK" in checked

    # 2. the signature, with pyHanko's command line and the roots from the bag only
    (validate,) = [
        c for c in readme_commands(readme, "pyhanko-venv/bin/pyhanko") if c[2] == "validate"
    ]
    validate[0] = str(PYHANKO)
    assert "--trust" in validate and "certs/roots.pem" in validate
    done = subprocess.run(
        validate, cwd=copied, env=clean_env(), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "The signer's certificate is trusted." in done.stdout, done.stdout
    assert "The signature is judged VALID." in done.stdout
    assert "untrusted" not in done.stdout

    # without the bag's roots the same file is not trusted: the roots are what make it
    untrusted = [a for a in validate if a not in ("--trust", "certs/roots.pem", "--trust-replace")]
    done = subprocess.run(
        untrusted, cwd=copied, env=clean_env(), capture_output=True, text=True, timeout=300
    )
    assert "The signer's certificate is untrusted." in done.stdout
    assert done.returncode != 0

    # an independent BagIt reader agrees, README.txt and certs/ included
    bag = bagit.Bag(str(copied))
    bag.validate(fast=False)
    assert {"README.txt", "certs/roots.pem"} <= set(bag.tagfile_entries())


def test_an_unsigned_export_record_explains_its_check(archive: Archive) -> None:
    rid = record(Y1, None, "journal_export")
    folder = archive.primary_root / rid
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert "Этот файл не подписывается" in readme
    assert not (folder / "certs").exists()
    verified = archive.run("verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_b_lta_record_keeps_the_tsa_chain_and_checks_out_long_term(
    tmp_path: Path, school_years: tuple[Year, Year], test_pki: PkiEnvironment
) -> None:
    from archiver.archive.store import store_records
    from archiver.settings import SignatureSettings
    from archiver.signing.sign import DocumentSigner, load_pkcs12
    from archiver.sources.export_v1 import read_export
    from archiver.storage.local import LocalStorage
    from tests.fixtures.storage import tiny_pdf

    year = school_years[0]
    export = read_export(year.export, name=year.name).export
    assert export is not None
    settings = SignatureSettings(
        signer=None, level="B-LTA", tsa_url=test_pki.tsa_url, trust_roots=(test_pki.root_cert_path,)
    )
    signer = DocumentSigner(load_pkcs12(test_pki.director_p12, test_pki.p12_passphrase), settings)
    document = tmp_path / "docs" / "c5a-final-marks.pdf"
    document.parent.mkdir()
    document.write_bytes(signer.sign_bytes(tiny_pdf(f"final_marks; c5a; {Y1}")))
    roots = [tmp_path / "nas", tmp_path / "usb"]
    for root in roots:
        root.mkdir()
    store_records(
        export,
        year.export,
        "export.json",
        [document],
        [LocalStorage("primary", roots[0]), LocalStorage("secondary", roots[1])],
        trust_roots=[test_pki.root_cert_path],
    )
    copied = tmp_path / "copied"
    shutil.copytree(roots[1] / record(Y1, "c5a", "final_marks"), copied)
    tsa = (copied / "certs" / "tsa-chain.pem").read_bytes()
    assert test_pki.cert_pem("tsa").strip() in tsa
    assert test_pki.root_cert_pem.strip() in (copied / "certs" / "roots.pem").read_bytes()
    readme = (copied / "README.txt").read_text(encoding="utf-8")
    (adesverify,) = [
        c for c in readme_commands(readme, "pyhanko-venv/bin/pyhanko") if c[2] == "adesverify"
    ]
    assert "certs/tsa-chain.pem" in adesverify
    adesverify[0] = str(PYHANKO)
    done = subprocess.run(
        adesverify, cwd=copied, env=clean_env(), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "The TSA certificate is trusted." in done.stdout, done.stdout
    assert "The signer's certificate is trusted." in done.stdout
    assert "The signature is judged VALID." in done.stdout
