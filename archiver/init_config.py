"""The commented ``archiver.toml`` that ``archiver init`` and ``archiver demo`` write."""

from __future__ import annotations

from pathlib import Path

from archiver.errors import UsageError
from archiver.files import write_atomic

TEMPLATE = """\
# Настройки archiver — архива электронного классного журнала.
# Пути указываются относительно этого файла. Пароли и PIN-коды здесь не хранятся:
# только в переменных окружения или вводятся при запросе.
# Описание всех параметров: docs/configuration.md

[archive]
# Рабочая папка: свёрстанные документы года, отчёты, каталог для поиска.
state_dir = "state"
# Наибольший размер выгрузки журнала, МБ: файл больше этого не читается.
# max_export_mb = 200

[storage]
# Часовой пояс дат «хранить до» (по умолчанию — пояс выгрузки журнала).
# timezone = "Asia/Yekaterinburg"

# Две копии архива в разных местах (регламент, п. 3.8 и 5.5).
[storage.primary]
kind = "local"
path = "{primary}"          # например, сетевая папка NAS: /mnt/nas/archive

[storage.secondary]
kind = "local"
path = "{secondary}"        # например, внешний диск в другом кабинете
# Или корзина S3 с блокировкой объектов (Object Lock), см. docs/storage.md:
# kind = "s3"
# bucket = "school-archive"
# endpoint_url = "https://storage.example.ru"
# profile = "archive"

# [documents]
# Свои шаблоны документов и политики хранения школы (по умолчанию — встроенные):
# templates = "templates"
# retention_policies = "retention_policies"
# Индексы дел по номенклатуре дел школы (печатаются на титульном листе, в ведомости,
# на листе-заверителе и в описи дел года; {{class}} — название класса; если вид не указан,
# берётся case_index из политики хранения):
# nomenclature = {{ class_journal = "02-15", final_marks = "02-16" }}

# [renewal]
# Когда продлевать архивные метки времени (archiver renew, docs/verify.md):
# margin_years = 2                     # за сколько лет до истечения сертификата службы
# ageing_algorithms = ["md5", "sha1"]  # устаревающие алгоритмы: продлевать сразу

{signer}
"""

SIGNER_EXAMPLE = """\
# Подпись директора (обязательна для сдачи в архив). Ключ — только у директора:
# archiver year-end останавливается на «ждёт подписи директора», директор
# просматривает документы и подписывает их командой «archiver sign --review».
# Юридически значимая подпись — квалифицированный ключ ГОСТ директора через
# внешнюю программу (КриптоПро CSP, OpenSSL с модулем gost), см. docs/signature.md:
# [signer]
# kind = "command"
# certificate = "keys/director.cer"
# sign_command = ["csptest", "-sfsign", "-sign", "-detached", "-add", "-in", "{data}",
#                 "-out", "{signature}", "-my", "ОТПЕЧАТОК_СЕРТИФИКАТА"]
# verify_command = ["cryptcp", "-verify", "-detached", "-norev", "{data}", "{signature}"]
#
# Файл PKCS#12 (пароль вводится при запросе, без отображения):
# [signer]
# kind = "pkcs12"
# pkcs12_file = "keys/director.p12"
# certificate = "keys/director.pem"       # показывается директору до ввода пароля
#
# или токен PKCS#11 (PIN вводится при запросе):
# [signer]
# kind = "pkcs11"
# module = "/usr/lib/librtpkcs11ecp.so"
# token_label = "Rutoken"
# key_label = "director"
# cert_label = "director"
#
# [signature]
# tsa_url = "http://tsa.example.ru/tsp"   # служба штампов времени; уровень по умолчанию B-LTA
# trust_roots = ["keys/root-ca.pem"]      # корневые сертификаты для проверки подписей
#
# Чтобы попробовать с демонстрационными ключами: archiver keys demo --out keys
"""

DEMO_SIGNER = """\
# Демонстрационные ключи (ДЕМО — не имеет юридической силы), пароль «demo».
[signer]
kind = "pkcs12"
pkcs12_file = "keys/director.p12"
certificate = "keys/director.pem"
passphrase_env = "ARCHIVER_SIGNER_PASSPHRASE"
mode = "unattended"               # демо: ключ доступен тому, кто запускает year-end

[signature]
level = "B-LTA"
demo_tsa = "keys"                 # демонстрационная служба штампов времени на 127.0.0.1
trust_roots = ["keys/demo-ca.pem"]
crls = ["keys/demo-ca.crl"]
"""


def write_config(
    folder: Path, *, primary: str = "archive-1", secondary: str = "archive-2", demo: bool = False
) -> Path:
    """Write ``folder/archiver.toml`` and create the two local storage folders."""
    path = folder / "archiver.toml"
    if path.exists():
        raise UsageError(f"{path} уже существует; archiver init его не перезаписывает")
    folder.mkdir(parents=True, exist_ok=True)
    for name in (primary, secondary):
        (folder / name).mkdir(parents=True, exist_ok=True)
    text = TEMPLATE.format(
        primary=primary, secondary=secondary, signer=DEMO_SIGNER if demo else SIGNER_EXAMPLE
    )
    write_atomic(path, text.encode("utf-8"))
    return path
