"""The login view: tap your name, type your PIN on a big keypad."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import session, sign_in
from shopfloor.kiosk.common.blocking import io

if TYPE_CHECKING:
    from shopfloor.services.auth import AdvisorInfo, AuthService

PIN_LENGTH_MAX = 8


class LoginView:
    def __init__(self, auth: AuthService, t: Translator, session_hours: int, page: str) -> None:
        """`page`: the staff page this keypad is on (signed in, the person stays there if it is theirs)."""
        self.auth = auth
        self.t = t
        self.session_hours = session_hours
        self.page = page
        self.selected: AdvisorInfo | None = None
        self.pin = ""

    def build(self, advisors: list[AdvisorInfo]) -> None:
        with ui.column().classes("w-full items-center gap-4 pt-2"):
            ui.label(self.t("kiosk.login_title")).classes("text-3xl font-bold")
            self.buttons: dict[int, ui.button] = {}
            with ui.row().classes("gap-4"):
                for advisor in advisors:
                    self.buttons[advisor.id] = ui.button(f"{advisor.code} · {advisor.name}",
                                                         on_click=lambda a=advisor: self._select(a)) \
                        .props("size=xl unelevated").classes("w-56 h-16 text-xl advisor-button") \
                        .mark(f"advisor-{advisor.id}")
            self.prompt = ui.label(self.t("kiosk.choose_advisor")).classes("text-lg text-grey-8")
            self.pin_display = ui.label("").classes("text-4xl tracking-[0.5em] h-10 font-mono")
            with ui.grid(columns=3).classes("gap-2"):
                for key in ["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK"]:
                    ui.button(key, on_click=lambda k=key: self._key(k)).props("unelevated outline size=xl") \
                        .classes("w-28 h-16 text-2xl").mark(f"pin-{key}")
            self.error = ui.label("").classes("text-lg text-negative").props("data-testid=login-error")

    def _select(self, advisor: AdvisorInfo) -> None:
        self.selected = advisor
        for advisor_id, button in self.buttons.items():
            button.props(f"color={'orange-9' if advisor_id == advisor.id else 'primary'}")
        self.pin = ""
        self.pin_display.text = ""
        self.error.text = ""
        self.prompt.text = self.t("kiosk.enter_pin", name=advisor.name)

    async def _key(self, key: str) -> None:
        if self.selected is None:
            self.error.text = self.t("kiosk.choose_advisor")
            return
        if key == "⌫":
            self.pin = self.pin[:-1]
        elif key == "OK":
            await self._submit()
            return
        elif len(self.pin) < PIN_LENGTH_MAX:
            self.pin += key
        self.pin_display.text = "●" * len(self.pin)

    async def _submit(self) -> None:
        advisor, pin = self.selected, self.pin
        self.pin = ""
        self.pin_display.text = ""
        if advisor is None or not pin:
            return
        try:
            info = await io(self.auth.login, advisor.id, pin, source=_source(),
                            known_device=session.is_known_device(advisor.id))
        except DomainError as exc:
            self.error.text = exc.message(self.t.lang)
            return
        # recorded on a new session by the sign-in route, which then opens this page or the person's first
        sign_in.start(info.id, info.name, info.roles, self.session_hours, self.page)


def _source() -> str:
    """The browser's address as the server sees it: wrong PINs are counted per source."""
    request = ui.context.client.request
    return request.client.host if request is not None and request.client is not None else "unknown"
