"""The director's key on their own computer, through the web page: prepare, sign elsewhere, complete.

``[signer] kind = "command"`` (OpenSSL with the demo director's RSA key standing in for a
CAdES tool). The director downloads the data to sign (a ZIP of ``.tbs`` files) from the
«Подпись» page, signs each with ``openssl cms`` in a process of its own (the director's
computer), uploads the ``.tbs.sig`` files, and the documents come out signed by the
director's certificate, checked by archiver and by ``openssl cms -verify``.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archiver.demo.keys import DEMO_PASSPHRASE, make_demo_keys
from archiver.signing.sign import is_signed
from archiver.signing.signer_of import signer_of
from tests.fixtures.archive import Year
from tests.fixtures.web import add_users, serve, waiting_batch

playwright_sync = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
DIRECTOR_NAME = "Петрова Анна Сергеевна"
PASSWORD = "director-пароль-7"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="нет /usr/bin/chromium")


def openssl(*args: str) -> None:
    done = subprocess.run(["openssl", *args], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, school_years: tuple[Year, Year]
) -> Iterator[tuple[str, Path, list[Path]]]:
    tmp = tmp_path_factory.mktemp("web-twostep")
    keys = make_demo_keys(tmp / "keys", DIRECTOR_NAME, "Тестовая школа")
    key = tmp / "director-key.pem"  # on the director's computer
    openssl(
        "pkcs12", "-in", str(keys.director_p12), "-nocerts", "-nodes",
        "-passin", f"pass:{DEMO_PASSPHRASE}", "-out", str(key),
    )  # fmt: skip
    (tmp / "room-1").mkdir()
    (tmp / "room-2").mkdir()
    verify = [
        "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "{signature}",
        "-content", "{data}", "-CAfile", str(keys.ca_cert), "-purpose", "any", "-out", "/dev/null",
    ]  # fmt: skip
    sign = ["openssl", "cms", "-sign", "-binary", "-in", "{data}", "-out", "{signature}"]
    config = tmp / "archiver.toml"
    config.write_text(
        '[storage.primary]\nkind = "local"\npath = "room-1"\n\n'
        '[storage.secondary]\nkind = "local"\npath = "room-2"\n\n'
        '[signer]\nkind = "command"\nmode = "director"\ncertificate = "keys/director.pem"\n'
        f"sign_command = {json.dumps(sign)}\nverify_command = {json.dumps(verify)}\n",
        encoding="utf-8",
    )
    batch = waiting_batch(tmp, school_years[0], DIRECTOR_NAME)
    add_users(config, tmp, {"director": "director"}, {"director": PASSWORD})
    with serve(config, tmp) as url:
        yield url, tmp, batch


@pytest.fixture(scope="module")
def browser(site: Any) -> Iterator[Any]:
    with playwright_sync.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


def test_director_signs_on_their_own_computer_through_the_page(
    browser: Any, site: tuple[str, Path, list[Path]], tmp_path: Path
) -> None:
    url, folder, documents = site
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in documents}
    page = browser.new_context(accept_downloads=True).new_page()
    page.goto(url + "/login/")
    page.get_by_label("Учётная запись").fill("director")
    page.get_by_label("Пароль").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Войти").click()
    assert page.url.endswith("/sign/")  # the director's start page
    assert "Подпись на компьютере директора" in page.content()
    with page.expect_download() as waiting:
        page.get_by_role("button", name="Скачать данные для подписи (ZIP)").click()
    bundle = tmp_path / "na-podpis.zip"
    waiting.value.save_as(bundle)
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in documents} == before

    # the director's computer: any CAdES tool, here openssl in a process of its own
    signed_here = tmp_path / "signatures"
    signed_here.mkdir()
    with zipfile.ZipFile(bundle) as opened:
        names = sorted(opened.namelist())
        assert names and all(n.endswith(".tbs") for n in names)
        opened.extractall(tmp_path / "tbs")
    for name in names:
        openssl(
            "cms", "-sign", "-binary", "-outform", "DER", "-md", "sha256", "-cades",
            "-signer", str(folder / "keys" / "director.pem"),
            "-inkey", str(folder / "director-key.pem"),
            "-in", str(tmp_path / "tbs" / name), "-out", str(signed_here / f"{name}.sig"),
        )  # fmt: skip

    page.get_by_label("Подписи (*.tbs.sig)").set_input_files(
        [str(p) for p in sorted(signed_here.iterdir())]
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Встроить подписи").click()
    assert f"Подписи встроены и проверены: {len(documents)}" in page.content()
    page.context.close()
    for path in documents:
        data = path.read_bytes()
        assert is_signed(data)
        signer = signer_of(data)
        assert signer is not None and DIRECTOR_NAME in signer.subject
        assert io.BytesIO(data).read(5) == b"%PDF-"
