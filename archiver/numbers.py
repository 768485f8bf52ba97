"""Russian numbers for documents: number words and the noun form after a number."""

from __future__ import annotations

from num2words import num2words


def plural_form(n: int, one: str, few: str, many: str) -> str:
    """The noun form agreeing with ``n``: 1 лист, 2 листа, 5 листов, 21 лист, 112 листов."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def number_words(n: int) -> str:
    """``n`` in Russian words (masculine), e.g. 112 → «сто двенадцать»."""
    return str(num2words(n, lang="ru"))


def sheets_phrase(n: int) -> str:
    """«112 (сто двенадцать) листов» as on a certification sheet."""
    return f"{n} ({number_words(n)}) {plural_form(n, 'лист', 'листа', 'листов')}"
