"""archiver as a user installs it: sdist and wheel, ``pip install .``, and the demo run from the wheel.

The distributions are built with ``python -m build`` (sdist, then the wheel from the
sdist) from a clean copy of the checkout (what git tracks or would track), so nothing
left in ``build/`` by an earlier in-tree build can slip in. Each install goes into a fresh virtualenv that sees this
environment's site-packages through a ``.pth`` file: the dependencies resolve without
downloading anything, while ``archiver`` itself comes only from what was installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Not copied for the build when the checkout is not a git work tree: environments, caches,
# earlier builds, demo runs, a school's keys.
SKIP_AT_ROOT = {".git", ".venv", "build", "dist", "archiver-demo", "demo", "state", "keys"}
SKIP_ANYWHERE = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


@dataclass(frozen=True)
class Dists:
    source: Path
    sdist: Path
    wheel: Path


def _ignore(folder: str, names: list[str]) -> set[str]:
    at_root = Path(folder) == ROOT
    return {
        n
        for n in names
        if n in SKIP_ANYWHERE or n.endswith(".egg-info") or (at_root and n in SKIP_AT_ROOT)
    }


def _copy_checkout(to: Path) -> None:
    """The files a clone would have, plus uncommitted ones; never what .gitignore keeps out."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        shutil.copytree(ROOT, to, ignore=_ignore)
        return
    for name in filter(None, listed.decode().split("\0")):
        path = ROOT / name
        if path.is_file():  # not a file deleted but not yet committed
            (to / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, to / name)


def _run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """A clean copy of the checkout, its sdist and the wheel built from that sdist."""
    base = tmp_path_factory.mktemp("packaging")
    source = base / "archiver"
    _copy_checkout(source)
    out = base / "dist"
    _run(sys.executable, "-m", "build", "--outdir", out, source)
    (sdist,) = out.glob("archiver-*.tar.gz")
    (wheel,) = out.glob("archiver-*.whl")
    return Dists(source, sdist, wheel)


def _venv(folder: Path) -> Path:
    """A virtualenv whose only extra path is this environment's site-packages; its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", folder], check=True)
    python = folder / "bin" / "python"
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(_run(python, "-c", code).strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "archiver-test-deps.pth").write_text(
        "".join(f"{p}\n" for p in sorted(ours)), encoding="utf-8"
    )
    return python


def _install(python: Path, what: Path) -> None:
    """``pip install WHAT`` into the virtualenv of ``python`` (not editable)."""
    _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-warn-script-location",
        what,
    )


def _installed_files(python: Path) -> set[str]:
    """The files of the ``archiver`` package in that virtualenv, relative to site-packages."""
    code = (
        "import archiver, pathlib; p = pathlib.Path(archiver.__file__).parent;"
        "print('\\n'.join(sorted(str(f.relative_to(p.parent)) for f in p.rglob('*')"
        " if f.is_file() and '__pycache__' not in f.parts)))"
    )
    return set(_run(python, "-c", code, cwd=python.parent, env=_clean_env()).split())


def _clean_env() -> dict[str, str]:
    """The environment without archiver's overrides and without a path into the checkout."""
    return {
        k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_") and k != "PYTHONPATH"
    }


def test_wheel_holds_the_code_templates_policies_and_schema(dists: Dists) -> None:
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = set(wheel.namelist())
    expected = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "archiver").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    for folder in ("templates", "retention_policies"):
        files = [p for p in (ROOT / folder).rglob("*") if p.is_file()]
        assert files, folder
        expected |= {f"archiver/data/{p.relative_to(ROOT)}" for p in files}
    assert expected - names == set()
    assert "archiver/data/templates/base.css" in names
    assert "archiver/data/retention_policies/class_journal.toml" in names
    assert "archiver/data/schemas/journal-export-v1.schema.json" in names
    assert not {n for n in names if n.startswith(("templates/", "retention_policies/"))}


def test_sdist_carries_the_top_level_sources(dists: Dists) -> None:
    with tarfile.open(dists.sdist) as sdist:
        members = {m.name.split("/", 1)[1]: m for m in sdist.getmembers() if "/" in m.name}
    for name in ("setup.py", "pyproject.toml", "templates/base.css", "templates/course.typ"):
        assert name in members and members[name].isfile(), name
    assert "retention_policies/class_journal.toml" in members
    assert not [m for m in members.values() if m.issym() or m.islnk()]


def test_pip_install_dot_installs_what_the_wheel_holds(dists: Dists, tmp_path: Path) -> None:
    from_source = _venv(tmp_path / "from-source")
    _install(from_source, dists.source)
    from_wheel = _venv(tmp_path / "from-wheel")
    _install(from_wheel, dists.wheel)
    installed = _installed_files(from_source)
    assert "archiver/data/templates/title.typ" in installed
    assert installed == _installed_files(from_wheel)


def test_demo_runs_from_the_wheel_in_an_empty_folder(dists: Dists, tmp_path: Path) -> None:
    """The whole year-end run of ``archiver demo`` with nothing but the installed wheel."""
    python = _venv(tmp_path / "venv")
    _install(python, dists.wheel)
    here = tmp_path / "empty"
    here.mkdir()
    env = _clean_env()
    located = _run(
        python, "-c", "from archiver.data import builtin; print(builtin('templates'))", cwd=here,
        env=env,
    )  # fmt: skip
    assert Path(located.strip()).is_relative_to(tmp_path / "venv"), located

    result = subprocess.run(
        [str(python.parent / "archiver"), "demo"],
        capture_output=True,
        text=True,
        cwd=here,
        env=env,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Итог: всё сделано и проверено." in result.stdout

    demo = here / "archiver-demo"
    (report_file,) = demo.glob("state/year-end/*/year-end-report.json")
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["ok"] is True
    documents = [d for c in report["classes"] for d in c["documents"]]
    kinds = {d["kind"] for d in documents}
    assert {"class_journal", "final_marks"} <= kinds
    for document in documents:
        assert document["signed"] and document["signature_ok"], document
        assert (here / document["path"]).is_file(), document["path"]
    for room in ("room-1", "room-2"):
        stored = [p for p in (demo / "storage" / room).rglob("*.pdf") if p.is_file()]
        assert len(stored) >= len(documents), room


def test_builtin_folders_hold_the_data_and_the_environment_overrides_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from archiver.data import FOLDERS, builtin
    from archiver.render.engines import templates_dir
    from archiver.retention import load_policy, policies_dir

    for name in FOLDERS:
        assert builtin(name).is_dir(), name
    assert (builtin("templates") / "base.css").is_file()
    assert (builtin("retention_policies") / "class_journal.toml").is_file()
    monkeypatch.delenv("ARCHIVER_TEMPLATES", raising=False)
    monkeypatch.delenv("ARCHIVER_POLICIES", raising=False)
    assert templates_dir() == builtin("templates")
    assert policies_dir() == builtin("retention_policies")

    own = tmp_path / "policies"
    own.mkdir()
    (own / "final_marks.toml").write_text("years = 75\n", encoding="utf-8")
    monkeypatch.setenv("ARCHIVER_TEMPLATES", str(tmp_path / "templates"))
    monkeypatch.setenv("ARCHIVER_POLICIES", str(own))
    assert templates_dir() == tmp_path / "templates"
    assert load_policy("final_marks").years == 75
    assert load_policy("final_marks", builtin("retention_policies")).years == 25  # explicit wins
