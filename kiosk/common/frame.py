"""What every staff page shares: the header with the site, the pages this person may open, language and
log-out; and the PIN login when nobody is signed in at this browser."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.contract import staff
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import session
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.login import LoginView

if TYPE_CHECKING:
    from shopfloor.main import Shopfloor


FONT = '<style>body{font-family:"Noto Sans CJK SC","Noto Sans SC",sans-serif}</style>'


def translator(system: Shopfloor, lang: str | None) -> Translator:
    if lang:
        session.set_language(lang)
    return session.translator(system.settings.site.language)


def header(system: Shopfloor, t: Translator, user: session.KioskUser | None, active: str) -> None:
    ui.add_head_html(FONT)
    with ui.header().classes("items-center justify-between bg-primary px-4 py-2 no-wrap"):
        with ui.row().classes("items-center gap-3 no-wrap"):
            ui.icon("car_repair", size="md")
            ui.label(system.settings.site.name).classes("text-xl font-bold whitespace-nowrap")
            if user is not None:
                with ui.row().classes("items-center gap-1 no-wrap pl-4"):
                    for item in staff.PAGES:
                        if not staff.may_open(user.roles, item.path):
                            continue
                        button = ui.button(t(item.label_key), icon=item.icon,
                                           on_click=lambda p=item.path: ui.navigate.to(p)) \
                            .props("flat color=white dense").classes("px-2").mark(f"nav-{item.path}")
                        if item.path == active:
                            button.classes("bg-white/20 rounded")
        with ui.row().classes("items-center gap-2 no-wrap"):
            if user is not None:
                ui.label(t("kiosk.signed_in", name=user.name)).classes("text-lg whitespace-nowrap").mark("signed-in")
            other = "en" if t.lang == "zh-CN" else "zh-CN"
            ui.button("EN" if other == "en" else "中文", on_click=lambda: _switch(other)) \
                .props("flat color=white").mark("lang")
            if user is not None:
                ui.button(t("kiosk.log_out"), icon="logout", on_click=_log_out).props("flat color=white")


async def staff_page(system: Shopfloor, lang: str | None, active: str) -> tuple[Translator, session.KioskUser] | None:
    """Header, then either the signed-in person (returned) or the login keypad (None: build nothing more).
    Whoever may not open the page (shopfloor/contract/staff.py) is told who may, instead of seeing it."""
    t = translator(system, lang)
    user = session.current_user()
    header(system, t, user, active)
    if user is None:
        advisors = await io(system.auth.advisors)
        LoginView(system.auth, t, system.settings.kiosk.session_hours,
                  on_success=lambda: ui.navigate.reload()).build(advisors)
        return None
    if not staff.may_open(user.roles, active):
        refuse(t, active)
        return None
    return t, user


def refuse(t: Translator, path: str) -> None:
    """The lock, who may use this page, and a way to the page this person may use."""
    user = session.current_user()
    roles = "、".join(t(f"role.{r.value}") for r in staff.StaffRole if r in staff.page_roles(path)) \
        if t.lang == "zh-CN" else ", ".join(t(f"role.{r.value}") for r in staff.StaffRole
                                            if r in staff.page_roles(path))
    with ui.column().classes("w-full items-center pt-16 gap-4 text-grey-7").mark("not-allowed"):
        ui.icon("lock", size="4rem")
        ui.label(t("nav.not_allowed")).classes("text-xl")
        ui.label(t("nav.allowed_roles", roles=roles)).classes("text-lg").mark("allowed-roles")
        home = staff.landing_page(user.roles) if user else None
        if home and home != path:
            ui.button(t(staff.PAGE_BY_PATH[home].label_key), icon=staff.PAGE_BY_PATH[home].icon,
                      on_click=lambda: ui.navigate.to(home)).props("unelevated").mark("go-home")
        elif user is not None:
            ui.label(t("nav.no_page_yet")).classes("text-base")


def _switch(lang: str) -> None:
    session.set_language(lang)
    ui.navigate.reload()


def _log_out() -> None:
    session.log_out()
    ui.navigate.reload()
