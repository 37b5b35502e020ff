"""/setup → Parts catalogue: searched by number or name, a part added or changed (name, price, stock on hand),
removed while no order names it, and the catalogue as CSV in and out (bad lines listed, good ones kept)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.setup.catalogue_common import csv_bar, dialog_actions, edit_dialog, from_dialog, key_input
from shopfloor.services.parts.catalogue import PartInfo

if TYPE_CHECKING:
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.session import KioskUser
    from shopfloor.services.setup.parts_catalogue import PartsCatalogueSetup

SHOWN = 200


class PartsTab:
    key = "parts"
    icon = "inventory_2"

    def __init__(self, parts: PartsCatalogueSetup) -> None:
        self.parts = parts

    async def build(self, t: Translator, user: KioskUser) -> None:
        found: dict[str, PartInfo] = {}
        with ui.row().classes("w-full items-center gap-2"):
            search = ui.input(t("setup_catalogue.parts.search")).props("outlined dense clearable debounce=300") \
                .classes("w-72").mark("parts-search")
            count = ui.label("").classes("text-grey-7")
            ui.space()
            ui.button(t("setup_catalogue.parts.add"), icon="add",
                      on_click=lambda: self._edit(t, user, None, refresh)).props("unelevated").mark("part-add")
        columns = [{"name": c, "label": t(f"setup_catalogue.parts.col.{c}"), "field": c,
                    "align": "right" if c in ("price", "stock") else "left"} for c in ("number", "name", "price",
                                                                                       "stock")]
        table = ui.table(columns=columns, rows=[], row_key="number", pagination=0) \
            .props("dense flat virtual-scroll hide-bottom").classes("w-full h-[420px] cursor-pointer") \
            .mark("parts-table")
        table.on("rowClick", lambda e: self._edit(t, user, found.get(str((e.args[1] or {}).get("number")))
                                                  if len(e.args) > 1 and isinstance(e.args[1], dict) else None,
                                                  refresh))

        async def refresh() -> None:
            query = str(search.value or "")
            parts = await io(self.parts.search, query, SHOWN)
            total = await io(self.parts.count)
            found.clear()
            found.update({p.number: p for p in parts})
            table.rows = [{"number": p.number, "name": p.name, "price": f"{p.price:,.2f}", "stock": f"{p.stock:g}"}
                          for p in parts]
            table.update()
            count.text = t("setup_catalogue.parts.shown", shown=len(parts), count=total)

        search.on_value_change(refresh)
        self.dialog_host = ui.element("div")
        csv_bar(t, "parts.csv", self.parts.export_csv, lambda data: self.parts.import_csv(data, actor=user.actor),
                refresh, "parts")
        await refresh()

    def _edit(self, t: Translator, user: KioskUser, part: PartInfo | None, refresh: Any) -> None:
        with edit_dialog(self.dialog_host, "w-[480px]", "part-dialog",
                         t("setup_catalogue.parts.edit" if part else "setup_catalogue.parts.add")) as dialog:
            number = key_input(t("setup_catalogue.parts.col.number"), part.number if part else "", 40, "w-full",
                               "part-number", fixed=part is not None)
            name = ui.input(t("setup_catalogue.parts.col.name"), value=part.name if part else "") \
                .props("outlined dense maxlength=80").classes("w-full").mark("part-name")
            with ui.row().classes("w-full no-wrap gap-2"):
                price = ui.number(t("setup_catalogue.parts.col.price"), value=part.price if part else None, min=0,
                                  format="%.2f").props("outlined dense").classes("grow").mark("part-price")
                stock = ui.number(t("setup_catalogue.parts.col.stock"), value=part.stock if part else 0, min=0) \
                    .props("outlined dense").classes("grow").mark("part-stock")

            async def save() -> None:
                await from_dialog(t, dialog, lambda: self.parts.save(
                    number.value or "", name.value or "", "" if price.value is None else price.value,
                    0 if stock.value is None else stock.value, actor=user.actor), "setup_catalogue.saved", refresh)

            async def remove() -> None:
                assert part is not None
                await from_dialog(t, dialog, lambda: self.parts.remove(part.number, actor=user.actor),
                                  "setup_catalogue.removed", refresh)

            dialog_actions(t, dialog, save, "part-save", remove if part is not None else None,
                           "part-remove")
