"""Who is logged in at this tablet, and in which language: kept in NiceGUI's per-browser user storage."""

from __future__ import annotations

import time
from dataclasses import dataclass

from nicegui import app

from shopfloor.i18n import Translator, normalize


@dataclass(frozen=True)
class KioskUser:
    advisor_id: int
    name: str
    role: str = "advisor"  # advisor, manager, cs, parts

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


def current_user() -> KioskUser | None:
    data = app.storage.user.get("kiosk_advisor")
    if not isinstance(data, dict) or data.get("expires", 0) < time.time():
        return None
    return KioskUser(int(data["id"]), str(data["name"]), str(data.get("role") or "advisor"))


def log_in(advisor_id: int, name: str, hours: int, role: str = "advisor") -> None:
    app.storage.user["kiosk_advisor"] = {"id": advisor_id, "name": name, "role": role,
                                         "expires": time.time() + hours * 3600}


def log_out() -> None:
    app.storage.user.pop("kiosk_advisor", None)


def language(default: str) -> str:
    return normalize(app.storage.user.get("lang") or default)


def set_language(lang: str) -> None:
    app.storage.user["lang"] = normalize(lang)


def translator(default: str) -> Translator:
    return Translator(language(default))
