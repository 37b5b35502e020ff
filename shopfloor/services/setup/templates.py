"""Customer message texts ([message_templates] per language × template × channel) from /setup and the API: the
built-in text beside the site's own, the fields a text may use, a preview, and a reset to the built-in text. The
preview names the site as its customers will read it ([site] name and [booking] hotline from the live settings);
only the customer's, the car's and the visit's fields take sample values. A text is refused when it names a field
that does not exist (a typo would print nothing where the customer's plate should be) or holds a stray brace."""

from __future__ import annotations

import string
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from shopfloor.domain.aftersales import MessageTemplate
from shopfloor.domain.errors import Invalid
from shopfloor.services.audit import Actor
from shopfloor.services.context import ServiceContext
from shopfloor.services.customer_messages import templates as texts
from shopfloor.services.setup.csv_io import CsvImport, CsvRow, RowProblem, import_rows, read_rows, write_csv
from shopfloor.services.setup.site_config import SiteConfigService

LANGUAGES = ("zh-CN", "en")
CHANNELS = texts.TEXT_KEYS
REMINDER_FIELDS = ("last_service_date", "last_service_km", "due")
MAX_TEXT = 2000
COLUMNS = ("language", "template", "channel", "text")
# the customer's and the car's fields; the site's own ones come from the settings (see TemplateSetup.preview)
SAMPLE: dict[str, dict[str, str]] = {
    "zh-CN": {"customer": "王先生", "plate": "京A·12345",
              "advisor": "张伟", "link": "http://192.168.1.10:8080/c/AbC123", "time": "14:30", "date": "12月8日",
              "work": "20000公里保养", "next_service_date": "2027-06-08", "next_service_km": "40,000",
              "amount": "¥1,234.00", "last_service_date": "2026-06-08", "last_service_km": "15,000",
              "due": "20000公里保养"},
    "en": {"customer": "Mr Wang", "plate": "京A·12345",
           "advisor": "Zhang Wei", "link": "http://192.168.1.10:8080/c/AbC123", "time": "14:30", "date": "2026-12-08",
           "work": "20,000 km service", "next_service_date": "2027-06-08", "next_service_km": "40,000",
           "amount": "¥1,234.00", "last_service_date": "2026-06-08", "last_service_km": "15,000",
           "due": "20,000 km service"},
}


@dataclass(frozen=True)
class TemplateText:
    language: str
    template: str
    channel: str
    built_in: str
    own: str | None  # the site's text; None: the built-in one is used
    fields: tuple[str, ...]

    @property
    def text(self) -> str:
        return self.own if self.own is not None else self.built_in


def fields_of(template: MessageTemplate) -> tuple[str, ...]:
    return texts.FIELDS + (REMINDER_FIELDS if template is MessageTemplate.APPOINTMENT_REMINDER else ())


def _template(name: str) -> MessageTemplate:
    try:
        return MessageTemplate(name)
    except ValueError:
        raise RowProblem("template", "setup_catalogue.templates.error.template", value=name[:40],
                         known=", ".join(t.value for t in MessageTemplate)) from None


def check_text(template: MessageTemplate, text: str) -> str:
    """The text as it will be kept; RowProblem("text", …) names an unknown field or a stray brace."""
    body = text.replace("\r\n", "\n").strip()
    if not body:
        raise RowProblem("text", "setup_catalogue.templates.error.empty")
    if len(body) > MAX_TEXT:
        raise RowProblem("text", "setup_catalogue.templates.error.long", most=MAX_TEXT)
    try:
        names = [name for _lit, name, _spec, _conv in string.Formatter().parse(body) if name is not None]
    except ValueError:
        raise RowProblem("text", "setup_catalogue.templates.error.brace") from None
    allowed = fields_of(template)
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise RowProblem("text", "setup_catalogue.templates.error.field", field=unknown[0], known=", ".join(allowed))
    return body


def _checked_key(language: str, template: str, channel: str) -> MessageTemplate:
    if language not in LANGUAGES:
        raise RowProblem("language", "setup_catalogue.templates.error.language", value=language[:10],
                         known=", ".join(LANGUAGES))
    found = _template(template)
    if channel not in CHANNELS:
        raise RowProblem("channel", "setup_catalogue.templates.error.channel", value=channel[:20],
                         known=", ".join(CHANNELS))
    return found


def _invalid(problem: RowProblem) -> Invalid:
    return Invalid(problem.key, **problem.params)


class TemplateSetup:
    def __init__(self, ctx: ServiceContext, config: SiteConfigService) -> None:
        self.ctx = ctx
        self.config = config

    def built_in(self, language: str, template: MessageTemplate, channel: str) -> str:
        """What the sender says without the site's own text (the reminder's from [templates] in zh-CN)."""
        bare = SimpleNamespace(settings=self.ctx.settings.model_copy(update={"message_templates": {}}))
        return texts.text(bare, template, channel, language)  # type: ignore[arg-type]

    def texts(self, language: str | None = None) -> list[TemplateText]:
        own = self.ctx.settings.message_templates
        out = []
        for lang in (language,) if language else LANGUAGES:
            for template in MessageTemplate:
                for channel in CHANNELS:
                    mine = own.get(lang, {}).get(template.value, {}).get(channel)  # type: ignore[call-overload]
                    out.append(TemplateText(lang, template.value, channel, self.built_in(lang, template, channel),
                                            mine, fields_of(template)))
        return out

    def get(self, language: str, template: str, channel: str) -> TemplateText:
        try:
            found = _checked_key(language, template, channel)
        except RowProblem as problem:
            raise _invalid(problem) from None
        return next(x for x in self.texts(language) if x.template == found.value and x.channel == channel)

    def preview(self, language: str, template: str, channel: str, text: str | None = None) -> str:
        """The text (as typed, else as configured) filled as the sender fills it for this site: its own name and
        hotline (an empty hotline drops its [[…]] part, as in a real message), sample values for the rest."""
        try:
            found = _checked_key(language, template, channel)
            body = check_text(found, text) if text is not None else self.get(language, template, channel).text
        except RowProblem as problem:
            raise _invalid(problem) from None
        settings = self.ctx.settings
        values = {**SAMPLE.get(language, SAMPLE["en"]), "site": settings.site.name, "hotline": settings.booking.hotline}
        return texts.fill_text(body, values)

    def set_text(self, language: str, template: str, channel: str, text: str, *, actor: Actor | str) -> TemplateText:
        try:
            found = _checked_key(language, template, channel)
            body = check_text(found, text)
        except RowProblem as problem:
            raise _invalid(problem) from None
        self.config.update(lambda doc: self._put(doc, language, found.value, channel, body), actor,
                           what="message_templates")
        return self.get(language, template, channel)

    def reset(self, language: str, template: str, channel: str, *, actor: Actor | str) -> TemplateText:
        """Back to the built-in text."""
        try:
            found = _checked_key(language, template, channel)
        except RowProblem as problem:
            raise _invalid(problem) from None
        self.config.update(lambda doc: self._put(doc, language, found.value, channel, None), actor,
                           what="message_templates")
        return self.get(language, template, channel)

    def export_csv(self) -> bytes:
        """Every text in use (the site's or the built-in), so the file is a complete starting point to edit."""
        return write_csv(COLUMNS, ([x.language, x.template, x.channel, x.text] for x in self.texts()))

    def import_csv(self, data: bytes, *, actor: Actor | str) -> CsvImport:
        """Good rows set their text (a row equal to the built-in text resets it); bad ones are reported by line."""
        rows = read_rows(data, COLUMNS, COLUMNS)
        current = {(x.language, x.template, x.channel): x for x in self.texts()}
        wanted: dict[tuple[str, str, str], str | None] = {}

        def apply(row: CsvRow) -> str:
            key = (row.cells["language"], row.cells["template"], row.cells["channel"])
            found = _checked_key(*key)
            body = check_text(found, row.cells["text"])
            now = current[(key[0], found.value, key[2])]
            keep = None if body == now.built_in else body
            wanted[(key[0], found.value, key[2])] = keep
            if keep == now.own:
                return "unchanged"
            return "added" if now.own is None else "updated"

        report = import_rows(rows, apply)
        if any(current[k].own != v for k, v in wanted.items()):
            def change(doc: dict[str, Any]) -> None:
                for (lang, name, channel), body in wanted.items():
                    self._put(doc, lang, name, channel, body)

            self.config.update(change, actor, what="message_templates")
        return report

    @staticmethod
    def _put(doc: dict[str, Any], language: str, template: str, channel: str, body: str | None) -> None:
        by_lang = doc.setdefault("message_templates", {})
        by_template = by_lang.setdefault(language, {})
        by_channel = by_template.setdefault(template, {})
        if body is None:
            by_channel.pop(channel, None)
        else:
            by_channel[channel] = body
        if not by_channel:
            by_template.pop(template, None)
        if not by_template:
            by_lang.pop(language, None)
        if not by_lang:
            doc.pop("message_templates", None)
