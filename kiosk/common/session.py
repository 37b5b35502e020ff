"""Who is logged in at this tablet, and in which language: kept in NiceGUI's per-browser user storage."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import HTTPException
from nicegui import app

from shopfloor.contract import staff
from shopfloor.contract.staff import Permission, StaffRole
from shopfloor.i18n import Translator, normalize
from shopfloor.services.audit import Actor, ActorKind


@dataclass(frozen=True)
class KioskUser:
    """The staff member signed in at this browser: the actor of every change made here."""

    advisor_id: int
    name: str
    roles: frozenset[StaffRole] = frozenset({StaffRole.ADVISOR})

    @property
    def is_manager(self) -> bool:
        return StaffRole.MANAGER in self.roles

    def may(self, permission: Permission) -> bool:
        return staff.may(self.roles, permission)

    @property
    def actor(self) -> Actor:
        """Who the services record as making a change from this browser."""
        return Actor(self.name, ActorKind.STAFF, self.advisor_id)


def current_user() -> KioskUser | None:
    data = app.storage.user.get("kiosk_advisor")
    if not isinstance(data, dict) or data.get("expires", 0) < time.time():
        return None
    try:
        roles = staff.parse_roles(data.get("roles") or [])
    except ValueError:  # a role that no longer exists: sign in again
        return None
    return KioskUser(int(data["id"]), str(data["name"]), roles)


def route_user(permission: Permission) -> KioskUser:
    """The person signed in on a staff page of this browser, for a plain route (a photo, a PDF) that a browser's
    session opens, not a token: 401 when no one is, 403 when they may not do `permission`."""
    user = current_user()
    if user is None:
        raise HTTPException(status_code=401, detail="sign in on a staff page first")
    if holds_one_time_pin():
        raise HTTPException(status_code=403, detail="choose your own PIN on a staff page first")
    if not user.may(permission):
        raise HTTPException(status_code=403, detail="not allowed")
    return user


def mark_one_time_pin(one_time: bool) -> None:
    """Whether this browser's person signed in with a one-time PIN and has yet to choose their own: the staff pages
    find it out (and show the dialog no page gets past); the plain routes (PDFs, photos) read it here."""
    signed = app.storage.user.get("kiosk_advisor")
    if isinstance(signed, dict) and bool(signed.get("one_time_pin")) != one_time:
        app.storage.user["kiosk_advisor"] = {**signed, "one_time_pin": one_time}


def holds_one_time_pin() -> bool:
    signed = app.storage.user.get("kiosk_advisor")
    return isinstance(signed, dict) and bool(signed.get("one_time_pin"))


def log_in(advisor_id: int, name: str, hours: int, roles: frozenset[StaffRole]) -> None:
    app.storage.user["kiosk_advisor"] = {"id": advisor_id, "name": name, "roles": sorted(roles),
                                         "expires": time.time() + hours * 3600}
    _remember_device(advisor_id)


def is_known_device(advisor_id: int) -> bool:
    """This browser has seen this person sign in before: a stranger's wrong PINs elsewhere do not lock them out
    here."""
    known = app.storage.user.get("known_staff")
    return isinstance(known, list) and advisor_id in known


def _remember_device(advisor_id: int) -> None:
    known = app.storage.user.get("known_staff")
    known = [k for k in known if isinstance(k, int)] if isinstance(known, list) else []
    if advisor_id not in known:
        app.storage.user["known_staff"] = [*known, advisor_id][-20:]


def log_out() -> None:
    app.storage.user.pop("kiosk_advisor", None)


def language(default: str) -> str:
    return normalize(app.storage.user.get("lang") or default)


def set_language(lang: str) -> None:
    app.storage.user["lang"] = normalize(lang)


def translator(default: str) -> Translator:
    return Translator(language(default))
