"""What a customer message says: a text per template, channel and language, the site's own where [message_templates]
in the site TOML has one, the built-in one here otherwise.

Fields every text may use, as `{name}` (an unknown or empty one prints nothing; staff type these texts):
  customer           how the customer is addressed: 王先生
  plate              the plate as displayed: 京A·12345
  site, hotline      the dealership's name and booking hotline ([site] name, [booking] hotline)
  advisor            the service advisor's name
  link               the customer's own page of the order (/c/<token>): progress, estimate, additional work
  time, date         the time the message is about (the appointment, the new promise, ready since …), local
  work               what is done or booked: 20000公里保养、更换刹车片
  next_service_date  the next service's date (next_service) and
  next_service_km    its odometer reading, 40,000
  amount             a sum of money as the customer reads it: ¥1,234.00 (additional work waiting, the bill)
The appointment reminder may also use [templates]' fields: last_service_date, last_service_km, due.

A part in double brackets is printed only when every field in it has a value, so a text reads well without it:
"可以来提车了[[，费用{amount}]]。" is "可以来提车了。" when there is no amount (not "…，费用。").
Work, time, link, amount, hotline and the next service's km can each be empty: the built-in texts bracket the
words around them.

Channels: sms, wechat (the official account's template message: the text below is what the advisor sees and what
the provider's template is filled from), email (+ email_subject) and manual (the advisor sends it by hand, by
phone or their own WeChat: written to be read out). In zh-CN the appointment reminder is [templates]' text (sms,
wechat; manual reads the phone script, email the letter) unless [message_templates] overrides it.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any

from shopfloor.domain.aftersales import MessageTemplate
from shopfloor.services.context import ServiceContext
from shopfloor.services.messages import fill

T = MessageTemplate
FIELDS = ("customer", "plate", "site", "hotline", "advisor", "link", "time", "date", "work", "next_service_date",
          "next_service_km", "amount")
# the keys a [message_templates.<lang>.<template>] table may hold
TEXT_KEYS = ("sms", "wechat", "email", "email_subject", "manual")

_ZH: dict[MessageTemplate, dict[str, str]] = {
    T.APPOINTMENT_CONFIRMED: {
        "sms": "【{site}】{customer}您好，已为您的爱车{plate}预约{date} {time}[[的{work}]]，服务顾问{advisor}。"
               "[[改约请致电{hotline}。]]",
        "email_subject": "{site}：{date} {time} 预约已确认",
        "email": "尊敬的{customer}：\n\n您的爱车{plate}已预约{date} {time}到店[[，项目：{work}]]。服务顾问{advisor}"
                 "将为您服务。请携带保养手册。[[\n如需改约请致电{hotline}。]]\n\n{site}",
        "manual": "您好，这里是{site}。{customer}，您的爱车{plate}已预约{date} {time}[[做{work}]]，服务顾问{advisor}。"
                  "[[改约请致电{hotline}。]]",
    },
    T.CHECKED_IN: {
        "sms": "【{site}】{customer}您好，您的爱车{plate}已接车[[，预计{time}完工]]。[[维修进度与报价请点击：{link}]]",
        "email_subject": "{site}：{plate} 已接车",
        "email": "尊敬的{customer}：\n\n您的爱车{plate}已由服务顾问{advisor}接车[[，预计{date} {time}完工]]。"
                 "[[\n维修进度、报价与照片请查看：{link}]]\n\n{site}[[ {hotline}]]",
        "manual": "{customer}您好，您的爱车{plate}已接车[[，预计{time}完工]]。[[维修进度可以在这个链接查看：{link}]]",
    },
    T.PROMISE_CHANGED: {
        "sms": "【{site}】{customer}您好，很抱歉，您的爱车{plate}预计完工时间调整为{date} {time}。"
               "[[进度请查看：{link}]]",
        "email_subject": "{site}：{plate} 完工时间调整为{date} {time}",
        "email": "尊敬的{customer}：\n\n很抱歉，您的爱车{plate}需要更多时间，预计完工时间调整为{date} {time}。"
                 "\n如有疑问请联系服务顾问{advisor}。[[进度请查看：{link}]]\n\n{site}[[ {hotline}]]",
        "manual": "{customer}您好，这里是{site}。很抱歉，您的爱车{plate}需要更多时间，预计{date} {time}完工。",
    },
    T.ADDITIONAL_WORK: {
        "sms": "【{site}】{customer}您好，技师在您的爱车{plate}上发现需要处理的项目[[：{work}]][[（{amount}）]]，"
               "请您确认是否处理。[[查看与确认：{link}]]",
        "email_subject": "{site}：{plate} 追加项目待您确认",
        "email": "尊敬的{customer}：\n\n技师在您的爱车{plate}上发现需要处理的项目[[：{work}]][[，费用{amount}]]。"
                 "[[\n照片与说明请查看并确认：{link}]]\n如有疑问请联系服务顾问{advisor}。\n\n{site}[[ {hotline}]]",
        "manual": "{customer}您好，技师在您的爱车{plate}上发现[[{work}，]][[费用{amount}，]]请问是否需要处理？"
                  "[[照片在这个链接：{link}]]",
    },
    T.READY: {
        "sms": "【{site}】{customer}您好，您的爱车{plate}已完工，可以来店提车了。[[费用{amount}。]][[{link}]]",
        "email_subject": "{site}：{plate} 已完工，可以提车",
        "email": "尊敬的{customer}：\n\n您的爱车{plate}已完工并通过检验，可以来店提车。[[应付{amount}。]]\n"
                 "服务顾问{advisor}在店等候您。[[详情：{link}]]\n\n{site}[[ {hotline}]]",
        "manual": "{customer}您好，这里是{site}。您的爱车{plate}已经完工，可以来提车了[[，费用{amount}]]。",
    },
    T.NEXT_SERVICE: {
        "sms": "【{site}】{customer}您好，您的爱车{plate}下次保养约在{next_service_date}[[或{next_service_km}公里]]。"
               "[[预约请致电{hotline}。]]",
        "email_subject": "{site}：{plate} 保养提醒",
        "email": "尊敬的{customer}：\n\n您的爱车{plate}下次保养约在{next_service_date}[[或行驶至{next_service_km}"
                 "公里（以先到者为准）]]。[[\n预约热线：{hotline}]]\n\n{site}",
        "manual": "{customer}您好，这里是{site}。您的爱车{plate}快到保养时间了（{next_service_date}[[或"
                  "{next_service_km}公里]]），需要帮您预约吗？",
    },
    T.THANK_YOU: {
        "sms": "【{site}】{customer}您好，感谢您接受回访，也感谢您选择我们。[[如有任何问题请致电{hotline}。]]",
        "email_subject": "{site}：感谢您的反馈",
        "email": "尊敬的{customer}：\n\n感谢您接受回访并告诉我们您的感受。爱车{plate}如有任何问题，"
                 "请随时[[致电{hotline}]]与我们联系。\n\n{site}",
        "manual": "{customer}，感谢您接受回访，有任何问题请随时[[致电{hotline}]]与我们联系。",
    },
}

_EN: dict[MessageTemplate, dict[str, str]] = {
    T.APPOINTMENT_CONFIRMED: {
        "sms": "{site}: Dear {customer}, {plate} is booked[[ for {work}]] on {date} at {time} with {advisor}."
               "[[ To change it call {hotline}.]]",
        "email_subject": "{site}: your appointment on {date} at {time}",
        "email": "Dear {customer},\n\n{plate} is booked[[ for {work}]] on {date} at {time}. {advisor} will look after "
                 "you. Please bring the service book.[[\nTo change the appointment call {hotline}.]]\n\n{site}",
        "manual": "Hello, this is {site}. {customer}, {plate} is booked on {date} at {time}[[ for {work}]] with "
                  "{advisor}.",
    },
    T.APPOINTMENT_REMINDER: {
        "sms": "{site}: Dear {customer}, a reminder: {plate} is booked tomorrow, {date} at {time}[[, for {work}]]. "
               "Please bring the service book.[[ To change it call {hotline}.]]",
        "email_subject": "{site}: reminder, {date} at {time}",
        "email": "Dear {customer},\n\na reminder: {plate} is booked on {date} at {time}[[ for {work}]] with "
                 "{advisor}.\nPlease bring the service book.[[ To change the appointment call {hotline}.]]\n\n{site}",
        "manual": "Hello, this is {site}. {customer}, {plate} is booked tomorrow at {time}[[ for {work}]]. "
                  "Can you come as planned? Please bring the service book.",
    },
    T.CHECKED_IN: {
        "sms": "{site}: Dear {customer}, {plate} is checked in[[, ready by {time}]].[[ Progress and estimate: {link}]]",
        "email_subject": "{site}: {plate} checked in",
        "email": "Dear {customer},\n\n{advisor} has checked {plate} in[[; it should be ready on {date} at {time}]]."
                 "[[\nProgress, estimate and photos: {link}]]\n\n{site}[[ {hotline}]]",
        "manual": "{customer}, {plate} is checked in[[, ready by {time}]].[[ You can follow it here: {link}]]",
    },
    T.PROMISE_CHANGED: {
        "sms": "{site}: Dear {customer}, we are sorry: {plate} will now be ready on {date} at {time}.[[ {link}]]",
        "email_subject": "{site}: {plate} now ready on {date} at {time}",
        "email": "Dear {customer},\n\nwe are sorry: {plate} needs more time and will be ready on {date} at {time}."
                 "\nQuestions: {advisor}.[[ Progress: {link}]]\n\n{site}[[ {hotline}]]",
        "manual": "{customer}, this is {site}. We are sorry, {plate} needs more time: ready on {date} at {time}.",
    },
    T.ADDITIONAL_WORK: {
        "sms": "{site}: Dear {customer}, the technician found work needed on {plate}[[: {work}]][[ ({amount})]]. "
               "Please let us know whether to do it.[[ Look and decide: {link}]]",
        "email_subject": "{site}: {plate}, additional work waiting for you",
        "email": "Dear {customer},\n\nthe technician found work needed on {plate}[[: {work}]][[, {amount}]]."
                 "[[\nPhotos and your decision: {link}]]\nQuestions: {advisor}.\n\n{site}[[ {hotline}]]",
        "manual": "{customer}, the technician found work needed on {plate}[[: {work}]][[, {amount}]]. Shall we do "
                  "it?[[ Photos: {link}]]",
    },
    T.READY: {
        "sms": "{site}: Dear {customer}, {plate} is ready for pickup.[[ To pay: {amount}.]][[ {link}]]",
        "email_subject": "{site}: {plate} is ready",
        "email": "Dear {customer},\n\n{plate} is done and inspected: ready for pickup.[[ To pay: {amount}.]]\n"
                 "{advisor} is expecting you.[[ Details: {link}]]\n\n{site}[[ {hotline}]]",
        "manual": "{customer}, this is {site}. {plate} is ready for pickup[[; it comes to {amount}]].",
    },
    T.NEXT_SERVICE: {
        "sms": "{site}: Dear {customer}, {plate}'s next service is due around {next_service_date}"
               "[[ or {next_service_km} km]].[[ To book call {hotline}.]]",
        "email_subject": "{site}: {plate}'s next service",
        "email": "Dear {customer},\n\n{plate}'s next service is due around {next_service_date}[[ or at "
                 "{next_service_km} km, whichever comes first]].[[\nTo book call {hotline}.]]\n\n{site}",
        "manual": "{customer}, this is {site}. {plate} is due for its service ({next_service_date}"
                  "[[ or {next_service_km} km]]): shall we book it?",
    },
    T.THANK_YOU: {
        "sms": "{site}: Dear {customer}, thank you for your time on the phone and for choosing us."
               "[[ Anything at all: {hotline}.]]",
        "email_subject": "{site}: thank you",
        "email": "Dear {customer},\n\nthank you for telling us how your visit went. If anything about {plate} "
                 "is not right, please let us know[[ on {hotline}]].\n\n{site}",
        "manual": "{customer}, thank you for your time; anything at all, just let us know[[ on {hotline}]].",
    },
}

# a WeChat template message shows the same words as an SMS unless the site writes its own
for _texts in (*_ZH.values(), *_EN.values()):
    _texts.setdefault("wechat", _texts["sms"])

BUILT_IN: dict[str, dict[MessageTemplate, dict[str, str]]] = {"zh-CN": _ZH, "en": _EN}
# [templates]' reminder texts (the booking desk's) are zh-CN's appointment reminder, per channel
_REMINDER_FROM_TEMPLATES = {"sms": "sms", "wechat": "wechat", "email": "letter", "manual": "phone"}


@dataclass(frozen=True)
class Rendered:
    subject: str  # e-mail only ("" otherwise)
    body: str
    params: dict[str, str] = field(default_factory=dict)  # the fields as strings: a provider template's values


_OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)


def _kept(part: re.Match[str], values: dict[str, Any]) -> str:
    inner = part.group(1)
    try:
        names = [name for _lit, name, _spec, _conv in string.Formatter().parse(inner) if name is not None]
    except ValueError:  # a stray brace: fill() prints such a text as typed, so this part stays as typed too
        return part.group(0)
    return inner if all(str(values.get(name, "")).strip() for name in names) else ""


def fill_text(template: str, values: dict[str, Any]) -> str:
    """The text with its fields filled and each [[…]] part kept only when all its fields have a value."""
    return fill(_OPTIONAL.sub(lambda part: _kept(part, values), template), **values)


def text(ctx: ServiceContext, template: MessageTemplate, channel: str, language: str) -> str:
    """The text as configured: the site's [message_templates], then the built-in one (in zh-CN, the appointment
    reminder's from [templates]), then the built-in text of the other language rather than nothing."""
    configured = ctx.settings.message_templates.get(language, {})  # type: ignore[call-overload]
    own = configured.get(template.value, {}).get(channel)
    if own is not None:
        return str(own)
    if template is T.APPOINTMENT_REMINDER and language == "zh-CN" and channel in _REMINDER_FROM_TEMPLATES:
        return str(getattr(ctx.settings.templates, _REMINDER_FROM_TEMPLATES[channel]))
    if template is T.APPOINTMENT_REMINDER and language == "zh-CN" and channel == "email_subject":
        return "{site}：{date} {time} 预约提醒"
    for lang in (language, "zh-CN", "en"):
        found = BUILT_IN.get(lang, {}).get(template, {}).get(channel)
        if found is not None:
            return found
    return ""


def render(ctx: ServiceContext, template: MessageTemplate, channel: str, language: str,
           fields: dict[str, Any]) -> Rendered:
    """The message as the customer reads it in this channel; the manual channel reads as the advisor says it."""
    values = {k: ("" if v is None else v) for k, v in fields.items()}
    subject = fill_text(text(ctx, template, "email_subject", language), values) if channel == "email" else ""
    body = fill_text(text(ctx, template, channel, language), values)
    params = {k: str(values[k]) for k in FIELDS if values.get(k) not in (None, "")}
    return Rendered(subject=subject[:200], body=body, params=params)
