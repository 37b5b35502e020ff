"""The left column of /booking: find the customer and vehicle (one search box: plate, phone, name or VIN, typed
in part) or create them; then what to know before booking: visits, open items, upcoming appointments, flags."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.booking.new_customer import NewCustomerForm
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io

if TYPE_CHECKING:
    from shopfloor.services.audit import Actor
    from shopfloor.services.customers import CustomerService

SEARCH_LIMIT = 8
HISTORY_SHOWN = 3

OnVehicle = Callable[[dict[str, Any], dict[str, Any]], Awaitable[None]]  # (search hit, overview)
OnItem = Callable[[dict[str, Any]], None]
OnTag = Callable[[int, bool], Awaitable[None]]  # (vehicle id, just created)


class CustomerPanel:
    def __init__(self, customers: CustomerService, t: Translator, actor: Actor, on_vehicle: OnVehicle,
                 on_clear: Callable[[], None], on_item: OnItem, on_tag: OnTag | None = None) -> None:
        self.customers = customers
        self.t = t
        self.actor = actor
        self.on_vehicle = on_vehicle
        self.on_clear = on_clear
        self.on_item = on_item
        self.on_tag = on_tag  # show the vehicle's QR tag (and print it)
        self.searched = 0  # answers to older searches arriving late are dropped
        self.hit: dict[str, Any] | None = None

    def build(self) -> None:
        self.root = ui.column().classes("w-full gap-2")
        self.show_search()

    # --- search -----------------------------------------------------------------------------------------------
    def show_search(self, text: str = "") -> None:
        t = self.t
        self.hit = None
        self.root.clear()
        with self.root:
            ui.label(t("booking_page.find_title")).classes("text-lg font-bold")
            self.query = ui.input(placeholder=t("booking_page.search_hint"), value=text) \
                .props("outlined clearable debounce=300 autofocus input-class=text-lg").classes("w-full") \
                .on_value_change(self._search).mark("customer-search").props("data-testid=customer-search")
            with self.query.add_slot("prepend"):
                ui.icon("search")
            self.results = ui.column().classes("w-full gap-1") \
                .mark("search-results").props("data-testid=search-results")
            ui.button(t("booking_page.new_customer"), icon="person_add", on_click=self.show_new_form) \
                .props("outline size=md").classes("w-full").mark("new-customer").props("data-testid=new-customer")
        if text:
            self.query.set_value(text)

    async def _search(self) -> None:
        text = (self.query.value or "").strip()
        self.searched += 1
        mine = self.searched
        if len(text) < 1:
            self.results.clear()
            return
        try:
            hits = await io(self.customers.search, text, SEARCH_LIMIT)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative")
            return
        if mine != self.searched:
            return
        self.results.clear()
        with self.results:
            if not hits:
                ui.label(self.t("booking_page.no_hits")).classes("text-grey-7 py-2") \
                    .mark("no-hits").props("data-testid=no-hits")
            for h in hits:
                item = ui.item(on_click=lambda h=h: self.select(h)).classes("w-full rounded border bg-white") \
                    .mark(f"hit-{h['vehicle_id']}")
                with set_attrs(item, data_plate=h["plate"], data_testid=f"hit-{h['vehicle_id']}"):
                    with ui.item_section():
                        ui.item_label(h["plate_display"]).classes("text-lg font-bold")
                        ui.item_label(f"{h['customer']} · {h['addressed']} · {h['model']}").classes("text-base")
                        ui.item_label(f"{h['phone']} · VIN …{h['vin'][-6:]}").props("caption")
                    if h.get("complaining"):
                        with ui.item_section().props("side"):
                            ui.badge(self.t("confirmation.flag.complaining"), color="negative")

    async def select(self, hit: dict[str, Any]) -> None:
        try:
            overview = await io(self.customers.overview, hit["vehicle_id"])
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative")
            return
        self.hit = hit
        self._show_overview(hit, overview)
        await self.on_vehicle(hit, overview)

    async def select_id(self, vehicle_id: int) -> None:
        """A vehicle named in the address (/booking?vehicle=12, from the call lists)."""
        try:
            overview = await io(self.customers.overview, vehicle_id)
        except DomainError as exc:
            ui.notify(exc.message(self.t.lang), type="negative")
            return
        v, c = overview["vehicle"], overview["customer"]
        await self.select({"vehicle_id": v["id"], "plate": v["plate"], "plate_display": v["plate_display"],
                           "vin": v["vin"], "model": v["model"], "customer_id": c["id"], "customer": c["name"],
                           "addressed": c["addressed"], "phone": c["phone"],
                           "preferred_channel": c["preferred_channel"], "complaining": c["complaining"],
                           "tag": v["tag"]})

    def show_new_form(self) -> None:
        self.root.clear()
        with self.root:
            NewCustomerForm(self.customers, self.t, self.actor, on_saved=self.select, on_cancel=self.show_search,
                            search_limit=SEARCH_LIMIT, on_created=self._created).build()

    async def _created(self, hit: dict[str, Any]) -> None:
        """A new car has a new tag that nobody has seen yet: show it to be printed."""
        if self.on_tag is not None:
            await self.on_tag(hit["vehicle_id"], True)

    def _change(self) -> None:
        self.on_clear()
        self.show_search()

    # --- the vehicle before booking ---------------------------------------------------------------------------
    def _show_overview(self, hit: dict[str, Any], ov: dict[str, Any]) -> None:
        t = self.t
        v, c = ov["vehicle"], ov["customer"]
        self.root.clear()
        with self.root:
            with ui.card().classes("w-full gap-1").props("flat bordered") \
                .mark("vehicle-card").props("data-testid=vehicle-card"):
                with ui.row().classes("w-full items-center justify-between no-wrap"):
                    ui.label(v["plate_display"]).classes("text-3xl font-bold") \
                        .mark("vehicle-plate").props("data-testid=vehicle-plate")
                    ui.button(t("booking_page.change"), icon="swap_horiz", on_click=self._change) \
                        .props("flat").mark("change-vehicle").props("data-testid=change-vehicle")
                ui.label(f"{c['name']} · {c['addressed']}").classes("text-lg")
                channel = t("customer_channel." + c["preferred_channel"])
                ui.label(f"{c['phone']} · {t('booking_page.prefers', channel=channel)}").classes("text-grey-8")
                ui.label(f"{v['model']} · VIN {v['vin']}").classes("text-grey-8 text-sm")
                if v.get("tag") and self.on_tag is not None:
                    on_tag = self.on_tag
                    ui.button(t("booking_page.tag.show"), icon="qr_code_2", on_click=lambda: on_tag(v["id"], False)) \
                        .props("flat dense no-caps color=primary").mark("show-tag").props("data-testid=show-tag")
                last = ov.get("last_service") or {}
                facts = []
                if v.get("mileage_km") is not None:
                    facts.append(t("booking_page.mileage_is", km=f"{v['mileage_km']:,}"))
                if last.get("on"):
                    facts.append(t("booking_page.last_service", day=last["on"],
                                   km=f"{last['km']:,}" if last.get("km") is not None else "—"))
                if facts:
                    ui.label(" · ".join(facts)).classes("text-grey-8 text-sm")
                with ui.row().classes("gap-1"):
                    if ov.get("repeat_repair"):
                        ui.badge(t("confirmation.flag.repeat_repair", number=ov.get("repeat_repair_of") or ""),
                                 color="orange-9").classes("text-sm").mark("flag-repeat") \
                            .props("data-testid=flag-repeat")
                    if ov.get("complaining"):
                        ui.badge(t("confirmation.flag.complaining"), color="negative").classes("text-sm") \
                            .mark("flag-complaining").props("data-testid=flag-complaining")
                    if ov.get("open_ro"):
                        ui.badge(t("booking_page.in_workshop", number=ov["open_ro"]), color="primary") \
                            .classes("text-sm")
            self._appointments(ov["appointments"])
            self._items(ov["open_items"])
            self._visits(ov["visits"])

    def _section(self, title: str, count: int | None = None) -> None:
        text = title if count is None else f"{title} ({count})"
        ui.label(text).classes("text-grey-8 font-bold pt-1")

    def _appointments(self, appts: list[dict[str, Any]]) -> None:
        if not appts:
            return
        t = self.t
        self._section(t("booking_page.upcoming"), len(appts))
        with ui.column().classes("w-full gap-1").mark("upcoming").props("data-testid=upcoming"):
            for a in appts:
                with ui.row().classes("w-full no-wrap items-center gap-2 rounded bg-blue-1 px-2 py-1"):
                    ui.icon("event", color="primary")
                    ui.label(f"{a['start'][5:10]} {a['start'][11:16]} · {a['work']} · {a['advisor']['name']}") \
                        .classes("text-base grow")
                    ui.badge(t(f"appointment.{a['status']}"), color="primary").props("outline")

    def _items(self, items: list[dict[str, Any]]) -> None:
        if not items:
            return
        t = self.t
        self._section(t("booking_page.open_items"), len(items))
        colours = {"recall": "negative", "campaign": "orange-9", "declined": "grey-8", "parts_order": "teal"}
        with ui.column().classes("w-full gap-1").mark("open-items").props("data-testid=open-items"):
            for item in items:
                with ui.row().classes("w-full no-wrap items-center gap-2 rounded border px-2 py-1"):
                    with ui.column().classes("gap-0 grow"):
                        with ui.row().classes("gap-1 items-center"):
                            # a parts order says where its parts are (on order, arrived); the rest their kind
                            kind = item["state"] if item["kind"] == "parts_order" else item["kind"]
                            ui.badge(t(f"customer_item.{kind}"), color=colours.get(item["kind"], "grey"))
                            if item["kind"] == "parts_order" and item["state"] == "on_order" and item.get("eta"):
                                ui.label(t("booking_page.eta", day=item["eta"])).classes("text-sm text-teal-9")
                        ui.label(item["description"]).classes("text-base")
                        if item.get("part_numbers"):
                            ui.label(item["part_numbers"]).classes("text-xs text-grey-7")
                    button = ui.button(icon="add_circle", on_click=lambda i=item: self.on_item(i)) \
                        .props("flat round color=primary").tooltip(t("booking_page.item_to_work")) \
                        .mark(f"item-{item['id']}")
                    set_attrs(button, data_testid=f"item-{item['id']}")

    def _visits(self, visits: list[dict[str, Any]]) -> None:
        t = self.t
        self._section(t("booking_page.history"), len(visits))
        if not visits:
            ui.label(t("booking_page.no_visits")).classes("text-grey-7")
            return

        def row(visit: dict[str, Any]) -> None:
            work = ", ".join(w["description"] for w in visit["work"]) or visit.get("complaint") or "—"
            km = f" · {visit['mileage_km']:,} km" if visit.get("mileage_km") is not None else ""
            with ui.column().classes("w-full gap-0 border-b py-1"):
                ui.label(f"{visit['opened_on']} · {visit['number']}{km}").classes("text-sm text-grey-8")
                ui.label(work).classes("text-base")

        with ui.column().classes("w-full gap-0").mark("visits").props("data-testid=visits"):
            for visit in visits[:HISTORY_SHOWN]:
                row(visit)
            if len(visits) > HISTORY_SHOWN:
                with ui.expansion(t("booking_page.more_visits", count=len(visits) - HISTORY_SHOWN)) \
                        .classes("w-full").props("dense"):
                    for visit in visits[HISTORY_SHOWN:]:
                        row(visit)
