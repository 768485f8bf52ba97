"""The act on the destruction of personal data (Приказ Роскомнадзора от 28.10.2022 № 179).

For personal data processed electronically the act names the operator, who destroyed
the data, the subjects (or what identifies them), the categories of data, the system,
the way and the date of destruction and the reason; an extract of the event log goes
with it. Both are kept 3 years. archiver renders the act as PDF/A with the subjects and
the access-log extract as tables, and embeds them as JSON (``pd-destruction-act.json``,
``access-log-extract.json``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from archiver.archive.access_log import ACTIONS
from archiver.archive.dispose.act import PD_ACT_KIND, Act
from archiver.render.engines import Engines
from archiver.render.pdf import Attachment, DocumentInfo, SignaturePlace, assemble
from archiver.wording import ru_date

CATEGORIES = (
    "фамилия, имя, отчество; дата рождения; класс и учебный год обучения (в том числе "
    "сведения об обучении по адаптированной программе, относящиеся к состоянию здоровья); "
    "текущие, четвертные (полугодовые) и годовые отметки; посещаемость уроков, в том числе "
    "пропуски по болезни; решения педагогического совета о переводе"
)
SYSTEM = (
    "архив электронного классного журнала (archiver): две копии — локальное хранилище "
    "и хранилище S3; электронные документы PDF/A и выгрузки журнала JSON"
)
METHOD = (
    "удаление файлов записей архива из обоих хранилищ без возможности восстановления: "
    "в S3 — удаление всех версий объектов (после истечения блокировки Object Lock), "
    "в локальном хранилище — удаление файлов и папок записей"
)


@dataclass(slots=True)
class Subject:
    """A pupil whose data was destroyed."""

    id: str
    name: str
    birth: str
    classes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {"id": self.id, "name": self.name, "birth_date": self.birth, "classes": self.classes}


@dataclass(frozen=True, slots=True)
class PdAct:
    """What the personal-data destruction act states."""

    act: Act
    destroyed_at: datetime
    destroyed_by: str
    records: list[str]
    subjects: list[Subject]
    unknown_subjects: int
    """Destroyed records whose data could not be read to name their subjects."""
    log: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data (``pd-destruction-act.json``)."""
        return {
            "format": "archiver-pd-destruction-act/1",
            "number": self.act.number,
            "disposal_act": self.act.number,
            "protocol": self.act.approval["protocol"] if self.act.approval else None,
            "operator": {"name": self.act.school_name},
            "destroyed_at": self.destroyed_at.isoformat(timespec="seconds"),
            "destroyed_by": self.destroyed_by,
            "categories": CATEGORIES,
            "system": SYSTEM,
            "method": METHOD,
            "reason": "истечение сроков хранения",
            "records": self.records,
            "subjects": [s.to_json() for s in self.subjects],
            "subjects_count": len(self.subjects),
            "unread_records": self.unknown_subjects,
        }


def _log_row(entry: dict[str, Any]) -> dict[str, str]:
    who = entry.get("who") or {}
    what = entry.get("what") or {}
    target = ", ".join(f"{k}: {v}" for k, v in what.items())
    action = str(entry.get("action", ""))
    return {
        "seq": str(entry.get("seq", "")),
        "at": str(entry.get("at", ""))[:16].replace("T", " "),
        "what": f"{ACTIONS.get(action, action)} ({target}); причина: {entry.get('why', '')}",
        "who": f"{who.get('operator', '')} ({who.get('os_user', '')}@{who.get('host', '')})",
    }


def render_pd_act(pd: PdAct, engines: Engines, created: datetime) -> bytes:
    """The personal-data destruction act as PDF/A-3b, its data and log extract embedded."""
    context: dict[str, Any] = {
        "doc_title": f"Акт № {pd.act.number} об уничтожении персональных данных",
        "doc_subject": "Акт об уничтожении персональных данных (приказ Роскомнадзора № 179)",
        "running_head": f"{pd.act.school_name} — акт № {pd.act.number} об уничтожении ПДн",
        "school_name": pd.act.school_name,
        "school_address": "",
        "number": pd.act.number,
        "act_number": pd.act.number,
        "protocol": pd.act.approval["protocol"] if pd.act.approval else "—",
        "categories": CATEGORIES,
        "system": SYSTEM,
        "method": METHOD,
        "destroyed_at": f"{ru_date(pd.destroyed_at.date())} {pd.destroyed_at:%H:%M}",
        "destroyed_by": pd.destroyed_by,
        "subjects": pd.subjects,
        "unknown_subjects": pd.unknown_subjects,
        "records": pd.records,
        "log": [_log_row(e) for e in pd.log],
    }
    part, anchors = engines.html_with_anchors("pd_destruction_act.html", context)
    mark = anchors.get("signature-mark")
    place = SignaturePlace(mark.page, mark.box) if mark is not None else None
    info = DocumentInfo(
        title=context["doc_title"],
        author=pd.act.school_name,
        subject=context["doc_subject"],
        created=created,
        keywords=f"{PD_ACT_KIND}; {pd.act.number}; {pd.destroyed_at.date().isoformat()}",
    )
    attachments = [
        Attachment(
            name="pd-destruction-act.json",
            data=json.dumps(pd.to_json(), ensure_ascii=False, indent=1).encode("utf-8"),
            description="Акт об уничтожении персональных данных: данные акта",
            relationship="Data",
        ),
        Attachment(
            name="access-log-extract.json",
            data=json.dumps(pd.log, ensure_ascii=False, indent=1).encode("utf-8"),
            description="Выгрузка из журнала регистрации событий (журнала доступа к архиву)",
            relationship="Data",
        ),
    ]
    return assemble([part], info, attachments, place)
