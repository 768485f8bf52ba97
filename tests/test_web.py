"""The web service in a real browser: ``archiver serve`` as a process, Debian's Chromium driven by Playwright.

One server per module, over the two-year test school (:mod:`tests.fixtures.archive`) with a
batch of rendered statements waiting for the director's signature (demo keys, PKCS#12).
Each role logs in; the archivist finds «семенов», downloads and issues an extract; the
director reviews and approves; every role gets 403 on the others' addresses (direct
requests); a POST without the CSRF token is refused; every read is in the access log,
read back from the storage folders. Screenshots of each page go to ``docs/samples/``.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from archiver.demo.keys import DEMO_PASSPHRASE, make_demo_keys
from archiver.signing.signer_of import signer_of
from tests.fixtures.archive import SCHOOL, SEMENOV, Archive, Year, record
from tests.fixtures.cli import run_cli
from tests.fixtures.storage import SignedPdf
from tests.fixtures.web import add_users, serve, waiting_batch

playwright_sync = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
SAMPLES = Path(__file__).resolve().parent.parent / "docs" / "samples"
PASSWORDS = {
    "admin": ("administrator", "admin-пароль-1"),
    "director": ("director", "director-пароль-2"),
    "archivist": ("archivist", "archivist-пароль-3"),
    "auditor": ("auditor", "auditor-пароль-4"),
    "locked": ("archivist", "locked-пароль-5"),
}
DIRECTOR_NAME = "Иванова Мария Петровна"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="нет /usr/bin/chromium")


@dataclass
class Site:
    """The served archive: its folder, storage roots and the service's address."""

    archive: Archive
    url: str
    batch_paths: list[Path]

    def log_entries(self) -> list[dict[str, Any]]:
        """The access log as the primary storage folder holds it (read independently)."""
        folder = self.archive.primary_root / "_access-log"
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]

    def secondary_entries(self) -> int:
        assert self.archive.secondary_root is not None
        return len(list((self.archive.secondary_root / "_access-log").glob("*.json")))


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    school_years: tuple[Year, Year],
    signed_pdf: SignedPdf,
) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("web")
    archive = Archive(tmp, school_years, signed_pdf)
    make_demo_keys(tmp / "keys", DIRECTOR_NAME, "Тестовая школа")
    archive.write_config(
        '[storage]\ntimezone = "Asia/Yekaterinburg"\n\n'
        '[signer]\nkind = "pkcs12"\npkcs12_file = "keys/director.p12"\n'
        'certificate = "keys/director.pem"\nmode = "director"\n'
    )
    batch = waiting_batch(tmp, school_years[0], DIRECTOR_NAME)
    add_users(
        archive.config,
        tmp,
        {n: r for n, (r, _) in PASSWORDS.items()},
        {n: p for n, (_, p) in PASSWORDS.items()},
    )
    with serve(archive.config, tmp) as url:
        yield Site(archive, url, batch)


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    """Chromium, started after the site (pyHanko runs its own event loop while the site is made)."""
    with playwright_sync.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


def login(browser: Any, site: Site, name: str) -> Any:
    """A new browser context logged in as ``name``; returns its page."""
    context = browser.new_context(accept_downloads=True, locale="ru-RU")
    page = context.new_page()
    page.goto(site.url + "/")
    page.get_by_label("Учётная запись").fill(name)
    page.get_by_label("Пароль").fill(PASSWORDS[name][1])
    with page.expect_navigation():
        page.get_by_role("button", name="Войти").click()
    page.wait_for_load_state()
    return page


def shot(page: Any, name: str) -> None:
    SAMPLES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SAMPLES / f"web-{name}.png"), full_page=True)


def nav(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("header nav a").all_inner_texts()]


def test_anonymous_visitor_is_sent_to_the_login_page(browser: Any, site: Site) -> None:
    page = browser.new_page()
    for path in ("/search/", "/sign/", "/access-log/", "/year/", "/users/"):
        page.goto(site.url + path)
        assert "/login/" in page.url
    shot(page, "login")
    page.close()


def test_each_role_logs_in_and_sees_only_its_pages(browser: Any, site: Site) -> None:
    expected = {
        "admin": ["Год", "Учётные записи"],
        "director": ["Год", "Подпись", "Поиск", "Журнал доступа"],
        "archivist": ["Поиск", "Уничтожение"],
        "auditor": ["Журнал доступа"],
    }
    for name, pages in expected.items():
        page = login(browser, site, name)
        assert nav(page) == pages, name
        assert name in page.locator("header .who").inner_text()
        page.context.close()


def test_administrator_sees_the_year_runs_the_checks_and_adds_an_account(
    browser: Any, site: Site
) -> None:
    page = login(browser, site, "admin")
    page.goto(site.url + "/year/")
    assert "2026/2027 учебный год" in page.content()  # the latest year in the archive
    assert "6 «А»" in page.content()
    page.goto(site.url + "/year/?year=2025/2026")
    assert "Срок архивирования: <strong>30.06.2026</strong>" in page.content()
    assert "5 «А»" in page.content()
    with page.expect_navigation():
        page.get_by_role("button", name="Проверить архив (verify)").click()
    for _ in range(600):
        if "Последняя проверка:" in page.content() and "Идёт проверка" not in page.content():
            break
        page.wait_for_timeout(200)
        page.reload()
    assert "архив в порядке" in page.content()
    with page.expect_navigation():
        page.get_by_role("button", name="Проверить настройки (check)").click()
    assert "Проверка настроек" in page.content()
    checks = page.locator("h2 + ul li").all_inner_texts()
    assert any("в порядке" in line for line in checks), checks
    shot(page, "year")
    page.goto(site.url + "/users/")
    page.get_by_label("Имя", exact=True).fill("secretary")
    page.get_by_label("Роль", exact=True).select_option("archivist")
    page.get_by_label("Пароль (не короче 10 знаков)").fill("короткий")
    with page.expect_navigation():
        page.get_by_role("button", name="Добавить").click()
    assert "пароль не подходит" in page.content()
    page.get_by_label("Имя", exact=True).fill("secretary")
    page.get_by_label("Роль", exact=True).select_option("archivist")
    page.get_by_label("Пароль (не короче 10 знаков)").fill("secretary-пароль-6")
    with page.expect_navigation():
        page.get_by_role("button", name="Добавить").click()
    assert "Учётная запись «secretary» добавлена" in page.content()
    shot(page, "users")
    page.context.close()
    listed = site.archive.run("users", "list")
    assert "secretary  архивист" in listed.stdout


def test_archivist_finds_semenov_downloads_and_issues_an_extract(
    browser: Any, site: Site, tmp_path: Path
) -> None:
    before = len(site.log_entries())
    page = login(browser, site, "archivist")
    page.get_by_label("Фамилия, имя или их часть").fill("семенов")
    page.get_by_label("Цель обращения").fill("запрос выписки, заявление № 7")
    with page.expect_navigation():
        page.get_by_role("button", name="Найти").click()
    link = page.get_by_role("link", name="Семёнов-Фёдоров Егор Борисович")
    assert link.count() == 1
    first = page.locator("main ol > li > a").first.inner_text()
    assert first == "Семёнов-Фёдоров Егор Борисович"  # a surname match before patronymics
    shot(page, "search")
    with page.expect_navigation():
        link.click()
    assert "Семёнов-Фёдоров Егор Борисович" in page.locator("h1").inner_text()
    shot(page, "student")
    rid = record("2025/2026", "c5a", "final_marks")
    with page.expect_navigation():
        page.get_by_role("link", name=rid).first.click()
    content = page.content()
    assert "в порядке (sha256 совпадает с описанием записи)" in content
    assert content.count("в порядке (sha256") == 2  # both copies
    assert "подписан" in content
    shot(page, "record")
    with page.expect_download() as waiting:
        page.get_by_role("button", name="Скачать документ").click()
    got = tmp_path / "document.pdf"
    waiting.value.save_as(got)
    stored = site.archive.payload(site.archive.primary_root, rid).read_bytes()
    assert hashlib.sha256(got.read_bytes()).hexdigest() == hashlib.sha256(stored).hexdigest()
    page.go_back()
    page.get_by_label("Цель выдачи выписки").fill("справка для перевода в другую школу")
    with page.expect_download() as waiting:
        page.get_by_role("button", name="Выдать выписку (PDF)").click()
    extract = tmp_path / "extract.pdf"
    waiting.value.save_as(extract)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(extract.read_bytes())).pages)
    assert "Семёнов-Фёдоров" in text
    page.context.close()

    entries = site.log_entries()[before:]
    assert [e["action"] for e in entries] == ["find", "find", "view", "get", "extract"]
    for entry in entries:
        assert entry["who"]["operator"] == "archivist"
        assert entry["who"]["role"] == "archivist"
        assert entry["who"]["via"] == "web"
        assert entry["who"]["client"] == "127.0.0.1"
        assert entry["at"].endswith("+05:00")  # the school's local time
    assert f"{SCHOOL}/{SEMENOV}" in entries[0]["what"]["found"]
    assert entries[0]["why"] == "запрос выписки, заявление № 7"
    assert entries[3]["what"] == {"record_id": rid}
    assert entries[3]["output"]["sha256"] == hashlib.sha256(stored).hexdigest()
    assert entries[4]["why"] == "справка для перевода в другую школу"
    assert entries[4]["output"]["sha256"] == hashlib.sha256(extract.read_bytes()).hexdigest()
    assert site.secondary_entries() == len(site.log_entries())


def test_a_search_with_a_typo_is_logged_and_the_purpose_is_required(
    browser: Any, site: Site
) -> None:
    page = login(browser, site, "archivist")
    before = len(site.log_entries())
    page.goto(site.url + "/search/?q=" + "семенов")
    assert "Укажите цель обращения" in page.content()
    assert len(site.log_entries()) == before  # nothing shown, nothing logged
    page.goto(site.url + f"/record/{record('2025/2026', 'c5a', 'final_marks')}/")
    assert page.url.endswith("/search/")  # no purpose yet in this session: back to the search
    page.context.close()

    page = login(browser, site, "archivist")
    page.get_by_label("Фамилия, имя или их часть").fill("Семёнав")
    page.get_by_label("Цель обращения").fill("запрос архивной справки")
    with page.expect_navigation():
        page.get_by_role("button", name="Найти").click()
    assert "Найдено: 0" in page.content()
    with page.expect_navigation():
        page.get_by_role("link", name="Семёнов", exact=True).click()  # the suggestion
    assert page.get_by_role("link", name="Семёнов-Фёдоров Егор Борисович").count() == 1
    typo, corrected = site.log_entries()[-2:]
    assert typo["what"]["found"] == [] and "Семёнов" in typo["what"]["suggested"]
    assert corrected["what"]["query"] == "Семёнов"
    assert corrected["why"] == "запрос архивной справки"
    page.context.close()


def test_director_reviews_and_approves(browser: Any, site: Site) -> None:
    before = len(site.log_entries())
    page = login(browser, site, "director")
    page.goto(site.url + "/sign/")
    content = page.content()
    waiting = len(site.batch_paths)
    assert waiting >= 1
    assert f"ждут подписи: <strong>{waiting}</strong>" in content
    assert DIRECTOR_NAME in content
    for path in site.batch_paths:
        assert hashlib.sha256(path.read_bytes()).hexdigest() in content
    shot(page, "sign")
    pdf = page.request.get(site.url + "/sign/document/1.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body() == site.batch_paths[0].read_bytes()
    image = page.request.get(site.url + "/sign/document/1/page-1.png")
    assert image.status == 200 and image.body()[:8] == b"\x89PNG\r\n\x1a\n"
    page.get_by_label("Я просмотрел(а) документы").check()
    page.get_by_label("Пароль файла ключа подписи").fill(DEMO_PASSPHRASE)
    with page.expect_navigation():
        page.get_by_role("button", name="Подписать", exact=True).click()
    assert f"Подписано документов: {waiting}" in page.content()
    shot(page, "signed")
    page.context.close()
    for path in site.batch_paths:
        signer = signer_of(path.read_bytes())
        assert signer is not None and DIRECTOR_NAME in signer.subject
    entries = site.log_entries()[before:]
    assert [e["action"] for e in entries] == ["view", "review"]
    assert entries[1]["output"]["decision"] == "confirmed"
    assert all(e["who"]["role"] == "director" for e in entries)


PROTECTED = {
    "/year/": "administrator director",
    "/users/": "administrator",
    "/sign/": "director",
    "/sign/document/1.pdf": "director",
    "/search/": "director archivist",
    f"/record/{record('2025/2026', 'c5a', 'final_marks')}/?purpose=x": "director archivist",
    f"/student/{SCHOOL}/{SEMENOV}/?purpose=x": "director archivist",
    "/access-log/": "director auditor",
    "/disposal/": "archivist",
}
PROTECTED_POSTS = {
    "/year/verify/": "administrator",
    "/year/check/": "administrator",
    "/sign/approve/": "director",
    "/sign/prepare/": "director",
    "/users/": "administrator",
    f"/record/{record('2025/2026', 'c5a', 'final_marks')}/download/": "director archivist",
    "/extract/": "archivist",
    "/disposal/": "archivist",
}


def test_every_role_gets_403_on_the_others_addresses(browser: Any, site: Site) -> None:
    before = len(site.log_entries())
    for name in ("admin", "director", "archivist", "auditor"):
        role = PASSWORDS[name][0]
        page = login(browser, site, name)
        token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
        for path, roles in PROTECTED.items():
            response = page.request.get(site.url + path, max_redirects=0)
            if role not in roles.split():
                assert response.status == 403, (name, path)
                assert "Нет доступа" in response.text()
        for path, roles in PROTECTED_POSTS.items():
            if role in roles.split():
                continue
            response = page.request.post(
                site.url + path,
                headers={"X-CSRFToken": token},
                form={"purpose": "проверка", "student": SEMENOV, "decision": "sign"},
            )
            assert response.status == 403, (name, path)
        if name == "auditor":
            page.goto(site.url + "/search/")
            shot(page, "forbidden")
        page.context.close()
    reads = [e for e in site.log_entries()[before:] if e["action"] != "find"]
    assert all(e["who"]["role"] in ("director", "archivist") for e in reads)


def test_archivist_drafts_a_disposal_act_and_nothing_is_deleted(browser: Any, site: Site) -> None:
    stored = sorted(p for p in site.archive.primary_root.rglob("*") if p.is_file())
    page = login(browser, site, "archivist")
    page.goto(site.url + "/disposal/")
    page.get_by_label("На дату").fill("2070-01-01")
    with page.expect_navigation():
        page.get_by_role("button", name="Составить проект акта").click()
    assert "Составлен проект акта №" in page.content()
    number = page.locator("tbody tr td:first-child").first.inner_text().strip()
    shot(page, "disposal")
    pdf = page.request.get(site.url + f"/disposal/{number}-draft.pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    page.context.close()
    after = sorted(p for p in site.archive.primary_root.rglob("*") if p.is_file())
    assert [p for p in stored if p not in after] == []


def test_post_without_the_csrf_token_is_refused(browser: Any, site: Site) -> None:
    page = login(browser, site, "archivist")
    before = len(site.log_entries())
    rid = record("2025/2026", "c5a", "final_marks")
    refused = page.request.post(
        site.url + f"/record/{rid}/download/", form={"purpose": "без токена"}
    )
    assert refused.status == 403
    assert "Форма не принята" in refused.text()
    assert len(site.log_entries()) == before
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    accepted = page.request.post(
        site.url + f"/record/{rid}/download/",
        headers={"X-CSRFToken": token},
        form={"purpose": "с токеном"},
    )
    assert accepted.status == 200
    assert accepted.headers["x-archiver-sha256"] == hashlib.sha256(accepted.body()).hexdigest()
    assert len(site.log_entries()) == before + 1
    page.context.close()


def test_auditor_sees_every_read_and_the_chain_verified(browser: Any, site: Site) -> None:
    entries = site.log_entries()
    page = login(browser, site, "auditor")
    page.goto(site.url + "/access-log/")
    content = page.content()
    assert "цепочка не нарушена, копии в хранилищах совпадают" in content
    assert f"Показано {len(entries)} из {len(entries)}" in content
    rows = page.locator("tbody tr td:first-child").all_inner_texts()
    assert sorted(int(r) for r in rows) == [e["seq"] for e in entries]
    shot(page, "access-log")
    page.get_by_label("Действие").select_option("extract")
    page.get_by_label("Учётная запись").fill("archivist")
    with page.expect_navigation():
        page.get_by_role("button", name="Показать").click()
    extracts = [e for e in entries if e["action"] == "extract"]
    assert f"Показано {len(extracts)} из {len(entries)}" in page.content()
    page.context.close()
    shown = site.archive.run("log", "show")
    assert shown.returncode == 0, shown.stderr
    assert "archivist (archivist, веб-служба, 127.0.0.1)" in shown.stdout
    assert "поиск обучающегося: query: семенов" in shown.stdout


def test_repeated_failed_logins_lock_the_account(browser: Any, site: Site) -> None:
    page = browser.new_page()
    for _ in range(5):
        page.goto(site.url + "/login/")
        page.get_by_label("Учётная запись").fill("locked")
        page.get_by_label("Пароль").fill("неверный-пароль")
        with page.expect_navigation():
            page.get_by_role("button", name="Войти").click()
    page.goto(site.url + "/login/")
    page.get_by_label("Учётная запись").fill("locked")
    page.get_by_label("Пароль").fill(PASSWORDS["locked"][1])
    with page.expect_navigation():
        page.get_by_role("button", name="Войти").click()
    assert "Вход временно закрыт" in page.content()
    page.goto(site.url + "/search/")
    assert "/login/" in page.url
    page.close()
    unlocked = site.archive.run("users", "unlock", "locked")
    assert unlocked.returncode == 0, unlocked.stderr
    again = login(browser, site, "locked")
    assert nav(again) == ["Поиск", "Уничтожение"]
    again.context.close()


def test_users_add_refuses_a_weak_password_and_an_unknown_role(site: Site, tmp_path: Path) -> None:
    weak = tmp_path / "weak.pass"
    weak.write_text("12345678901\n", encoding="utf-8")
    result = site.archive.run(
        "users", "add", "x", "--role", "auditor", "--password-file", str(weak)
    )
    assert result.returncode == 2
    assert "пароль не подходит" in result.stderr
    result = run_cli("users", "add", "x", "--role", "root", "--config", str(site.archive.config))
    assert result.returncode == 2
