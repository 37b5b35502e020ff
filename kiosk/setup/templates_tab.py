"""/setup → Message texts: per language, template and channel the built-in text beside the site's own
([message_templates]), the {fields} a text may use, a preview filled with sample values as the text is typed,
save (used by the message sender at once) and reset to the built-in text; all texts as CSV in and out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.domain.aftersales import MessageTemplate
from shopfloor.domain.errors import DomainError
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.setup.catalogue_common import csv_bar, refused
from shopfloor.services.setup.templates import CHANNELS, LANGUAGES

if TYPE_CHECKING:
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.session import KioskUser
    from shopfloor.services.setup.templates import TemplateSetup


class TemplatesTab:
    key = "templates"
    icon = "sms"

    def __init__(self, templates: TemplateSetup) -> None:
        self.templates = templates

    async def build(self, t: Translator, user: KioskUser) -> None:
        ui.label(t("setup_catalogue.templates.intro")).classes("text-grey-8 max-w-3xl")
        with ui.row().classes("w-full items-end gap-3"):
            language = ui.select({lang: t(f"setup_catalogue.templates.language.{lang}") for lang in LANGUAGES},
                                 value=t.lang if t.lang in LANGUAGES else LANGUAGES[0],
                                 label=t("setup_catalogue.templates.language_label")).props("outlined dense") \
                .classes("w-40").mark("template-language")
            template = ui.select({m.value: t(f"setup_catalogue.templates.name.{m.value}") for m in MessageTemplate},
                                 value=MessageTemplate.APPOINTMENT_CONFIRMED.value,
                                 label=t("setup_catalogue.templates.template_label")).props("outlined dense") \
                .classes("w-64").mark("template-name")
            channel = ui.select({c: t(f"setup_catalogue.templates.channel.{c}") for c in CHANNELS}, value="sms",
                                label=t("setup_catalogue.templates.channel_label")).props("outlined dense") \
                .classes("w-48").mark("template-channel")
            state = ui.label("").classes("text-sm").mark("template-state")
        fields = ui.label("").classes("text-grey-8 text-sm font-mono").mark("template-fields")
        with ui.row().classes("w-full no-wrap gap-3 items-start"):
            with ui.column().classes("w-1/2 gap-1"):
                ui.label(t("setup_catalogue.templates.own")).classes("font-bold")
                text = ui.textarea().props("outlined autogrow maxlength=2000").classes("w-full") \
                    .mark("template-text")
                with ui.row().classes("w-full gap-2"):
                    save = ui.button(t("setup_catalogue.save"), icon="save").props("unelevated").mark("template-save")
                    reset = ui.button(t("setup_catalogue.templates.reset"), icon="restart_alt").props("flat") \
                        .mark("template-reset")
            with ui.column().classes("w-1/2 gap-1"):
                ui.label(t("setup_catalogue.templates.preview")).classes("font-bold")
                preview = ui.label("").classes("w-full whitespace-pre-wrap bg-grey-2 rounded p-2 min-h-[60px]") \
                    .mark("template-preview")
                ui.label(t("setup_catalogue.templates.built_in")).classes("font-bold mt-2")
                built_in = ui.label("").classes("w-full whitespace-pre-wrap text-grey-8 text-sm") \
                    .mark("template-built-in")

        async def load() -> None:
            try:
                x = await io(self.templates.get, language.value, template.value, channel.value)
            except DomainError as exc:
                refused(t, exc)
                return
            text.value = x.text
            built_in.set_text(x.built_in)
            fields.set_text(t("setup_catalogue.templates.fields") + " " + " ".join(f"{{{f}}}" for f in x.fields))
            state.set_text(t("setup_catalogue.templates.is_own") if x.own is not None
                           else t("setup_catalogue.templates.is_built_in"))
            await show_preview()

        async def show_preview() -> None:
            try:
                shown = await io(self.templates.preview, language.value, template.value, channel.value,
                                 text.value or "")
            except DomainError as exc:
                preview.set_text(exc.message(t.lang))
                preview.classes(add="text-negative")
                return
            preview.classes(remove="text-negative")
            preview.set_text(shown)

        async def do_save() -> None:
            try:
                await io(self.templates.set_text, language.value, template.value, channel.value, text.value or "",
                         actor=user.actor)
            except DomainError as exc:
                refused(t, exc)
                return
            ui.notify(t("setup_catalogue.saved_live"), type="positive")
            await load()

        async def do_reset() -> None:
            try:
                await io(self.templates.reset, language.value, template.value, channel.value, actor=user.actor)
            except DomainError as exc:
                refused(t, exc)
                return
            ui.notify(t("setup_catalogue.templates.reset_done"), type="positive")
            await load()

        save.on_click(do_save)
        reset.on_click(do_reset)
        for box in (language, template, channel):
            box.on_value_change(load)
        text.on("update:model-value", show_preview, throttle=0.4)
        csv_bar(t, "message_templates.csv", self.templates.export_csv,
                lambda data: self.templates.import_csv(data, actor=user.actor), load, "templates")
        await load()
