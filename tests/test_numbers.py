from __future__ import annotations

import pytest

from archiver.numbers import plural_form, sheets_phrase


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "1 (один) лист"),
        (2, "2 (два) листа"),
        (4, "4 (четыре) листа"),
        (5, "5 (пять) листов"),
        (11, "11 (одиннадцать) листов"),
        (12, "12 (двенадцать) листов"),
        (14, "14 (четырнадцать) листов"),
        (21, "21 (двадцать один) лист"),
        (22, "22 (двадцать два) листа"),
        (100, "100 (сто) листов"),
        (101, "101 (сто один) лист"),
        (111, "111 (сто одиннадцать) листов"),
        (112, "112 (сто двенадцать) листов"),
        (123, "123 (сто двадцать три) листа"),
        (140, "140 (сто сорок) листов"),
    ],
)
def test_sheets_phrase(n: int, expected: str) -> None:
    assert sheets_phrase(n) == expected


def test_plural_form_other_nouns() -> None:
    assert [plural_form(n, "урок", "урока", "уроков") for n in (0, 1, 3, 15, 31, 44)] == [
        "уроков",
        "урок",
        "урока",
        "уроков",
        "урок",
        "урока",
    ]
