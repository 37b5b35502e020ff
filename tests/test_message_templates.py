"""Every built-in customer message reads well when a field it may lack is empty (no amount yet, no customer page,
no promised time, no hotline, no km for the next service): the words around such a field are a [[…]] part, left
out with it ("可以来提车了，费用。" was sent to a customer)."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import cast

import pytest

from shopfloor import settings as settings_mod
from shopfloor.domain.aftersales import MessageTemplate
from shopfloor.services.context import ServiceContext
from shopfloor.services.customer_messages.templates import BUILT_IN, TEXT_KEYS, fill_text, render

# render() reads the settings only
CTX = cast(ServiceContext, SimpleNamespace(settings=settings_mod.load(settings_mod.demo_config_path())))

FULL = {"customer": "王先生", "plate": "京A·12345", "site": "星辰丰田4S店", "hotline": "010-6588 8888",
        "advisor": "张伟", "link": "https://shop.example/c/abc", "time": "16:30", "date": "12月6日",
        "work": "20000公里保养", "next_service_date": "2027-04-19", "next_service_km": "40,000",
        "amount": "¥1,234.00"}
# what a message may be queued without: each alone, and all at once; an order checked in without a promised time
# has neither date nor time (an appointment and a new promise always have both)
MAY_BE_EMPTY = [("work",), ("link",), ("amount",), ("hotline",), ("next_service_km",),
                ("work", "amount", "link", "hotline", "next_service_km")]
NO_PROMISE = [("date", "time"), ("date", "time", "work", "link", "hotline")]

DANGLING = [
    re.compile(r"[：:,，;；(（]\s*($|\n|[。.，,；;)）])"),  # a colon or comma with nothing after it
    re.compile(r"(费用|应付|预计|或|致电|\bTo pay|\bcall|\baround|\bor|\bat|\bfor|\bon)\s*[。.，,；;)）]"),
    re.compile(r"\(\s*\)|（\s*）|[。.]\s*[。.]|\s[.,;:]|  |\s$|^\s"),
    re.compile(r"或(行驶至)?公里|or (at )?km|约在\s*或"),
]


def dangling(rendered: str) -> list[str]:
    letter = re.sub(r"^(尊敬的|Dear )[^\n]*[：,]\n\n", "", rendered)  # a letter's salutation ends with its colon
    return [m.group(0) for pattern in DANGLING for m in pattern.finditer(letter)]


def built_in() -> list[tuple[str, MessageTemplate, str]]:
    return [(lang, template, channel) for lang, texts in BUILT_IN.items() for template, by_channel in texts.items()
            for channel in TEXT_KEYS if channel in by_channel]


@pytest.mark.parametrize(("lang", "template", "channel"), built_in())
def test_every_built_in_text_reads_well_with_each_optional_field_empty(lang: str, template: MessageTemplate,
                                                                       channel: str) -> None:
    source = BUILT_IN[lang][template][channel]
    whole = fill_text(source, FULL)
    assert "{" not in whole and "[[" not in whole and not dangling(whole), whole
    for name in re.findall(r"\{(\w+)\}", source):  # with every field given, nothing is left out
        assert FULL[name] in whole, (name, whole)
    for empty in MAY_BE_EMPTY + (NO_PROMISE if template is MessageTemplate.CHECKED_IN else []):
        out = fill_text(source, FULL | dict.fromkeys(empty, ""))
        assert not dangling(out), (empty, out)
        assert "[[" not in out and "]]" not in out


def test_the_ready_message_without_an_amount_ends_where_the_sentence_ends() -> None:
    fields = FULL | {"amount": "", "link": ""}
    manual = render(CTX, MessageTemplate.READY, "manual", "zh-CN", fields).body
    assert manual == "王先生您好，这里是星辰丰田4S店。您的爱车京A·12345已经完工，可以来提车了。"
    with_amount = render(CTX, MessageTemplate.READY, "manual", "zh-CN", FULL).body
    assert with_amount.endswith("可以来提车了，费用¥1,234.00。")
    sms = render(CTX, MessageTemplate.READY, "sms", "zh-CN", fields).body
    assert sms == "【星辰丰田4S店】王先生您好，您的爱车京A·12345已完工，可以来店提车了。"
    english = render(CTX, MessageTemplate.READY, "manual", "en", fields).body
    assert english == "王先生, this is 星辰丰田4S店. 京A·12345 is ready for pickup."
    assert render(CTX, MessageTemplate.READY, "sms", "zh-CN", fields).params.get("amount") is None


def test_the_next_service_without_km_gives_the_date_alone() -> None:
    fields = FULL | {"next_service_km": ""}
    body = render(CTX, MessageTemplate.NEXT_SERVICE, "manual", "zh-CN", fields).body
    assert "（2027-04-19）" in body and "公里" not in body
    email = render(CTX, MessageTemplate.NEXT_SERVICE, "email", "en", fields).body
    assert "due around 2027-04-19.\n" in email and "whichever" not in email


@pytest.mark.parametrize(("typed", "values", "expected"), [
    ("{customer}[[，费用{amount}]]。", {"customer": "王先生", "amount": ""}, "王先生。"),
    ("{customer}[[，费用{amount}]]。", {"customer": "王先生", "amount": "¥9.00"}, "王先生，费用¥9.00。"),
    ("[[{a}和{b}]]", {"a": "x", "b": " "}, ""),  # every field in the part needs a value; blank is none
    ("[[没有字段]]", {}, "没有字段"),  # a part without fields is kept
    ("{customer} [[{amount} {]]", {"customer": "王先生", "amount": "1"}, "{customer} [[{amount} {]]"),  # as typed
    ("[[a\n{amount}]]b", {"amount": "1"}, "a\n1b"),  # a part may span lines
])
def test_a_sites_text_may_use_optional_parts(typed: str, values: dict[str, str], expected: str) -> None:
    assert fill_text(typed, values) == expected
    overridden = CTX.settings.model_copy(update={"message_templates": {"zh-CN": {"ready": {"sms": typed}}}})
    ctx = cast(ServiceContext, SimpleNamespace(settings=overridden))
    assert render(ctx, MessageTemplate.READY, "sms", "zh-CN", values).body == expected
