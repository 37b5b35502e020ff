"""How the estimate page writes amounts and times: ¥1,234.50; 16:30 today, 12-05 09:00 on another day."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock


def money(value: Decimal | float | int | str | None) -> str:
    if value is None or value == "":
        return "—"
    amount = Decimal(str(value))
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def quantity(value: Decimal | float | int | str) -> str:
    """1.5, 2, 0.25: no trailing zeros, as the ticket writes hours."""
    return f"{Decimal(str(value)).normalize():f}"


def as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def moment(value: Any, clock: SiteClock, *, full: bool = False) -> str:
    """The local time; with the date when it is not today (or always, `full`: the history's signatures)."""
    at = as_datetime(value)
    if at is None:
        return "—"
    local = at.astimezone(clock.tz)
    if full:
        return f"{local:%Y-%m-%d %H:%M}"
    return f"{local:%H:%M}" if local.date() == clock.today() else f"{local:%m-%d %H:%M}"


def short_digest(digest: str | None) -> str:
    """The first twelve hex digits, grouped in fours as the printout shows them (a person compares them by eye)."""
    if not digest:
        return "—"
    head = digest[:12]
    return " ".join(head[i:i + 4] for i in range(0, len(head), 4))
