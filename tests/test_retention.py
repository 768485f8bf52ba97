from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from archiver.retention import PolicyError, load_policy, retain_until

PERM = timezone(timedelta(hours=5))


@pytest.mark.parametrize(
    ("closing_year", "years", "expected"),
    [
        (2026, 5, datetime(2032, 1, 1, tzinfo=PERM)),  # the 2025/2026 journal
        (2026, 25, datetime(2052, 1, 1, tzinfo=PERM)),  # its summary statement
        (2025, 5, datetime(2031, 1, 1, tzinfo=PERM)),
        (2026, 0, datetime(2027, 1, 1, tzinfo=PERM)),
        (2099, 1, datetime(2101, 1, 1, tzinfo=PERM)),
    ],
)
def test_retain_until(closing_year: int, years: int, expected: datetime) -> None:
    assert retain_until(closing_year, years, PERM) == expected


def test_shipped_policies() -> None:
    assert [load_policy(k).years for k in ("class_journal", "final_marks", "journal_export")] == [
        5,
        25,
        5,
    ]
    assert load_policy("final_marks").describe() == "25 лет"


def test_bad_policy_names_the_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "class_journal.toml").write_text('years = "пять"\n', encoding="utf-8")
    with pytest.raises(PolicyError, match=r"class_journal.toml: years"):
        load_policy("class_journal", tmp_path)
    with pytest.raises(PolicyError, match="не найден"):
        load_policy("final_marks", tmp_path)
