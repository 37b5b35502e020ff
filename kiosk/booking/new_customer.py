"""A new customer and vehicle, from the booking page: surname, given name, salutation, phone, how to confirm (an
e-mail address and a WeChat openid where the customer is reached so), plate, VIN, model, mileage. Each field is
checked as the person leaves it and again on saving; the services' messages show under the field they are about."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.domain.errors import DomainError
from shopfloor.domain.identifiers import normalize_plate, normalize_vin
from shopfloor.i18n import Translator
from shopfloor.kiosk.common.blocking import io
from shopfloor.services.customers import CHANNELS, check_email, check_openid, normalize_phone

if TYPE_CHECKING:
    from shopfloor.services.audit import Actor
    from shopfloor.services.customers import CustomerService

SALUTATIONS = ("先生", "女士")
# which field an error from the services is about
_FIELD_OF_KEY = (("error.plate", "plate"), ("error.vin", "vin"), ("customer_error.vin_taken", "vin"),
                 ("customer_error.phone", "phone"), ("customer_error.surname", "surname"),
                 ("customer_error.name_too_long", "surname"), ("customer_error.channel", "channel"),
                 ("error.mileage", "mileage"), ("customer_error.model", "model"),
                 ("customer_error.email", "email"), ("customer_error.openid", "openid"))


class NewCustomerForm:
    def __init__(self, customers: CustomerService, t: Translator, actor: Actor,
                 on_saved: Callable[[dict[str, Any]], Awaitable[None]], on_cancel: Callable[[], None],
                 search_limit: int = 8, on_created: Callable[[dict[str, Any]], Awaitable[None]] | None = None) -> None:
        self.customers = customers
        self.t = t
        self.actor = actor
        self.on_saved = on_saved  # with the search hit of the new vehicle (or of the one already on file)
        self.on_cancel = on_cancel
        self.search_limit = search_limit
        self.on_created = on_created  # a new vehicle was saved (with a new tag), after on_saved

    def build(self) -> None:
        t = self.t
        self.fields: dict[str, Any] = {}
        with ui.card().classes("w-full gap-2 booking-form").props("flat bordered") \
                .mark("new-form").props("data-testid=new-form"):
            ui.label(t("booking_page.new.title")).classes("text-lg font-bold")
            with ui.row().classes("w-full no-wrap gap-2"):
                self.fields["surname"] = ui.input(t("booking_page.new.surname")).props("outlined") \
                    .classes("w-2/5") \
                    .mark("new-surname").props("data-testid=new-surname").on("blur", lambda: self._check("surname"))
                self.fields["given_name"] = ui.input(t("booking_page.new.given_name")).props("outlined") \
                    .classes("w-3/5").mark("new-given").props("data-testid=new-given")
            self.fields["salutation"] = ui.toggle(list(SALUTATIONS), value=SALUTATIONS[0]) \
                .props("unelevated toggle-color=primary spread").classes("w-full") \
                .mark("new-salutation").props("data-testid=new-salutation")
            self.fields["phone"] = ui.input(t("booking_page.new.phone")).props("outlined inputmode=tel") \
                .classes("w-full") \
                .mark("new-phone").props("data-testid=new-phone").on("blur", lambda: self._check("phone"))
            ui.label(t("booking_page.new.channel")).classes("text-grey-8 text-sm")
            self.fields["channel"] = ui.toggle({c: t(f"customer_channel.{c}") for c in CHANNELS}, value="sms") \
                .props("unelevated toggle-color=primary spread no-caps").classes("w-full") \
                .mark("new-channel").props("data-testid=new-channel")
            # optional: where messages reach a customer who chose e-mail or the official account
            with ui.row().classes("w-full no-wrap gap-2"):
                self.fields["email"] = ui.input(t("booking_page.new.email")).props("outlined inputmode=email") \
                    .classes("w-1/2") \
                    .mark("new-email").props("data-testid=new-email").on("blur", lambda: self._check("email"))
                self.fields["openid"] = ui.input(t("booking_page.new.openid")).props("outlined").classes("w-1/2") \
                    .mark("new-openid").props("data-testid=new-openid").on("blur", lambda: self._check("openid"))
            with ui.row().classes("w-full no-wrap gap-2"):
                self.fields["plate"] = ui.input(t("booking_page.new.plate"), placeholder="京A12345") \
                    .props("outlined").classes("w-1/2") \
                    .mark("new-plate").props("data-testid=new-plate").on("blur", lambda: self._check("plate"))
                self.fields["mileage"] = ui.number(t("booking_page.new.mileage"), min=0, max=2_000_000, step=1,
                                                   format="%d", suffix="km").props("outlined").classes("w-1/2") \
                    .mark("new-mileage").props("data-testid=new-mileage")
            self.fields["vin"] = ui.input(t("booking_page.new.vin")) \
                .props("outlined maxlength=20 input-class=font-mono").classes("w-full") \
                .mark("new-vin").props("data-testid=new-vin").on("blur", lambda: self._check("vin"))
            self.fields["model"] = ui.input(t("booking_page.new.model")).props("outlined").classes("w-full") \
                .mark("new-model").props("data-testid=new-model")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(t("booking_page.cancel"), on_click=lambda: self.on_cancel()).props("flat")
                self.save = ui.button(t("booking_page.new.save"), icon="save", on_click=self._create) \
                    .props("unelevated").mark("new-save").props("data-testid=new-save")

    def _error(self, name: str, message: str | None) -> None:
        element = self.fields[name]
        element.props["no-error-icon"] = True
        element.props["error"] = bool(message)
        element.props["error-message"] = message or ""
        element.update()

    def _check(self, name: str) -> bool:
        """Check one field as the person leaves it; True when it is fine."""
        value = (self.fields[name].value or "").strip()
        message = None
        try:
            if name == "surname" and not value:
                message = self.t("customer_error.surname_empty")
            elif name == "phone":
                if not value:
                    message = self.t("customer_error.phone_missing")
                else:
                    normalize_phone(value)
            elif name == "email":
                if not value and self.fields["channel"].value == "email":
                    message = self.t("customer_error.email_missing")
                else:
                    check_email(value)
            elif name == "openid":
                check_openid(value)
            elif name == "plate":
                normalize_plate(value)
            elif name == "vin":
                if not value:
                    message = self.t("booking_page.new.vin_missing")
                else:
                    normalize_vin(value)
        except DomainError as exc:
            message = exc.message(self.t.lang)
        self._error(name, message)
        return message is None

    async def _create(self) -> None:
        if not all([self._check(name) for name in ("surname", "phone", "email", "openid", "plate", "vin")]):
            ui.notify(self.t("booking_page.new.fix_fields"), type="warning")
            return
        f = self.fields
        plate = (f["plate"].value or "").strip()
        existing = [h for h in await io(self.customers.search, plate, self.search_limit)
                    if h["plate"] == normalize_plate(plate)]
        if existing and not await self._confirm_duplicate(existing[0]):
            return
        self.save.disable()
        try:
            hit = await io(self.customers.create, plate=plate, vin=f["vin"].value or "",
                           model=f["model"].value or "", surname=f["surname"].value or "",
                           given_name=f["given_name"].value or "", salutation=f["salutation"].value or "",
                           phone=f["phone"].value or "", preferred_channel=f["channel"].value or "sms",
                           email=f["email"].value or "", wechat_openid=f["openid"].value or "",
                           mileage_km=int(f["mileage"].value) if f["mileage"].value is not None else None,
                           actor=self.actor)
        except DomainError as exc:
            field = next((name for prefix, name in _FIELD_OF_KEY if exc.key.startswith(prefix)), None)
            if field is not None:
                self._error(field, exc.message(self.t.lang))
            ui.notify(exc.message(self.t.lang), type="negative", multi_line=True)
            self.save.enable()
            return
        ui.notify(self.t("booking_page.new.created", plate=hit["plate_display"]), type="positive")
        await self.on_saved(hit)
        if self.on_created is not None:
            await self.on_created(hit)

    async def _confirm_duplicate(self, other: dict[str, Any]) -> bool:
        """The plate is already on file: usually the same car; a new owner or a plate moved to a new car is
        the exception."""
        with ui.dialog() as dialog, ui.card().classes("w-[36rem]"):
            ui.label(self.t("booking_page.new.plate_on_file", plate=other["plate_display"],
                            customer=other["addressed"], model=other["model"])).classes("text-lg")
            with ui.row().classes("w-full justify-end"):
                ui.button(self.t("booking_page.new.use_existing"), on_click=lambda: dialog.submit("use")) \
                    .props("unelevated")
                ui.button(self.t("booking_page.new.create_anyway"), on_click=lambda: dialog.submit("new")) \
                    .props("flat")
        answer = await dialog
        if answer == "use":
            await self.on_saved(other)
        return bool(answer == "new")
