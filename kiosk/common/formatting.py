"""How times read on the kiosk: 16:30 today, 11-24 09:00 on another day (a car kept overnight)."""

from __future__ import annotations

from datetime import date, datetime


def when(iso: str | None, today: date) -> str:
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso)
    return f"{moment:%H:%M}" if moment.date() == today else f"{moment:%m-%d %H:%M}"
