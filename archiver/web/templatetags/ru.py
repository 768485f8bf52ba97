"""``{% load ru %}``: ISO dates as a Russian reader writes them (``2011-09-13`` → ``13.09.2011``)."""

from __future__ import annotations

from datetime import date, datetime

from django import template

register = template.Library()


@register.filter
def dmy(value: object) -> str:
    """``ДД.ММ.ГГГГ`` of an ISO date or date-time (its date part); anything else as it is."""
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    text = str(value or "")
    try:
        return datetime.fromisoformat(text).strftime("%d.%m.%Y") if text else ""
    except ValueError:
        return text
