"""/setup → API clients: one token per integration (the DMS, a call centre), with the staff roles it may act as.
A new token is shown once, with a copy button; the list shows each client's hint, when it was made and last used,
and revokes it (after a confirmation)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from nicegui import ui

from shopfloor.contract.staff import StaffRole
from shopfloor.domain.errors import DomainError
from shopfloor.kiosk.common.blocking import io
from shopfloor.services.audit import Actor
from shopfloor.services.setup.tokens import ApiClientView, TokenAdmin

if TYPE_CHECKING:
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.session import KioskUser


def moment(value: datetime | None, tz: ZoneInfo, t: Translator) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value is not None else t("setup_access.common.never")


def shown_once(t: Translator, title: str, secret: str, mark: str) -> None:
    """A new token, to copy now: the server keeps only its digest."""
    with ui.card().classes("w-full bg-amber-1").mark(mark):
        ui.label(title).classes("text-subtitle1 font-bold")
        ui.label(t("setup_access.common.shown_once")).classes("text-grey-8")
        secret_field(t, secret, f"{mark}-value")


def secret_field(t: Translator, secret: str, mark: str) -> None:
    """A read-only field, selectable by hand, with a copy button (the clipboard needs a secure context: where the
    browser refuses, it says so)."""
    with ui.row().classes("w-full items-center no-wrap"):
        # a text area that wraps: a pairing link is read off the screen and typed on a wall screen's keyboard
        field = ui.textarea(value=secret).props("readonly outlined dense autogrow rows=1") \
            .classes("grow font-mono break-all").mark(mark)

        async def copy() -> None:
            try:
                ok = await _copy(field.value)
            except TimeoutError:
                ok = False
            ui.notify(t("setup_access.common.copied") if ok else t("setup_access.common.copy_failed"),
                      type="positive" if ok else "warning")

        ui.button(t("setup_access.common.copy"), icon="content_copy", on_click=copy).props("flat dense") \
            .mark(f"{mark}-copy")


async def _copy(text: str) -> bool:
    """Writes `text` (a token we made: URL-safe characters only, quoted as JSON) to the clipboard."""
    result = await ui.run_javascript(
        f"const text = {json.dumps(text)};"
        "if (!navigator.clipboard || !window.isSecureContext) return false;"
        "try { await navigator.clipboard.writeText(text); return true; } catch (e) { return false; }", timeout=3)
    return bool(result)


class TokensTab:
    key = "tokens"
    icon = "key"

    def __init__(self, tokens: TokenAdmin, tz: ZoneInfo) -> None:
        self.tokens = tokens
        self.tz = tz

    async def build(self, t: Translator, user: KioskUser) -> None:
        actor = Actor(user.name, staff_id=user.advisor_id)
        ui.label(t("setup_access.tokens.intro")).classes("text-grey-8 max-w-3xl")
        with ui.row().classes("w-full items-end gap-2"):
            name = ui.input(t("setup_access.common.name"), placeholder=t("setup_access.tokens.name_placeholder")) \
                .props("outlined dense maxlength=80").classes("w-56").mark("token-name")
            roles = ui.select({r.value: t(f"role.{r.value}") for r in StaffRole}, multiple=True,
                              label=t("setup_access.tokens.roles")).props("outlined dense use-chips") \
                .classes("w-96").mark("token-roles")
            make = ui.button(t("setup_access.tokens.make"), icon="add").mark("token-make")
        fresh = ui.column().classes("w-full")
        listing = ui.column().classes("w-full gap-1")

        async def refresh() -> None:
            views = await io(self.tokens.clients)
            listing.clear()
            with listing:
                self._table(t, views, actor, refresh)

        async def create() -> None:
            try:
                view, token = await io(self.tokens.create_client, name.value or "", list(roles.value or []), actor)
            except DomainError as exc:
                ui.notify(exc.message(t.lang), type="negative", multi_line=True)
                return
            name.value = ""
            roles.value = []
            fresh.clear()
            with fresh:
                shown_once(t, t("setup_access.tokens.made", name=view.name), token, "token-new")
            await refresh()

        make.on_click(create)
        await refresh()

    def _table(self, t: Translator, views: list[ApiClientView], actor: Actor,
               refresh: Callable[[], Awaitable[None]]) -> None:
        if not views:
            ui.label(t("setup_access.common.none_yet")).classes("text-grey-7")
            return
        columns = [(t("setup_access.common.name"), "w-40"), (t("setup_access.tokens.roles"), "w-64"),
                   (t("setup_access.common.hint"), "w-24"), (t("setup_access.common.created"), "w-56"),
                   (t("setup_access.tokens.used"), "w-36"), (t("setup_access.common.state"), "w-48")]
        with ui.row().classes("w-full no-wrap gap-2 text-grey-7 text-caption border-b"):
            for label, width in columns:
                ui.label(label).classes(width)
        for v in views:
            with ui.row().classes("w-full no-wrap items-center gap-2 border-b py-1" +
                                  ("" if v.active else " text-grey-6")).mark(f"token-row-{v.id}"):
                ui.label(v.name).classes("w-40 font-medium")
                ui.label(", ".join(t(f"role.{r.value}") for r in StaffRole if r in v.roles)).classes("w-64")
                ui.label(f"{v.token_hint}…").classes("w-24 font-mono")
                ui.label(t("setup_access.common.created_by", at=moment(v.created_at, self.tz, t), who=v.created_by)) \
                    .classes("w-56")
                ui.label(moment(v.last_used_at, self.tz, t)).classes("w-36")
                if v.active:
                    ui.label(t("setup_access.common.active")).classes("w-20 text-positive")
                    ui.button(t("setup_access.common.revoke"), icon="block",
                              on_click=lambda v=v: self._confirm(t, v, actor, refresh)) \
                        .props("flat dense color=negative").mark(f"token-revoke-{v.id}")
                else:
                    ui.label(t("setup_access.common.revoked", at=moment(v.revoked_at, self.tz, t))).classes("w-48")

    def _confirm(self, t: Translator, v: ApiClientView, actor: Actor, refresh: Callable[[], Awaitable[None]]) -> None:
        with ui.dialog() as dialog, ui.card().mark("token-confirm"):
            ui.label(t("setup_access.tokens.confirm", name=v.name)).classes("max-w-md")
            with ui.row().classes("w-full justify-end"):
                ui.button(t("setup_access.common.cancel"), on_click=dialog.close).props("flat")

                async def revoke() -> None:
                    dialog.close()
                    try:
                        await io(self.tokens.revoke_client, v.id, actor)
                    except DomainError as exc:
                        ui.notify(exc.message(t.lang), type="negative")
                        return
                    ui.notify(t("setup_access.tokens.revoked_done", name=v.name), type="positive")
                    await refresh()

                ui.button(t("setup_access.common.revoke"), on_click=revoke).props("color=negative") \
                    .mark("token-confirm-revoke")
        dialog.open()
