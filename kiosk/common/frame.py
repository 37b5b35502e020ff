"""What every staff page shares: the header with the site, the pages this person may open, language and
log-out; the PIN sign-in when nobody is signed in at this browser; the refusal of a page that is not theirs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.contract import staff
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import pin_change, session
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.escalations import banner as escalation_banner
from shopfloor.kiosk.common.login import LoginView
from shopfloor.services.staff_pins import PinService

if TYPE_CHECKING:
    from shopfloor.board.store import BoardStore
    from shopfloor.services.auth import AuthService
    from shopfloor.settings import Settings


FONT = '<style>body{font-family:"Noto Sans CJK SC","Noto Sans SC",sans-serif}</style>'
NAV_LABELLED = 6  # navigation buttons shown with their label; more are icons with a tooltip


def role_names(t: Translator, roles: Iterable[staff.StaffRole]) -> str:
    """The roles in StaffRole's order, named in the reader's language."""
    held = set(roles)
    return ("、" if t.lang == "zh-CN" else ", ").join(t(f"role.{r.value}") for r in staff.StaffRole if r in held)


def roles_with(t: Translator, permission: staff.Permission) -> str:
    """Who holds `permission`, named for the reader."""
    return role_names(t, staff.roles_for(permission))


def allowed(t: Translator, user: session.KioskUser, permission: staff.Permission) -> bool:
    """Whether the person may act; if not, they are told who may. Each action checks it again on the server: a
    page shows only what its reader may do, but roles change and old pages stay open."""
    if user.may(permission):
        return True
    ui.notify(t("access.refused", roles=roles_with(t, permission)), type="warning", multi_line=True)
    return False


class StaffFrame:
    """One per server: each staff page builds its header, sign-in and refusal through it."""

    def __init__(self, settings: Settings, auth: AuthService, *, escalations: BoardStore | None = None) -> None:
        self.settings = settings
        self.auth = auth
        self.escalations = escalations  # the bus's complaints: an important one shows on the manager's pages
        self.pins = PinService(auth.ctx)

    def translator(self, lang: str | None) -> Translator:
        if lang:
            session.set_language(lang)
        return session.translator(self.settings.site.language)

    async def open(self, lang: str | None, path: str) -> tuple[Translator, session.KioskUser] | None:
        """Header, then the signed-in person (returned), or the sign-in keypad or the refusal (None: build
        nothing more). Whoever may not open the page (shopfloor/contract/staff.py) is told who may."""
        t = self.translator(lang)
        user = session.current_user()
        self.header(t, user, path)
        if user is None:
            await self.sign_in(t, path)
            return None
        if await self.pin_forced(t, user):
            return None
        if not staff.may_open(user.roles, path):
            refuse(t, user, path)
            return None
        escalation_banner(self.escalations, t, user)
        return t, user

    def header(self, t: Translator, user: session.KioskUser | None, active: str) -> None:
        ui.add_head_html(FONT)
        pages = [item for item in staff.PAGES if user is not None and staff.may_open(user.roles, item.path)]
        # the manager opens every desk: labelled, their buttons would wrap the header onto two lines and take the
        # boards' room, so beyond NAV_LABELLED only the current page keeps its label (and log-out is its icon)
        crowded = len(pages) > NAV_LABELLED
        with ui.header().classes("items-center justify-between bg-primary px-4 py-2 no-wrap"):
            with ui.row().classes("items-center gap-3 no-wrap"):
                ui.icon("car_repair", size="md")
                ui.label(self.settings.site.name).classes("text-xl font-bold whitespace-nowrap max-sm:text-base")
                if user is not None:
                    # a phone (the ticket's QR opened on one: /ro/<number>) has no room for the navigation
                    with ui.row().classes("items-center gap-1 no-wrap pl-4 max-sm:hidden"):
                        for item in pages:
                            label = t(item.label_key)
                            shown = label if item.path == active or not crowded else ""
                            button = ui.button(shown, icon=item.icon,
                                               on_click=lambda p=item.path: ui.navigate.to(p)) \
                                .props("flat color=white dense no-wrap").classes("px-2").mark(f"nav-{item.path}")
                            if not shown:
                                button.tooltip(label)
                            if item.path == active:
                                button.classes("bg-white/20 rounded")
            with ui.row().classes("items-center gap-2 no-wrap"):
                if user is not None:
                    self._me(t, user)
                other = "en" if t.lang == "zh-CN" else "zh-CN"
                ui.button("EN" if other == "en" else "中文", on_click=lambda: _switch(other)) \
                    .props("flat color=white no-wrap").mark("lang")
                if user is not None:
                    log_out = ui.button("" if crowded else t("kiosk.log_out"), icon="logout", on_click=_log_out) \
                        .props("flat color=white no-wrap").mark("log-out")
                    if crowded:
                        log_out.tooltip(t("kiosk.log_out"))

    async def pin_forced(self, t: Translator, user: session.KioskUser) -> bool:
        """True (the page builds nothing more) while the person signed in with a one-time PIN: a PIN someone else
        gave works once, and they choose their own in a dialog no page gets past."""
        if not await io(self.pins.must_change, user.advisor_id):
            session.mark_one_time_pin(False)
            return False
        session.mark_one_time_pin(True)
        pin_change.forced(self.pins, t, user)
        return True

    def _me(self, t: Translator, user: session.KioskUser) -> None:
        """Who is signed in; their name opens their own menu ("change my PIN": everyone may change their own), in
        the room the name takes already (the manager's header is full of pages)."""
        def name() -> None:
            ui.label(t("kiosk.signed_in", name=user.name)).classes("text-lg whitespace-nowrap") \
                .mark("signed-in").props("data-testid=signed-in")

        if not user.may(staff.Permission.PIN_OWN):
            name()
            return
        anchor = ui.element("div")  # the dialog made when asked for: a page's every header need not carry one

        def change() -> None:
            anchor.clear()
            with anchor:
                pin_change.PinChangeDialog(self.pins, t, user, forced=False, on_changed=anchor.clear).open()

        with ui.button().props("flat color=white dense no-caps no-wrap data-testid=me-menu").mark("me-menu") \
                .classes("px-1").tooltip(t("pins.change_mine")):
            name()
            with ui.menu():
                ui.menu_item(t("pins.change_mine"), on_click=change).mark("change-pin") \
                    .props("data-testid=change-pin")

    async def sign_in(self, t: Translator, path: str) -> None:
        """The PIN keypad; signed in, the person stays on this page if it is theirs, else goes to their first
        (kiosk/common/sign_in.py)."""
        advisors = await io(self.auth.advisors)
        LoginView(self.auth, t, self.settings.kiosk.session_hours, page=path).build(advisors)


def refuse(t: Translator, user: session.KioskUser, path: str) -> None:
    """The lock, who may use this page, and the way to a page this person may use (or that there is none)."""
    home = staff.landing_page(user.roles)
    with ui.column().classes("w-full items-center pt-20"), \
            ui.card().classes("w-[46rem] max-w-full items-center gap-3 px-10 py-8 text-center") \
            .props("flat bordered").mark("not-allowed").props("data-testid=not-allowed"):
        with ui.element("div").classes("rounded-full bg-orange-1 p-4"):
            ui.icon("lock", size="3rem", color="orange-9")
        ui.label(t("nav.not_allowed")).classes("text-2xl font-bold text-grey-9")
        ui.label(t("nav.allowed_roles", roles=role_names(t, staff.page_roles(path)))) \
            .classes("text-lg text-grey-8").style("text-wrap: balance") \
            .mark("allowed-roles").props("data-testid=allowed-roles")
        ui.separator().classes("my-1")
        ui.label(t("nav.you_are", name=user.name, roles=role_names(t, user.roles))).classes("text-base text-grey-7")
        if home is not None and home != path:
            page = staff.PAGE_BY_PATH[home]
            ui.button(t(page.label_key), icon=page.icon, on_click=lambda: ui.navigate.to(home)) \
                .props("unelevated size=lg").mark("go-home").props("data-testid=go-home")
        else:
            ui.label(t("nav.no_page_yet")).classes("text-lg text-grey-9").mark("no-page").props("data-testid=no-page")
            ui.button(t("kiosk.log_out"), icon="logout", on_click=_log_out).props("outline size=lg")


def _switch(lang: str) -> None:
    session.set_language(lang)
    ui.navigate.reload()


def _log_out() -> None:
    session.log_out()
    ui.navigate.reload()
