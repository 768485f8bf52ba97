"""The importers against fake journal systems on 127.0.0.1: contents, provenance, faults."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from archiver.errors import ExitCode
from archiver.model import JournalExport
from archiver.settings import SourceSettings
from archiver.sources.export_v1 import read_export
from archiver.sources.importers import run_pull
from archiver.sources.importers.base import PullError, ShapeChanged
from tests.fixtures.journal_systems import TOKEN, Expected, FakeSystem

SCHOOL = {
    "id": "school-1",
    "short_name": "МБОУ «Школа № 1»",
    "full_name": "Муниципальное бюджетное общеобразовательное учреждение «Школа № 1»",
    "director": "Смирнова Анна Петровна",
}


def source(fake: FakeSystem, system: str, **extra: Any) -> SourceSettings:
    options: dict[str, Any] = {
        "epos": {"base_url": fake.url, "profile_id": "901", "retries": 2},
        "dnevnik": {
            "base_url": fake.url + "/v2",
            "school_id": "1000",
            "class_teachers": {"601": "3001"},
            "retries": 2,
        },
    }[system]
    return SourceSettings.model_validate(
        {"school": SCHOOL, "timezone": "Asia/Yekaterinburg", system: options, **extra}
    )


@pytest.fixture(params=["epos", "dnevnik"])
def system(
    request: pytest.FixtureRequest,
) -> tuple[str, FakeSystem, Expected]:
    name = request.param
    fake, expected = request.getfixturevalue(f"fake_{name}")
    return name, fake, expected


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def pull(
    name: str, fake: FakeSystem, out: Path, sleep: Sleeps | None = None, **options: Any
) -> Any:
    return run_pull(
        name, source(fake, name), TOKEN, out, sleep=Sleeps() if sleep is None else sleep, **options
    )


def contents(export: JournalExport) -> Expected:
    """The pulled export's marks, absences and topics in the fixtures' terms."""
    got = Expected()
    for c in export.classes:
        names = {s.id: s.full_name for s in c.students}
        got.students |= set(names.values())
        for course in c.courses:
            dates = {x.id: x.date.isoformat() for x in course.lessons}
            got.topics |= {x.topic for x in course.lessons}
            got.marks |= {(names[m.student], dates[m.lesson], m.value) for m in course.marks}
            got.absences |= {(names[a.student], dates[a.lesson], a.code) for a in course.attendance}
    return got


def nothing_written(folder: Path) -> bool:
    return not any(folder.iterdir())


def test_pull_gives_the_fixtures_contents(
    system: tuple[str, FakeSystem, Expected], tmp_path: Path
) -> None:
    name, fake, expected = system
    out = tmp_path / "export.json"
    outcome = pull(name, fake, out)
    # the file written validates on its own, with no errors
    report = read_export(out)
    assert report.ok and report.export is not None, [str(e) for e in report.errors]
    got = contents(report.export)
    assert got.marks == expected.marks
    assert got.absences == expected.absences
    assert got.topics == expected.topics
    assert got.students == expected.students
    cls = report.export.classes[0]
    leaver = next(s for s in cls.students if s.full_name == expected.leaver)
    substitutes = {
        report.export.staff_by_id[x.teacher].name
        for k in cls.courses
        for x in k.lessons
        if x.teacher is not None
    }
    assert substitutes == {expected.substitute}
    # unknown codes kept verbatim and warned about, never dropped
    unknown = {"epos": "9", "dnevnik": "Excused?"}[name]
    assert any(a[2] == unknown for a in got.absences)
    assert any(f"«{unknown}»" in w for w in outcome.notes.warnings)
    assert any(f'"{unknown}"' in str(w) for w in report.warnings)
    if name == "epos":
        assert any(m[2] == "5-" for m in got.marks)
        assert any("«5-»" in w for w in outcome.notes.warnings)
        assert any('"5-"' in str(w) for w in report.warnings)
    assert any("педсовета" in m for m in outcome.notes.missing)
    if name == "epos":
        assert leaver.left is not None and leaver.left.isoformat() == "2026-02-12"
        assert outcome.notes.counts["удалённые отметки (не печатаются)"] == 1
        assert outcome.notes.counts["заменённые отметки (печатается новая)"] == 1
        assert any("page=2" in r for r in fake.requests)  # the lists came in pages
    else:
        assert any("дата выбытия" in m for m in outcome.notes.missing)
    assert report.export.source_system == {"epos": "ЭПОС.Школа", "dnevnik": "Дневник.ру"}[name]


def test_provenance_records_every_response(
    system: tuple[str, FakeSystem, Expected], tmp_path: Path
) -> None:
    name, fake, _expected = system
    out = tmp_path / "export.json"
    outcome = pull(name, fake, out)
    doc = json.loads(out.read_bytes())
    prov = doc["provenance"]
    assert prov["importer"] == name and prov["base_url"].startswith(fake.url)
    assert prov["pulled_at"] == doc["exported_at"]
    assert prov["account"]["name"]
    assert len(prov["responses"]) == len(fake.requests) == outcome.requests
    folder = tmp_path / prov["responses_folder"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == prov["responses"]
    for entry in prov["responses"]:
        packed = (folder / entry["file"]).read_bytes()
        assert hashlib.sha256(packed).hexdigest() == entry["gzip_sha256"]
        assert hashlib.sha256(gzip.decompress(packed)).hexdigest() == entry["sha256"]
        assert entry["route"] in prov["routes"]
    # the token never lands in what is written
    assert TOKEN not in out.read_text(encoding="utf-8")
    assert not list(tmp_path.glob(".*"))  # no staging left behind


def test_school_mapping_table_overrides_the_builtin(
    fake_epos: tuple[FakeSystem, Expected], tmp_path: Path
) -> None:
    fake, _expected = fake_epos
    own = tmp_path / "mappings"
    own.mkdir()
    (own / "epos.toml").write_text('[attendance]\n"9" = "у"\n', encoding="utf-8")
    settings = source(fake, "epos", mappings=str(own))
    outcome = run_pull("epos", settings, TOKEN, tmp_path / "e.json", sleep=Sleeps())
    assert not any("«9»" in w for w in outcome.notes.warnings)
    doc = json.loads((tmp_path / "e.json").read_bytes())
    codes = {a["code"] for k in doc["classes"][0]["courses"] for a in k["attendance"]}
    assert codes == {"б", "п", "оп", "у"}


@pytest.mark.parametrize(
    ("fault", "code", "words"),
    [
        ({"token": True}, ExitCode.BAD_INPUT, ["(401)", "токен просрочен", "заново"]),
        ({"forbidden": True}, ExitCode.BAD_INPUT, ["(403)", "нет прав"]),
        ({"throttle": 100, "retry_after": "0"}, ExitCode.FAILURE, ["(429)", "Retry-After"]),
        ({"die_after": 6}, ExitCode.FAILURE, ["не выполнен", "Ничего не записано"]),
    ],
)
def test_fault_is_one_clear_message_and_a_rerun_completes(
    system: tuple[str, FakeSystem, Expected],
    tmp_path: Path,
    fault: dict[str, Any],
    code: ExitCode,
    words: list[str],
) -> None:
    name, fake, _expected = system
    for key, value in fault.items():
        setattr(fake.faults, key, value)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(PullError) as caught:
        pull(name, fake, out_dir / "export.json")
    message = str(caught.value)
    assert caught.value.exit_code == code
    for word in words:
        assert word in message, message
    assert TOKEN not in message
    assert nothing_written(out_dir)
    fake.restart()
    pull(name, fake, out_dir / "export.json")
    assert read_export(out_dir / "export.json").ok


def test_throttle_waits_as_told_and_goes_on(
    fake_epos: tuple[FakeSystem, Expected], tmp_path: Path
) -> None:
    fake, _expected = fake_epos
    fake.faults.throttle = 2
    fake.faults.retry_after = "7"
    sleeps = Sleeps()
    pull("epos", fake, tmp_path / "e.json", sleep=sleeps)
    assert sleeps == [7.0, 7.0]
    assert read_export(tmp_path / "e.json").ok


def test_renamed_field_names_the_field_and_route_and_capture_keeps_the_answers(
    system: tuple[str, FakeSystem, Expected], tmp_path: Path
) -> None:
    name, fake, expected = system
    route, old, new, field = {
        "epos": (
            "/api/ej/core/teacher/v1/marks",
            "schedule_lesson_id",
            "lesson_id",
            "schedule_lesson_id",
        ),
        "dnevnik": ("/v2/edu-groups/601/persons", "lastName", "surname", "lastName"),
    }[name]
    fake.faults.rename = (route, old, new)
    out_dir, capture = tmp_path / "out", tmp_path / "capture"
    out_dir.mkdir()
    with pytest.raises(ShapeChanged) as caught:
        pull(name, fake, out_dir / "export.json", capture=capture)
    message = str(caught.value)
    assert "изменил вид" in message and field in message and "--capture" in message
    assert route.removeprefix("/v2").split("/")[-1] in message
    assert nothing_written(out_dir)
    # the captured answers hold the renamed field, and no pupil's name
    index = json.loads((capture / "index.json").read_text(encoding="utf-8"))
    assert len(index) == len(fake.requests)
    captured = "".join(p.read_text(encoding="utf-8") for p in capture.glob("0*.json"))
    assert f'"{new}"' in captured
    for student in expected.students:
        assert student.split()[0] not in captured


def test_settings_refuse_a_token_and_name_a_missing_key(tmp_path: Path) -> None:
    from archiver.settings import ConfigError, load_settings

    path = tmp_path / "archiver.toml"
    school = "".join(f'{k} = "{v}"\n' for k, v in SCHOOL.items())
    path.write_text(
        f'[source.school]\n{school}\n[source.epos]\nbase_url = "https://x.example"\n'
        'token = "abc"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    text = str(caught.value)
    assert "source.epos.token: токен не хранится в файле настроек" in text
    assert "source.epos.profile_id: обязательный параметр не задан" in text


def test_demo_school_round_trips_through_a_fake_epos(tmp_path: Path) -> None:
    """A generated school served as ЭПОС.Школа comes back with the same contents."""
    from archiver.demo.generator import generate_export
    from tests.fixtures.journal_systems import epos_from_export, journal_facts

    original = generate_export(classes=6)
    fake = FakeSystem(epos_from_export(original), "Auth-Token", paged=True, page_cap=100)
    try:
        out = tmp_path / "export.json"
        pull("epos", fake, out)
    finally:
        fake.stop()
    pulled = json.loads(out.read_bytes())
    before, after = journal_facts(original), journal_facts(pulled)
    for kind, facts in before.items():
        assert facts, kind
        assert after[kind] == facts, kind
