from __future__ import annotations

from pathlib import Path

import pytest

from archiver.errors import ExitCode
from archiver.init_config import write_config
from archiver.settings import (
    ConfigError,
    LocalLocation,
    Pkcs11Signer,
    Pkcs12Signer,
    load_settings,
)
from tests.fixtures.cli import run_cli


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "archiver.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_pkcs12_signer_and_defaults(tmp_path: Path) -> None:
    cfg = load_settings(
        write(
            tmp_path,
            '[signer]\nkind = "pkcs12"\npkcs12_file = "keys/director.p12"\n'
            '[signature]\ntsa_url = "http://127.0.0.1:9/tsa"\ntrust_roots = ["keys/root.pem"]\n',
        )
    )
    signer = cfg.signature.signer
    assert isinstance(signer, Pkcs12Signer)
    assert signer.path == tmp_path / "keys" / "director.p12"
    assert signer.passphrase_env == "ARCHIVER_SIGNER_PASSPHRASE"
    assert cfg.signature.level == "B-LTA"  # default when a TSA is configured
    assert cfg.signature.trust_roots == (tmp_path / "keys" / "root.pem",)


def test_pkcs11_signer_without_tsa_is_b_b(tmp_path: Path) -> None:
    cfg = load_settings(
        write(
            tmp_path,
            '[signer]\nkind = "pkcs11"\nmodule = "/usr/lib/softhsm/libsofthsm2.so"\n'
            'token_label = "t"\nkey_label = "k"\ncert_label = "c"\n',
        )
    )
    assert isinstance(cfg.signature.signer, Pkcs11Signer)
    assert cfg.signature.level == "B-B" and cfg.signature.tsa_url is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[signer]\nkind = "pkcs12"\npkcs12_file = "a.p12"\npassphrase = "123"\n',
            r"archiver.toml: signer.passphrase: пароли и PIN-коды не хранятся",
        ),
        ('[signer]\nkind = "pkcs12"\n', r"signer.pkcs12_file: обязательный параметр не задан"),
        (
            '[signer]\nkind = "gost"\n',
            r'signer.kind: допустимо "pkcs12", "pkcs11" или "command", а не "gost"',
        ),
        (
            '[signer]\nkind = "command"\ncertificate = "d.pem"\nsign_command = ["cryptcp", "{data}"]\n',
            r"signer.sign_command: в команде нет подстановки \{signature\}",
        ),
        (
            '[signer]\nkind = "command"\ncertificate = "d.pem"\nsign_command = ["x"]\npin = "1"\n',
            r"signer.pin: пароли и PIN-коды не хранятся",
        ),
        (
            '[signer]\nkind = "pkcs12"\npkcs12_file = "a"\nmode = "admin"\n',
            r"signer.mode: допустимо",
        ),
        ('[signature]\nlevel = "B-LTA"\n', r"signature.tsa_url: для уровня B-LTA нужен"),
        ('[signature]\nlevel = "LTV"\n', r"signature.level: допустимо B-B, B-T, B-LT, B-LTA"),
        ("[signer\n", "ошибка в файле настроек"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="не найден"):
        load_settings(tmp_path / "nope.toml")


def test_every_problem_is_one_line_naming_the_key_path(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[archive]\nstate = "x"\n'
        '[storage.primary]\nkind = "local"\npath = "a"\n'
        '[storage.secondary]\nkind = "s3"\nbucket = 5\nregion = ""\n'
        '[signature]\ntrust_roots = "root.pem"\n',
    )
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert error.value.exit_code == ExitCode.BAD_INPUT
    assert str(error.value).splitlines() == [
        f"{path}: archive.state: неизвестный параметр; допустимы: max_export_mb, state_dir",
        f"{path}: storage.secondary.bucket: ожидалась строка, а не число 5",
        f"{path}: storage.secondary.region: ожидалась непустая строка",
        f"{path}: signature.trust_roots: ожидался список, а не строка " + '"root.pem"',
    ]


def test_paths_relative_to_the_file_and_documents_folders(tmp_path: Path) -> None:
    settings = load_settings(
        write(tmp_path, '[documents]\ntemplates = "own/templates"\nretention_policies = "/p"\n')
    )
    assert settings.documents.templates == tmp_path / "own" / "templates"
    assert settings.documents.retention_policies == Path("/p")
    assert settings.working_dir(create=False) == tmp_path / "state"
    assert settings.storage is None and settings.signature.signer is None
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize("demo", [False, True])
def test_the_written_settings_file_loads(tmp_path: Path, demo: bool) -> None:
    settings = load_settings(write_config(tmp_path, demo=demo))
    storage = settings.require_storage()
    assert storage.primary == LocalLocation(path=tmp_path / "archive-1")
    assert storage.secondary == LocalLocation(path=tmp_path / "archive-2")
    assert isinstance(settings.signature.signer, Pkcs12Signer) is demo


def test_a_wrong_key_stops_the_command_before_it_writes(tmp_path: Path) -> None:
    write(tmp_path, '[storage.primary]\nkind = "local"\npath = "a"\nfolder = "b"\n')
    result = run_cli("verify", "--config", str(tmp_path / "archiver.toml"), cwd=tmp_path)
    assert result.returncode == ExitCode.BAD_INPUT
    assert "storage.primary.folder: неизвестный параметр" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archiver.toml"]


def test_config_from_the_environment_the_root_or_the_command(tmp_path: Path) -> None:
    broken = tmp_path / "broken" / "archiver.toml"
    broken.parent.mkdir()
    broken.write_text("[storage]\nfoo = 1\n", encoding="utf-8")
    good = write_config(tmp_path / "good")
    env = {"ARCHIVER_CONFIG": str(broken)}
    from_env = run_cli("status", cwd=tmp_path, env=env)
    assert from_env.returncode == ExitCode.BAD_INPUT and f"{broken}: storage.foo" in from_env.stderr
    for args in (["--config", str(good), "status"], ["status", "--config", str(good)]):
        result = run_cli(*args, cwd=tmp_path, env=env)
        assert result.returncode == ExitCode.BAD_INPUT and "ещё не запускалось" in result.stderr, (
            args
        )
    root_then_command = run_cli(
        "--config", str(good), "status", "--config", str(broken), cwd=tmp_path, env=env
    )
    assert f"{broken}: storage.foo" in root_then_command.stderr


def test_a_schools_own_policies_are_used(tmp_path: Path) -> None:
    write(tmp_path, '[documents]\nretention_policies = "policies"\n')
    export = Path(__file__).parent / "data" / "spec_export.json"
    out = tmp_path / "out"
    config = tmp_path / "archiver.toml"
    result = run_cli(
        "render", str(export), "--out", str(out), "--workers", "1", "--config", str(config)
    )
    assert result.returncode == ExitCode.BAD_INPUT, result.stderr
    assert f"файл {tmp_path / 'policies' / 'class_journal.toml'} не найден" in result.stderr


def test_a_relative_settings_path_keeps_its_folder_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "demo").mkdir()
    write(tmp_path / "demo", '[documents]\ntemplates = "t"\n')
    monkeypatch.chdir(tmp_path)
    settings = load_settings(Path("demo/archiver.toml"))
    assert settings.working_dir(create=False) == Path("demo/state")
    assert settings.documents.templates == Path("demo/t")
