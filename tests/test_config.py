from __future__ import annotations

from pathlib import Path

import pytest

from archiver.config import ConfigError, Pkcs11Signer, Pkcs12Signer, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "archiver.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_pkcs12_signer_and_defaults(tmp_path: Path) -> None:
    cfg = load_config(
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
    cfg = load_config(
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
            r"\[signer\] passphrase: пароли и PIN-коды не хранятся",
        ),
        ('[signer]\nkind = "pkcs12"\n', r"\[signer\] pkcs12_file: обязательный параметр не задан"),
        ('[signer]\nkind = "gost"\n', r'\[signer\] kind: допустимо "pkcs12" или "pkcs11"'),
        ('[signature]\nlevel = "B-LTA"\n', r"\[signature\] tsa_url: для уровня B-LTA нужен"),
        ('[signature]\nlevel = "LTV"\n', r"\[signature\] level: допустимо B-B, B-T, B-LT, B-LTA"),
        ("[signer\n", "ошибка в файле настроек"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="не найден"):
        load_config(tmp_path / "nope.toml")
