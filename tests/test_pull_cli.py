"""``archiver pull`` and ``archiver year-end --from`` as processes, against the fake systems."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from archiver.demo.keys import make_demo_keys
from archiver.init_config import DEMO_SIGNER
from tests.fixtures.cli import CliResult, run_cli
from tests.fixtures.journal_systems import TOKEN, Expected, FakeSystem

SOURCE = """
[source.school]
id = "school-1"
short_name = "МБОУ «Школа № 1»"
full_name = "Муниципальное бюджетное общеобразовательное учреждение «Школа № 1»"
director = "Смирнова Анна Петровна"

[source]
timezone = "Asia/Yekaterinburg"

[source.epos]
base_url = "{epos}"
profile_id = "901"
retries = 1

[source.dnevnik]
base_url = "{dnevnik}/v2"
school_id = "1000"
retries = 1
class_teachers = {{ "601" = "3001" }}
"""


def setup(tmp: Path, epos: FakeSystem, dnevnik: FakeSystem, extra: str = "") -> Path:
    (tmp / "token.txt").write_text(TOKEN + "\n", encoding="utf-8")
    (tmp / "archiver.toml").write_text(
        extra + SOURCE.format(epos=epos.url, dnevnik=dnevnik.url), encoding="utf-8"
    )
    return tmp


def pull(folder: Path, system: str, *extra: str) -> CliResult:
    return run_cli(
        "pull", system, "--config", "archiver.toml", "--out", "out/export.json",
        "--token-file", "token.txt", *extra, cwd=folder,
    )  # fmt: skip


def pdf_text(path: Path) -> str:
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True)
    if done.returncode == 0:
        return done.stdout
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


DAY = re.compile(r"^\d\d\.\d\d$")
WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)


def grid_cells(pdf: Path, students: set[str]) -> set[tuple[str, str, str]]:
    """(pupil, dd.mm, value) of every filled date cell of the grids, read by word positions.

    ``pdftotext -bbox`` gives each word's box; a value goes under the column whose
    header (a date, or the period or year mark) has the nearest centre. Only date
    columns are kept.
    """
    html = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    cells: set[tuple[str, str, str]] = set()
    for page in html.split("<page ")[1:]:
        found = sorted(
            ((float(y0) + float(y1)) / 2, float(x0), float(x1), word)
            for x0, y0, x1, y1, word in WORD.findall(page)
        )
        lines: list[list[tuple[float, float, str]]] = []
        last = -100.0
        for middle, x0, x1, word in found:  # words within 4 pt of height: one line
            if middle - last > 4:
                lines.append([])
            lines[-1].append((x0, x1, word))
            last = middle
        columns: list[tuple[float, str]] = []
        for words in lines:
            words.sort()
            texts = [w[2] for w in words]
            if "Обучающийся" in texts:
                # every header word right of the names is a column: a date, or a period or
                # year mark column (kept unnamed, so its values are not taken for a date's)
                after = words[texts.index("Обучающийся") + 1 :]
                columns = [((w[0] + w[1]) / 2, w[2] if DAY.match(w[2]) else "") for w in after]
                continue
            line = " ".join(texts)
            name = next((s for s in students if f" {s} " in f" {line} "), None)
            if name is None or not any(label for _x, label in columns):
                continue
            end = next(
                words[i + len(name.split()) - 1][1]
                for i in range(len(words))
                if " ".join(texts[i : i + len(name.split())]) == name
            )
            for x0, x1, word in words:
                if x0 > end:
                    label = min(columns, key=lambda c: abs(c[0] - (x0 + x1) / 2))[1]
                    if label:
                        cells.add((name, label, word.replace("&amp;", "&")))
    return cells


@pytest.mark.parametrize("system", ["epos", "dnevnik"])
def test_pull_validate_render_shows_the_fixtures(
    system: str,
    tmp_path: Path,
    fake_epos: tuple[FakeSystem, Expected],
    fake_dnevnik: tuple[FakeSystem, Expected],
) -> None:
    folder = setup(tmp_path, fake_epos[0], fake_dnevnik[0])
    expected = {"epos": fake_epos[1], "dnevnik": fake_dnevnik[1]}[system]
    done = pull(folder, system)
    assert done.returncode == 0, done.stderr
    assert "Выгрузка записана" in done.stdout
    assert "Нет в системе: решения педсовета" in done.stderr
    checked = run_cli("validate", "out/export.json", cwd=folder)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    rendered = run_cli("render", "out/export.json", "--out", "docs", "--workers", "1", cwd=folder)
    assert rendered.returncode == 0, rendered.stderr
    journal = next((folder / "docs").rglob("*class-journal.pdf"))
    text = pdf_text(journal)
    flat = " ".join(text.split())
    title = " ".join(PdfReader(journal).pages[0].extract_text().split())
    doc = json.loads((folder / "out" / "export.json").read_bytes())
    system_name = {"epos": "ЭПОС.Школа", "dnevnik": "Дневник.ру"}[system]
    assert system_name in title and "выгрузка от" in title
    pulled = doc["exported_at"][:10]
    day = f"{int(pulled[8:10])}"
    assert day in title and pulled[:4] in title
    for topic in expected.topics:
        assert topic in flat, topic
    for student in expected.students:
        assert student in flat, student
    # the grids' cells, read back by column, are exactly the fixtures' marks and absences
    wanted = {(n, f"{d[8:10]}.{d[5:7]}", v) for n, d, v in expected.marks | expected.absences}
    assert grid_cells(journal, expected.students) == wanted
    assert f"замена: {expected.substitute}" in flat


def test_expired_token_is_one_message_and_nothing_written(
    tmp_path: Path,
    fake_epos: tuple[FakeSystem, Expected],
    fake_dnevnik: tuple[FakeSystem, Expected],
) -> None:
    folder = setup(tmp_path, fake_epos[0], fake_dnevnik[0])
    fake_epos[0].faults.token = True
    done = pull(folder, "epos")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Ошибка: ЭПОС.Школа")
    assert "токен просрочен" in lines[0]
    assert not (folder / "out").exists() or not any((folder / "out").iterdir())
    fake_epos[0].restart()
    assert pull(folder, "epos").returncode == 0


def test_server_gone_mid_pull_exits_70_and_rerun_completes(
    tmp_path: Path,
    fake_epos: tuple[FakeSystem, Expected],
    fake_dnevnik: tuple[FakeSystem, Expected],
) -> None:
    folder = setup(tmp_path, fake_epos[0], fake_dnevnik[0])
    fake_dnevnik[0].faults.die_after = 4
    done = pull(folder, "dnevnik")
    assert done.returncode == 70, done.stderr
    assert "Ошибка: Дневник.ру: запрос" in done.stderr
    assert not (folder / "out").exists() or not any((folder / "out").iterdir())
    fake_dnevnik[0].restart()
    again = pull(folder, "dnevnik")
    assert again.returncode == 0, again.stderr


def test_no_source_section_is_a_settings_message(tmp_path: Path) -> None:
    (tmp_path / "archiver.toml").write_text("", encoding="utf-8")
    (tmp_path / "token.txt").write_text(TOKEN, encoding="utf-8")
    done = pull(tmp_path, "epos")
    assert done.returncode == 2
    assert "нет раздела [source]" in done.stderr


def test_year_end_from_epos_archives_the_pulled_year(
    tmp_path: Path,
    fake_epos: tuple[FakeSystem, Expected],
    fake_dnevnik: tuple[FakeSystem, Expected],
) -> None:
    make_demo_keys(tmp_path / "keys", "Смирнова Анна Петровна", "МБОУ «Школа № 1»")
    (tmp_path / "room-1").mkdir()
    (tmp_path / "room-2").mkdir()
    storage = (
        '[archive]\nstate_dir = "state"\n\n'
        '[storage.primary]\nkind = "local"\npath = "room-1"\n\n'
        '[storage.secondary]\nkind = "local"\npath = "room-2"\n\n'
        f"{DEMO_SIGNER}\n"
    )
    folder = setup(tmp_path, fake_epos[0], fake_dnevnik[0], storage)
    env = {"ARCHIVER_SIGNER_PASSPHRASE": "demo"}
    args = ("year-end", "--from", "epos", "--token-file", "token.txt", "--config", "archiver.toml")
    fake_epos[0].faults.die_after = 3
    failed = run_cli(*args, cwd=folder, env=env, timeout=600)
    assert failed.returncode == 70, failed.stderr
    assert not (folder / "room-1").exists() or not any((folder / "room-1").iterdir())
    fake_epos[0].restart()
    done = run_cli(*args, cwd=folder, env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    pulls = list((folder / "state" / "pulls").glob("epos-*.json"))
    assert len(pulls) == 1
    stored = json.loads(next((folder / "state" / "year-end").glob("*/export.json")).read_bytes())
    assert stored["provenance"]["importer"] == "epos"
    assert any((folder / "room-1").rglob("*class-journal*"))
    # a rerun goes on from the same pull (nothing new to do) instead of refusing
    again = run_cli(*args, cwd=folder, env=env, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "работа продолжается по ней" in again.stderr
    shutil.rmtree(folder / "docs", ignore_errors=True)


def test_year_end_needs_a_source_or_a_system(tmp_path: Path) -> None:
    (tmp_path / "room-1").mkdir()
    (tmp_path / "room-2").mkdir()
    (tmp_path / "archiver.toml").write_text(
        '[storage.primary]\nkind = "local"\npath = "room-1"\n\n'
        '[storage.secondary]\nkind = "local"\npath = "room-2"\n',
        encoding="utf-8",
    )
    neither = run_cli("year-end", "--config", "archiver.toml", cwd=tmp_path)
    assert neither.returncode == 2
    assert "--source ФАЙЛ|URL" in neither.stderr and "--from epos" in neither.stderr
    both = run_cli(
        "year-end", "--source", "x.json", "--from", "epos", "--config", "archiver.toml",
        cwd=tmp_path,
    )  # fmt: skip
    assert both.returncode == 2 and "либо --source, либо --from" in both.stderr
    no_source = run_cli("year-end", "--from", "epos", "--config", "archiver.toml", cwd=tmp_path)
    assert no_source.returncode == 2 and "нет раздела [source]" in no_source.stderr
    assert not any((tmp_path / "room-1").iterdir())
