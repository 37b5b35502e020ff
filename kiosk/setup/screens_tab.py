"""/setup → Wall screens: one display token per screen. A new screen's pairing links (the appointments and the
progress board) are shown once, as text and as QR codes the screen's camera scans (or someone types); the list
shows when and from where each screen was last seen, and revokes it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from nicegui import ui

from shopfloor.domain.errors import DomainError
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.setup.tokens_tab import moment, secret_field
from shopfloor.kiosk.workshop.badges import qr_data_url
from shopfloor.services.audit import Actor
from shopfloor.services.setup.tokens import ScreenView, TokenAdmin

if TYPE_CHECKING:
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.session import KioskUser

BOARDS = (("appointments", "/board/appointments"), ("progress", "/board/progress"))


class ScreensTab:
    key = "screens"
    icon = "tv"

    def __init__(self, tokens: TokenAdmin, tz: ZoneInfo, server_url: str) -> None:
        self.tokens = tokens
        self.tz = tz
        self.server_url = server_url.rstrip("/")  # where the screens reach this server ([web] public_url or LAN)

    def links(self, token: str) -> list[tuple[str, str]]:
        return [(key, f"{self.server_url}{path}?token={token}") for key, path in BOARDS]

    async def build(self, t: Translator, user: KioskUser) -> None:
        actor = Actor(user.name, staff_id=user.advisor_id)
        ui.label(t("setup_access.screens.intro")).classes("text-grey-8 max-w-3xl")
        with ui.row().classes("w-full items-end gap-2"):
            name = ui.input(t("setup_access.common.name"), placeholder=t("setup_access.screens.name_placeholder")) \
                .props("outlined dense maxlength=80").classes("w-64").mark("screen-name")
            make = ui.button(t("setup_access.screens.make"), icon="add").mark("screen-make")
        fresh = ui.column().classes("w-full")
        listing = ui.column().classes("w-full gap-1")

        async def refresh() -> None:
            views = await io(self.tokens.screens)
            listing.clear()
            with listing:
                self._table(t, views, actor, refresh)

        async def create() -> None:
            try:
                view, token = await io(self.tokens.create_screen, name.value or "", actor)
            except DomainError as exc:
                ui.notify(exc.message(t.lang), type="negative", multi_line=True)
                return
            name.value = ""
            fresh.clear()
            with fresh, ui.card().classes("w-full bg-amber-1").mark("screen-new"):
                ui.label(t("setup_access.screens.made", name=view.name)).classes("text-subtitle1 font-bold")
                ui.label(t("setup_access.common.shown_once")).classes("text-grey-8")
                with ui.row().classes("w-full gap-6 no-wrap"):
                    for key, link in self.links(token):
                        with ui.column().classes("items-center gap-1 grow basis-0 min-w-0"):
                            ui.label(t(f"setup_access.screens.{key}")).classes("font-medium")
                            ui.image(qr_data_url(link)).classes("w-48 h-48").mark(f"screen-qr-{key}")
                            secret_field(t, link, f"screen-link-{key}")
            await refresh()

        make.on_click(create)
        await refresh()

    def _table(self, t: Translator, views: list[ScreenView], actor: Actor,
               refresh: Callable[[], Awaitable[None]]) -> None:
        if not views:
            ui.label(t("setup_access.common.none_yet")).classes("text-grey-7")
            return
        columns = [(t("setup_access.common.name"), "w-48"), (t("setup_access.common.hint"), "w-24"),
                   (t("setup_access.common.created"), "w-56"), (t("setup_access.screens.seen"), "w-64"),
                   (t("setup_access.common.state"), "w-48")]
        with ui.row().classes("w-full no-wrap gap-2 text-grey-7 text-caption border-b"):
            for label, width in columns:
                ui.label(label).classes(width)
        for v in views:
            with ui.row().classes("w-full no-wrap items-center gap-2 border-b py-1" +
                                  ("" if v.active else " text-grey-6")).mark(f"screen-row-{v.id}"):
                ui.label(v.name).classes("w-48 font-medium")
                ui.label(f"{v.token_hint}…").classes("w-24 font-mono")
                ui.label(t("setup_access.common.created_by", at=moment(v.created_at, self.tz, t), who=v.created_by)) \
                    .classes("w-56")
                seen = moment(v.last_seen_at, self.tz, t)
                ui.label(t("setup_access.screens.seen_from", at=seen, address=v.last_address)
                         if v.last_seen_at is not None and v.last_address else seen).classes("w-64")
                if v.active:
                    ui.label(t("setup_access.common.active")).classes("w-20 text-positive")
                    ui.button(t("setup_access.common.revoke"), icon="block",
                              on_click=lambda v=v: self._confirm(t, v, actor, refresh)) \
                        .props("flat dense color=negative").mark(f"screen-revoke-{v.id}")
                else:
                    ui.label(t("setup_access.common.revoked", at=moment(v.revoked_at, self.tz, t))).classes("w-48")

    def _confirm(self, t: Translator, v: ScreenView, actor: Actor, refresh: Callable[[], Awaitable[None]]) -> None:
        with ui.dialog() as dialog, ui.card().mark("screen-confirm"):
            ui.label(t("setup_access.screens.confirm", name=v.name)).classes("max-w-md")
            with ui.row().classes("w-full justify-end"):
                ui.button(t("setup_access.common.cancel"), on_click=dialog.close).props("flat")

                async def revoke() -> None:
                    dialog.close()
                    try:
                        await io(self.tokens.revoke_screen, v.id, actor)
                    except DomainError as exc:
                        ui.notify(exc.message(t.lang), type="negative")
                        return
                    ui.notify(t("setup_access.screens.revoked_done", name=v.name), type="positive")
                    await refresh()

                ui.button(t("setup_access.common.revoke"), on_click=revoke).props("color=negative") \
                    .mark("screen-confirm-revoke")
        dialog.open()

