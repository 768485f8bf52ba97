"""What a record's bag explains to a person without archiver: ``README.txt`` and ``certs/*.pem``.

Twenty-five years on, the archive may be read on a computer that has never seen
archiver or the school's configuration. Each record therefore carries, next to the
document, the certificates its signature relies on (the signer's chain and the
timestamping authority's, ending in their roots) and a short Russian ``README.txt``:
what each file is, how to check the hashes (``sha256sum -c``) and the signature with
free tools (pyHanko's command line, given exactly), and until when the record must
be kept.

The texts are fixed when the record is stored and kept in its manifest
(``bag_texts`` of ``archive-record.json``), so every copy of the record is
byte-identical and checked like the other tag files, whatever later versions of
archiver would write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from archiver.archive.record import RecordManifest
from archiver.kinds import CLASS_JOURNAL, FINAL_MARKS, JOURNAL_EXPORT
from archiver.signing.chains import (
    CertificateChains,
    CertificateSummary,
    certificate_chains,
    pem,
    summary,
)
from archiver.wording import ru_date

README = "README.txt"
SIGNER_CHAIN = "certs/signer-chain.pem"
TSA_CHAIN = "certs/tsa-chain.pem"
ROOTS = "certs/roots.pem"

_KIND_TEXT = {
    CLASS_JOURNAL: "распечатка электронного журнала класса (PDF/A-3b, с электронной подписью)",
    FINAL_MARKS: "сводная ведомость итоговых отметок (PDF/A-3b, с электронной подписью)",
    JOURNAL_EXPORT: "выгрузка электронного журнала (JSON), из которой сделаны документы года",
}


def _day(text: str) -> str:
    try:
        return ru_date(datetime.fromisoformat(text).date())
    except ValueError:
        return text


def _cert_lines(role: str, cert: CertificateSummary) -> list[str]:
    return [
        f"  {role}: {cert.subject}",
        f"      выдан: {cert.issuer}",
        f"      серийный номер {cert.serial}, действителен с {_day(cert.not_before)} "
        f"по {_day(cert.not_after)}",
        f"      отпечаток SHA-256: {cert.sha256}",
    ]


def readme_text(manifest: RecordManifest, chains: CertificateChains | None) -> str:
    """The record's ``README.txt`` (Russian, plain text, lines under 100 characters)."""
    m = manifest
    doc = m.payload_path
    lines = [
        "ЗАПИСЬ АРХИВА ЭЛЕКТРОННОГО КЛАССНОГО ЖУРНАЛА",
        "",
        f"Документ:      {m.title}",
        f"Школа:         {m.school_name}",
        f"Учебный год:   {m.academic_year}" + (f", класс {m.class_name}" if m.class_name else ""),
        f"Номер записи:  {m.record_id} (версия {m.version})",
        f"Сохранена:     {_day(m.stored_at)}",
    ]
    if m.correction_reason:
        lines.append(f"Исправление:   {m.correction_reason} (заменяет запись {m.replaces})")
    lines += [
        "",
        f"СРОК ХРАНЕНИЯ: до {_day(m.retain_until)} ({m.retain_until}), {m.retention_years} лет "
        f"с 1 января {m.closing_year + 1} г.",
        f"  {m.retention_title}" + (f"; основание: {m.legal_basis}" if m.legal_basis else "") + ".",
        "  До этой даты запись уничтожать нельзя; после неё — только по акту о выделении",
        "  к уничтожению документов, утверждённому директором школы.",
        "",
        "ФАЙЛЫ",
        f"  {doc}",
        f"      сам документ: {_KIND_TEXT.get(m.kind, m.title)}",
        *(
            [
                f"  {m.signature_path}",
                "      отдельная (открепленная) подпись документа, CMS/CAdES: проверяется средством",
                "      той же подписи (например, openssl cms -verify или КриптоПро)",
            ]
            if m.signature_path
            else []
        ),
        "  archive-record.json        описание записи (JSON): что за документ, чей, хеши, срок",
        "  bag-info.txt               те же сведения в формате BagIt (RFC 8493)",
        "  manifest-sha256.txt        SHA-256 документа (и manifest-sha512.txt — SHA-512)",
        "  tagmanifest-sha256.txt     SHA-256 остальных файлов (и tagmanifest-sha512.txt)",
    ]
    if chains is not None:
        lines.append(f"  {SIGNER_CHAIN:<26} сертификат подписавшего и цепочка до корневого")
        if chains.tsa:
            lines.append(f"  {TSA_CHAIN:<26} сертификат службы штампов времени и его цепочка")
        lines.append(f"  {ROOTS:<26} корневые сертификаты (якоря доверия) этих цепочек")
    lines += [
        f"  {README:<26} этот файл",
        "  bagit.txt                  признак того, что запись сохранена полностью",
        "",
        "1. ПРОВЕРИТЬ, ЧТО ФАЙЛЫ НЕ ИЗМЕНЕНЫ",
        "  В папке записи (Linux; в macOS — shasum -a 256 -c):",
        "      sha256sum -c manifest-sha256.txt",
        "      sha256sum -c tagmanifest-sha256.txt",
        "  Каждая строка ответа должна кончаться словом OK (ЦЕЛ в русской локали).",
        "  Windows: certutil -hashfile ФАЙЛ SHA256 и сравнить с числом в manifest-sha256.txt.",
        "",
    ]
    if chains is None:
        lines += [
            "2. ПОДПИСЬ",
            "  Этот файл не подписывается: его подлинность подтверждают хеш выше и подписанные",
            "  документы того же года — в описании каждого из них (archive-record.json,",
            f"  source_export_sha256) записан SHA-256 этой выгрузки: {m.source_export_sha256}.",
        ]
        return "\n".join(lines) + "\n"
    other = f"--other-certs {SIGNER_CHAIN}" + (f" --other-certs {TSA_CHAIN}" if chains.tsa else "")
    lines += [
        "2. ПРОВЕРИТЬ ЭЛЕКТРОННУЮ ПОДПИСЬ (бесплатно: pyHanko, https://pyhanko.readthedocs.io)",
        "  Установить (нужен Python 3):",
        "      python3 -m venv pyhanko-venv && pyhanko-venv/bin/pip install pyhanko-cli",
        "  Проверить подпись (в папке записи):",
        f"      pyhanko-venv/bin/pyhanko sign validate --pretty-print --trust {ROOTS} "
        f"--trust-replace {other} {doc}",
        "  Ответ: подпись не нарушена и доверена (valid, trusted), документ после подписи",
        "  не изменён. Когда срок сертификата подписавшего уже прошёл, проверить подпись на",
        "  момент подписания по вложенным в документ штампам времени и данным об отзыве:",
        f"      pyhanko-venv/bin/pyhanko sign adesverify --pretty-print --trust {ROOTS} "
        f"--trust-replace {other} {doc}",
        "  Прежде чем доверять корневому сертификату из этой папки, сверьте его отпечаток",
        "  SHA-256 с опубликованным удостоверяющим центром (у демонстрационных ключей",
        "  archiver такого центра нет: их подпись юридической силы не имеет).",
        "",
        "СЕРТИФИКАТЫ",
    ]
    signer = [summary(der) for der in chains.signer]
    lines += _cert_lines("подписавший", signer[0])
    for cert in signer[1:]:
        lines += _cert_lines("корневой" if cert.self_signed else "промежуточный", cert)
    for cert in (summary(der) for der in chains.tsa):
        if cert.sha256 in {c.sha256 for c in signer}:
            continue
        lines += _cert_lines("корневой" if cert.self_signed else "служба штампов времени", cert)
    if not chains.roots:
        lines += [
            "",
            "  Корневого сертификата в документе и в настройках школы не нашлось: возьмите",
            "  его у удостоверяющего центра, выдавшего сертификат подписавшего.",
        ]
    return "\n".join(lines) + "\n"


def bag_texts(
    manifest: RecordManifest, chains: CertificateChains | None
) -> tuple[tuple[str, str], ...]:
    """The explanatory files of a record's bag: ``(path, text)``, README first."""
    texts = [(README, readme_text(manifest, chains))]
    if chains is not None:
        texts.append((SIGNER_CHAIN, pem(chains.signer)))
        if chains.tsa:
            texts.append((TSA_CHAIN, pem(chains.tsa)))
        texts.append((ROOTS, pem(chains.roots)))
    return tuple(texts)


def bag_texts_of(
    manifest: RecordManifest, payload: bytes, roots: Sequence[bytes], *, signed: bool
) -> tuple[tuple[str, str], ...]:
    """The explanatory files of a new record whose document is ``payload``."""
    return bag_texts(manifest, certificate_chains(payload, roots) if signed else None)


__all__ = [
    "README",
    "ROOTS",
    "SIGNER_CHAIN",
    "TSA_CHAIN",
    "bag_texts",
    "bag_texts_of",
    "readme_text",
]
