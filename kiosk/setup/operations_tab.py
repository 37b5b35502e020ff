"""/setup → Labour operations: the labour rates ([workshop] labour_rate, [reception] labour_rates per skill class;
the estimate prices with them at once) and the labour-operation catalogue (code, names, flat-rate hours, skill
class, the bay kind it needs — picked from the kinds the site's bays and operations have, named as the bays tab
names them —, a maintenance package's interval), added, changed, removed while nothing names it, taken out of use
and put back, and as CSV in and out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.domain.capacity import GENERAL_BAY, SKILLS
from shopfloor.domain.errors import DomainError
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.setup.bays_tab import kind_name
from shopfloor.kiosk.setup.catalogue_common import csv_bar, dialog_actions, edit_dialog, from_dialog, key_input, refused
from shopfloor.services.setup.operations import OperationView

if TYPE_CHECKING:
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.session import KioskUser
    from shopfloor.services.setup.bays import BayAdmin
    from shopfloor.services.setup.operations import OperationsService
    from shopfloor.services.setup.site_config import SiteConfigService


class OperationsTab:
    key = "operations"
    icon = "build"

    def __init__(self, operations: OperationsService, config: SiteConfigService, bays: BayAdmin) -> None:
        self.operations = operations
        self.config = config
        self.bays = bays

    async def build(self, t: Translator, user: KioskUser) -> None:
        self._rates(t, user)
        found: dict[str, OperationView] = {}
        with ui.row().classes("w-full items-center gap-2 mt-2"):
            ui.label(t("setup_catalogue.operations.title")).classes("text-subtitle1 font-bold")
            count = ui.label("").classes("text-grey-7")
            ui.space()
            ui.button(t("setup_catalogue.operations.add"), icon="add",
                      on_click=lambda: self._edit(t, user, None, refresh)).props("unelevated") \
                .mark("operation-add")
        columns = [{"name": c, "label": t(f"setup_catalogue.operations.col.{c}"), "field": c, "align": "left"}
                   for c in ("code", "name_zh", "name_en", "hours", "skill", "equipment", "interval_km", "in_use",
                             "state")]
        table = ui.table(columns=columns, rows=[], row_key="code", pagination=0) \
            .props("dense flat virtual-scroll hide-bottom").classes("w-full h-[330px] cursor-pointer") \
            .mark("operations-table")
        table.add_slot("body-cell-state", '<q-td :props="props" class="text-negative">{{ props.value }}</q-td>')
        table.on("rowClick", lambda e: self._edit(t, user, found.get(str((e.args[1] or {}).get("code")))
                                                  if len(e.args) > 1 and isinstance(e.args[1], dict) else None,
                                                  refresh))

        async def refresh() -> None:
            views = await io(self.operations.entries)
            found.clear()
            found.update({v.code: v for v in views})
            table.rows = [{"code": v.code, "name_zh": v.name_zh, "name_en": v.name_en, "hours": f"{v.hours:g}",
                           "skill": t(f"skill.{v.skill}"),
                           "equipment": kind_name(t, v.equipment) if v.equipment else "",
                           "interval_km": f"{v.interval_km:,}" if v.interval_km else "",
                           "in_use": t("setup_catalogue.operations.used") if v.in_use else "",
                           "state": "" if v.active else t("setup_catalogue.operations.out_of_use")} for v in views]
            table.update()
            count.text = t("setup_catalogue.count", count=len(views))

        self.dialog_host = ui.element("div")
        csv_bar(t, "operations.csv", self.operations.export_csv,
                lambda data: self.operations.import_csv(data, actor=user.actor), refresh, "operations")
        await refresh()

    def _rates(self, t: Translator, user: KioskUser) -> None:
        s = self.config.settings
        with ui.card().classes("w-full gap-2").mark("labour-rates"):
            ui.label(t("setup_catalogue.rates.title")).classes("text-subtitle1 font-bold")
            ui.label(t("setup_catalogue.rates.hint")).classes("text-grey-7 text-sm")
            with ui.row().classes("items-end gap-4"):
                default = ui.number(t("setup_catalogue.rates.default"), value=s.workshop.labour_rate, min=0,
                                    max=100_000, format="%.2f", suffix="¥/h").props("outlined dense") \
                    .classes("w-48").mark("rate-default")
                per_skill = {skill: ui.number(t("setup_catalogue.rates.skill", skill=t(f"skill.{skill}")),
                                              value=s.reception.labour_rates.get(skill), min=0, max=100_000,
                                              format="%.2f", suffix="¥/h").props("outlined dense clearable")
                             .classes("w-48").mark(f"rate-{skill}") for skill in SKILLS}

                async def save() -> None:
                    # other skill classes a site wrote by hand are kept as they are
                    rates = {k: v for k, v in self.config.settings.reception.labour_rates.items() if k not in SKILLS}
                    rates.update({k: float(box.value) for k, box in per_skill.items() if box.value not in (None, "")})
                    try:
                        await io(self.config.set_labour_rates, labour_rate=float(default.value or 0),
                                 per_skill=rates, actor=user.actor)
                    except DomainError as exc:
                        refused(t, exc)
                        return
                    ui.notify(t("setup_catalogue.saved_live"), type="positive")

                ui.button(t("setup_catalogue.save"), icon="save", on_click=save).props("unelevated") \
                    .mark("rates-save")

    async def _edit(self, t: Translator, user: KioskUser, op: OperationView | None, refresh: Any) -> None:
        # the kinds as they are now: a bay added on the bays tab since this tab was built is offered
        kinds = await io(self.bays.kinds)
        with edit_dialog(self.dialog_host, "w-[560px]", "operation-dialog",
                         t("setup_catalogue.operations.edit" if op else "setup_catalogue.operations.add")) as dialog:
            code = key_input(t("setup_catalogue.operations.col.code"), op.code if op else "", 20, "w-40",
                             "operation-code", fixed=op is not None)
            name_zh = ui.input(t("setup_catalogue.operations.col.name_zh"), value=op.name_zh if op else "") \
                .props("outlined dense maxlength=80").classes("w-full").mark("operation-name-zh")
            name_en = ui.input(t("setup_catalogue.operations.col.name_en"), value=op.name_en if op else "") \
                .props("outlined dense maxlength=80").classes("w-full").mark("operation-name-en")
            with ui.row().classes("w-full no-wrap gap-2"):
                hours = ui.number(t("setup_catalogue.operations.col.hours"), value=op.hours if op else None,
                                  min=0.1, max=100, step=0.1).props("outlined dense").classes("w-32") \
                    .mark("operation-hours")
                skill = ui.select({k: t(f"skill.{k}") for k in SKILLS}, value=op.skill if op else SKILLS[0],
                                  label=t("setup_catalogue.operations.col.skill")).props("outlined dense") \
                    .classes("w-40").mark("operation-skill")
            with ui.row().classes("w-full no-wrap gap-2"):
                now = (op.equipment or "") if op else ""
                # general work ("lift") is what no kind means: offered once, as "none"
                offered = {"": t("setup_catalogue.operations.equipment_none"),
                           **{k: kind_name(t, k) for k in kinds if k != GENERAL_BAY}}
                if now and now not in offered:
                    offered[now] = kind_name(t, now)
                equipment = ui.select(offered, value=now, with_input=True, new_value_mode="add-unique",
                                      label=t("setup_catalogue.operations.col.equipment")) \
                    .props("outlined dense").classes("w-64").mark("operation-equipment")
                interval = ui.number(t("setup_catalogue.operations.col.interval_km"),
                                     value=op.interval_km if op else None, min=1, step=1000) \
                    .props("outlined dense clearable").classes("w-36").mark("operation-interval")
            ui.label(t("setup_catalogue.operations.equipment_hint")).classes("text-caption text-grey-7")
            active = ui.switch(t("setup_catalogue.operations.active"), value=op.active if op else True) \
                .mark("operation-active")
            ui.label(t("setup_catalogue.operations.active_hint")).classes("text-caption text-grey-7")

            async def save() -> None:
                await from_dialog(t, dialog, lambda: self.operations.save(
                    code.value, name_zh.value, name_en.value, "" if hours.value is None else hours.value, skill.value,
                    equipment.value, None if interval.value in (None, "") else int(interval.value),
                    active=bool(active.value), actor=user.actor),
                    "setup_catalogue.saved", refresh)

            async def remove() -> None:
                assert op is not None
                await from_dialog(t, dialog, lambda: self.operations.remove(op.code, actor=user.actor),
                                  "setup_catalogue.removed", refresh)

            dialog_actions(t, dialog, save, "operation-save", remove if op is not None else None,
                           "operation-remove", t("setup_catalogue.operations.in_use_hint") if op and op.in_use
                           else None)
