"""The site's configuration (TOML under config/), validated with messages that name the key at fault."""

from __future__ import annotations

import re
import sys
import tomllib
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, ValidationError, field_validator, model_validator

from shopfloor.domain.aftersales import MessageTemplate
from shopfloor.domain.workshop import QcStage

Language = Literal["zh-CN", "en"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteSettings(_Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    name: str
    timezone: str = "Asia/Shanghai"
    language: Language = "zh-CN"
    opening: time = time(8, 0)
    closing: time = time(20, 0)
    late_grace_minutes: Annotated[int, Field(ge=0, le=240)] = 10
    ro_prefix: Annotated[str, Field(pattern=r"^[A-Z]{1,4}$")] = "RO"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. 'Asia/Shanghai')") from None
        return value

    @model_validator(mode="after")
    def _hours_in_order(self) -> SiteSettings:
        if self.closing <= self.opening:
            raise ValueError(f"closing {self.closing:%H:%M} must be after opening {self.opening:%H:%M}")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class KioskSettings(_Strict):
    max_pin_attempts: Annotated[int, Field(ge=1, le=20)] = 5
    lockout_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 5
    session_hours: Annotated[int, Field(ge=1, le=24)] = 12


class WebSettings(_Strict):
    """The web server (kiosk, boards, API) on the shop LAN, where the customers' Wi-Fi may be too."""

    # HTTPS with a certificate from the site's own CA (DATA_DIR/tls/ca.crt); `--https` turns it on as well
    https: bool = False
    # more DNS names or IP addresses for the web certificate than this host's own (e.g. a name in the shop's DNS)
    https_names: list[str] = []
    # reverse proxies (addresses or networks) whose X-Forwarded-For/-Proto/-Host/-Prefix headers are believed;
    # from anyone else those headers are removed before the request is handled
    trusted_proxies: list[IPvAnyNetwork] = []
    # largest request body; the DMS import (API and upload) may send more
    max_body_kb: Annotated[int, Field(ge=16, le=100 * 1024)] = 2048
    max_import_mb: Annotated[int, Field(ge=1, le=1024)] = 64
    # the address staff devices open this server at (http://192.168.1.10:8080): the job ticket's QR is a link to
    # the order there; empty: the address it serves on
    public_url: Annotated[str, Field(pattern=r"^(https?://[^\s/?#]+)?$")] = ""


class BookingSettings(_Strict):
    """Capacity booking: how the workshop's hours are sold (domain.md §2)."""

    # share of each day's technician hours per skill class kept from bookings for walk-ins, additional work
    # and carried-over cars
    walk_in_reserve: Annotated[float, Field(ge=0, le=0.9)] = 0.2
    # write-ups one advisor can take in one quarter hour (arrivals are staggered per advisor)
    advisor_arrivals_per_15_min: Annotated[int, Field(ge=1, le=10)] = 1
    slot_minutes: Literal[10, 15, 20, 30] = 15
    # the shift a technician without shift rows works, on these ISO weekdays (1 = Monday)
    shift_start: time = time(8, 30)
    shift_end: time = time(17, 30)
    break_minutes: Annotated[int, Field(ge=0, le=240)] = 60
    workdays: list[Annotated[int, Field(ge=1, le=7)]] = [1, 2, 3, 4, 5, 6, 7]
    # an appointment not arrived this long after its time is a no-show (late comes first: site.late_grace_minutes)
    no_show_after_minutes: Annotated[int, Field(ge=5, le=24 * 60)] = 60
    # the same vehicle back within this many days is flagged a repeat repair
    repeat_repair_days: Annotated[int, Field(ge=1, le=365)] = 30
    # periodic maintenance: every this many days or km, whichever comes first
    service_interval_days: Annotated[int, Field(ge=30, le=730)] = 180
    service_interval_km: Annotated[int, Field(ge=1000, le=50000)] = 5000
    # the call lists look this many days ahead
    call_ahead_days: Annotated[int, Field(ge=1, le=90)] = 30
    hotline: str = ""

    @model_validator(mode="after")
    def _shift_in_order(self) -> BookingSettings:
        if self.shift_end <= self.shift_start:
            raise ValueError(f"shift_end {self.shift_end:%H:%M} must be after shift_start {self.shift_start:%H:%M}")
        return self


class WorkshopSettings(_Strict):
    """Dispatch, quality checks and promised-time risk (domain.md §4)."""

    # the quality checks the site uses, in their order; an order is ready once the last of them passed
    qc_stages: Annotated[list[QcStage], Field(min_length=1)] = [QcStage.SELF, QcStage.FOREMAN, QcStage.FINAL]
    # an order turns at risk once this share of the time from check-in to its promise has passed and its
    # projected finish is after the promise
    risk_checkpoint: Annotated[float, Field(ge=0.1, le=0.95)] = 0.5
    # labour price per flat-rate hour: additional work is priced at this × hours + its parts
    labour_rate: Annotated[float, Field(ge=0, le=100_000)] = 300.0
    # a car back within this many days of a delivery for a similar concern is suggested as a comeback at check-in
    comeback_days: Annotated[int, Field(ge=1, le=365)] = 30

    @field_validator("qc_stages")
    @classmethod
    def _stages_in_order(cls, stages: list[QcStage]) -> list[QcStage]:
        order = list(QcStage)
        if sorted(set(stages), key=order.index) != stages:
            raise ValueError("qc_stages are listed once each, in their order: " + ", ".join(order))
        return stages


class ReceptionSettings(_Strict):
    """The walkaround, the estimate and the customer's page (domain.md §3)."""

    # a photo from the tablet larger than this is refused (413); what is kept is resized to photo_max_px on its
    # longer side, re-encoded as JPEG without its EXIF (where and when it was taken stays on the tablet)
    photo_max_mb: Annotated[int, Field(ge=1, le=64)] = 10
    photo_max_px: Annotated[int, Field(ge=320, le=4096)] = 1600
    # the handover record (交接车登记) is made for work longer than this, or when the customer leaves the car
    handover_hours: Annotated[float, Field(ge=0, le=100)] = 4.0
    # the customer's page stops opening this many days after delivery
    customer_link_days: Annotated[int, Field(ge=1, le=365)] = 14
    # price per flat-rate hour by skill class (maintenance, repair, electrical, body, paint …); a class not listed is
    # priced at [workshop] labour_rate
    labour_rates: dict[str, Annotated[float, Field(ge=0, le=100_000)]] = {}
    # millimetres: below red_below is red, below yellow_below yellow, else green
    tyre_tread_red_below: Annotated[float, Field(ge=0, le=20)] = 1.6
    tyre_tread_yellow_below: Annotated[float, Field(ge=0, le=20)] = 3.0
    brake_pad_red_below: Annotated[float, Field(ge=0, le=30)] = 2.0
    brake_pad_yellow_below: Annotated[float, Field(ge=0, le=30)] = 4.0
    # the labour operation a red or yellow item proposes, by item key ("tyre_tread" = "T01"); an item not listed
    # proposes a free line at proposal_hours
    proposals: dict[str, str] = {}
    proposal_hours: Annotated[float, Field(ge=0.1, le=40)] = 0.5
    # an advisor may give up to this share of the order as a discount; more needs the manager
    max_discount_percent: Annotated[float, Field(ge=0, le=100)] = 10.0
    # printed on the estimate above the customer's signature (the customer reads and signs exactly this)
    estimate_terms: str = ("本估价单所列项目及金额经客户确认后施工；如需增加项目或费用，本店将事先征得客户同意。"
                           "车内贵重物品请客户自行保管。")

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> ReceptionSettings:
        if self.tyre_tread_red_below > self.tyre_tread_yellow_below:
            raise ValueError("tyre_tread_red_below must not be above tyre_tread_yellow_below")
        if self.brake_pad_red_below > self.brake_pad_yellow_below:
            raise ValueError("brake_pad_red_below must not be above brake_pad_yellow_below")
        return self

    def labour_rate(self, skill: str, default: float) -> float:
        return self.labour_rates.get(skill, default)


class RetentionSettings(_Strict):
    """How long the server keeps what it no longer needs (shopfloor/services/pruning.py); it prunes every
    `every_minutes`."""

    # outbox rows the broker acknowledged: a reconnect republishes from the tables, never from these
    outbox_days: Annotated[int, Field(ge=1, le=3650)] = 7
    # finished print jobs (printed, moved, superseded): an order's ticket history reaches this far back
    print_job_days: Annotated[int, Field(ge=1, le=3650)] = 90
    every_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 60
    # customer messages that are over (sent, failed, cancelled): the order's message list reaches this far back
    message_days: Annotated[int, Field(ge=1, le=3650)] = 180
    # a customer without a visit for this many years is listed for export and erasure of their personal data
    # (PIPL: kept no longer than the purpose needs)
    personal_data_years: Annotated[int, Field(ge=1, le=30)] = 3


class BackupSettings(_Strict):
    """Nightly online copies of the SQLite database into DATA_DIR/backups (shopfloor/backup.py); PostgreSQL sites
    use pg_dump (README)."""

    at: time = time(2, 30)  # the site's time
    keep: Annotated[int, Field(ge=1, le=365)] = 14  # the newest this many nightly copies are kept


class TemplateSettings(_Strict):
    """Reminder texts (domain.md §2): {customer} {plate} {date} {time} {advisor} {work} {last_service_date}
    {last_service_km} {due} {hotline} {site} are filled in."""

    sms: str = ("【{site}】{customer}您好，您的爱车{plate}已预约{date} {time}的{work}，服务顾问{advisor}。"
                "请携带保养手册。如需改约请致电{hotline}。")
    wechat: str = ("{customer}您好！您的爱车{plate}预约了{date} {time}的{work}，服务顾问{advisor}将为您服务。"
                   "来店请带上保养手册。改约请回复或致电{hotline}。")
    letter: str = ("尊敬的{customer}：\n您的爱车{plate}上次保养为{last_service_date}（{last_service_km}公里），"
                   "本次保养预约在{date} {time}，项目：{work}。请携带保养手册。\n预约热线：{hotline}\n{site}")
    phone: str = ("您好，这里是{site}。{customer}，您的爱车{plate}预约在{date} {time}做{work}，"
                  "服务顾问{advisor}。请问能按时到店吗？请记得带保养手册。")


class SettlementSettings(_Strict):
    """Settlement and payment (验车结算, domain.md §4) and what the national settlement list (JT/T 1133) prints of
    the shop."""

    # the payment methods the cashier offers, in the order of the buttons
    payment_methods: Annotated[list[Literal["cash", "card", "alipay", "wechat", "account"]],
                               Field(min_length=1)] = ["wechat", "alipay", "card", "cash", "account"]
    # the shop's road-transport operating licence (道路运输经营许可证) number, address and phone: on the list
    licence_number: str = ""
    address: str = ""
    phone: str = ""
    # the repair's guarantee (质量保证期) printed on the settlement list: days or kilometres, whichever first
    warranty_days: Annotated[int, Field(ge=0, le=3650)] = 30
    warranty_km: Annotated[int, Field(ge=0, le=100_000)] = 5000


class DeliverySettings(_Strict):
    """The completion check and delivery (domain.md §4) and the next-service reminder."""

    # the next-service reminder goes out this many days before the next service is due
    reminder_days_before: Annotated[int, Field(ge=0, le=60)] = 7


class SmsSettings(_Strict):
    """An SMS gateway (the access key and secret are in credentials.toml [sms])."""

    provider: Literal["aliyun"] = "aliyun"  # Alibaba Cloud SMS (dysmsapi SendSms)
    url: Annotated[str, Field(pattern=r"^https?://[^\s]+$")] = "https://dysmsapi.aliyuncs.com/"
    sign_name: str = ""  # the approved signature (签名)
    # the gateway's approved template code per message template (appointment_confirmed = "SMS_123456789" …); a
    # template without a code is not sent by SMS but handed to the advisor (manual)
    template_codes: dict[str, str] = {}


class WechatSettings(_Strict):
    """A WeChat official account's template messages (appid and secret in credentials.toml [wechat])."""

    url: Annotated[str, Field(pattern=r"^https?://[^\s]+$")] = "https://api.weixin.qq.com"
    template_ids: dict[str, str] = {}  # per message template, as for SMS


class EmailSettings(_Strict):
    """An SMTP server (user and password, if any, in credentials.toml [email])."""

    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    sender: str  # the From address


class MessagesSettings(_Strict):
    """Customer messages (shopfloor/services/customer_messages): the channels configured, when they may go out and
    how the sender retries. A customer whose channel is not configured gets the text through their advisor."""

    sms: SmsSettings | None = None
    wechat: WechatSettings | None = None
    email: EmailSettings | None = None
    quiet_from: time = time(21, 0)  # no message goes out between these (it waits for the morning)
    quiet_until: time = time(8, 0)
    reminder_at: time = time(10, 0)  # the appointment reminder the day before goes out at this time
    timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10.0
    max_attempts: Annotated[int, Field(ge=1, le=50)] = 6
    retry_seconds: Annotated[int, Field(ge=1, le=3600)] = 30  # doubled after each failure


class FollowUpSettings(_Strict):
    """The follow-up calls and complaints (domain.md §5)."""

    after_service_days: Annotated[int, Field(ge=1, le=30)] = 3  # the 3-day call (3DC)
    new_car_days: Annotated[int, Field(ge=1, le=60)] = 7  # after a new car's sale, where the date is known
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 3  # unreachable: tried again the next day, this many times
    acknowledge_hours: Annotated[float, Field(gt=0, le=24 * 14)] = 24.0
    investigate_hours: Annotated[float, Field(gt=0, le=24 * 60)] = 48.0
    # an important complaint (safety, media, a lawyer …) cannot wait a day for someone to call back
    important_acknowledge_hours: Annotated[float, Field(gt=0, le=24 * 14)] = 2.0
    important_investigate_hours: Annotated[float, Field(gt=0, le=24 * 60)] = 24.0
    second_call_days: Annotated[int, Field(ge=0, le=30)] = 3  # after a complaint's resolution


class KpiSettings(_Strict):
    """Targets drawn as lines on the figures (NADA's references by default) and the windows they count in."""

    productivity_target: Annotated[float, Field(ge=0, le=2)] = 0.85  # worked on jobs ÷ clocked in (85–87.5 %)
    productivity_target_high: Annotated[float, Field(ge=0, le=2)] = 0.875
    efficiency_target: Annotated[float, Field(ge=0, le=5)] = 1.25  # flat-rate hours sold ÷ worked
    proficiency_target: Annotated[float, Field(ge=0, le=5)] = 1.0  # sold ÷ clocked in
    first_time_fix_days: Annotated[int, Field(ge=1, le=365)] = 30  # no comeback within this many days
    insurance_renewal_target: Annotated[float, Field(ge=0, le=1)] = 0.2  # a month


class PrinterSettings(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,32}$")]
    label: str = ""
    # file: the demo's simulation (one .bin per job); network: raw TCP (port 9100); usb: the kernel's
    # printer device (/dev/usb/lp0); serial: an RS-232 port.
    transport: Literal["file", "network", "usb", "serial"] = "file"
    path: str = ""                  # file: folder for the .bin files, relative to the data directory
    host: str = ""                  # network
    port: Annotated[int, Field(ge=1, le=65535)] = 9100
    device: str = ""                # usb: /dev/usb/lp0; serial: /dev/ttyUSB0
    baudrate: Annotated[int, Field(ge=1200, le=921600)] = 19200
    timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10.0
    # Ask the printer for its status (ESC/POS DLE EOT) before and after each job; turn off only for printers
    # that never answer (some parallel-port clones), at the price of not noticing a hung printer.
    status_queries: bool = True
    encoding: Literal["gb18030", "gbk", "ascii"] = "gb18030"
    columns: Annotated[int, Field(ge=24, le=64)] = 48
    # The printer's model as python-escpos's capability profiles name it (e.g. "TM-T88V", "TM-T20II"): its font A
    # columns are the default for `columns`, and whether it has a cutter decides how a ticket ends. "": an
    # 80 mm printer with a partial cutter, 48 columns unless `columns` says otherwise.
    model: str = ""

    @model_validator(mode="after")
    def _known_model(self) -> PrinterSettings:
        if not self.model:
            return self
        from shopfloor.printer.profiles import model_profile

        try:
            profile = model_profile(self.model)
            columns = profile.ticket_columns(self.columns if "columns" in self.model_fields_set else None)
        except ValueError as exc:
            raise ValueError(f"printer {self.name!r}: {exc}") from None
        # frozen: the canonical model name and the profile's columns set once, while validating
        object.__setattr__(self, "model", profile.model)
        object.__setattr__(self, "columns", columns)
        return self

    @model_validator(mode="after")
    def _transport_complete(self) -> PrinterSettings:
        if self.transport == "network" and not self.host:
            raise ValueError(f"printer {self.name!r}: transport 'network' needs host")
        if self.transport in ("usb", "serial") and not self.device:
            raise ValueError(f"printer {self.name!r}: transport {self.transport!r} needs device")
        return self

    def directory(self, data_dir: Path) -> Path:
        path = Path(self.path or f"tickets/{self.name}")
        return path if path.is_absolute() else data_dir / path


class Settings(_Strict):
    site: SiteSettings
    kiosk: KioskSettings = KioskSettings()
    web: WebSettings = WebSettings()
    booking: BookingSettings = BookingSettings()
    templates: TemplateSettings = TemplateSettings()
    retention: RetentionSettings = RetentionSettings()
    backup: BackupSettings = BackupSettings()
    workshop: WorkshopSettings = WorkshopSettings()
    reception: ReceptionSettings = ReceptionSettings()
    settlement: SettlementSettings = SettlementSettings()
    delivery: DeliverySettings = DeliverySettings()
    messages: MessagesSettings = MessagesSettings()
    # message texts by language, template and channel ("zh-CN" → "ready" → "sms"; "email_subject" for the e-mail's
    # subject): {customer} {plate} {link} {time} … as shopfloor/services/customer_messages/templates.py lists;
    # what is left out keeps the built-in text
    message_templates: dict[Language, dict[str, dict[str, str]]] = {}
    follow_up: FollowUpSettings = FollowUpSettings()
    kpi: KpiSettings = KpiSettings()
    printers: Annotated[list[PrinterSettings], Field(min_length=1)]

    @field_validator("message_templates")
    @classmethod
    def _known_message_templates(cls, texts: dict[str, dict[str, dict[str, str]]]
                                 ) -> dict[str, dict[str, dict[str, str]]]:
        # a misspelt template or channel would silently keep the built-in text: refused by check-config instead
        templates, channels = {t.value for t in MessageTemplate}, ("sms", "wechat", "email", "email_subject", "manual")
        for lang, by_template in texts.items():
            for name, by_channel in by_template.items():
                if name not in templates:
                    raise ValueError(f"[message_templates.{lang}]: unknown template {name!r} "
                                     f"(known: {', '.join(sorted(templates))})")
                for channel in by_channel:
                    if channel not in channels:
                        raise ValueError(f"[message_templates.{lang}.{name}]: unknown channel {channel!r} "
                                         f"(known: {', '.join(channels)})")
        return texts

    @field_validator("printers")
    @classmethod
    def _unique_printers(cls, printers: list[PrinterSettings]) -> list[PrinterSettings]:
        names = [p.name for p in printers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"printer names must be unique; repeated: {', '.join(dupes)}")
        return printers

    def printer(self, name: str) -> PrinterSettings:
        for p in self.printers:
            if p.name == name:
                return p
        raise KeyError(name)


class ConfigError(ValueError):
    """The configuration file is unreadable or invalid; the message names each key at fault."""


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse(text: str, source: str = "<config>") -> Settings:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            msg = re.sub(r"^Value error, ", "", err["msg"])
            got = f" (got {err['input']!r})" if err["type"] not in ("missing", "extra_forbidden") and not isinstance(
                err.get("input"), dict | list) else ""
            problems.append(f"  {_key_path(err['loc'])}: {msg}{got}")
        raise ConfigError(f"{source}: invalid configuration:\n" + "\n".join(problems)) from None


def load(path: Path) -> Settings:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return parse(text, str(path))


def demo_config_path() -> Path:
    """config/demo.toml in a checkout, or the copy installed under <prefix>/share/shopfloor/config."""
    for candidate in (
        Path(__file__).resolve().parent.parent / "config" / "demo.toml",
        Path(sys.prefix) / "share" / "shopfloor" / "config" / "demo.toml",
    ):
        if candidate.exists():
            return candidate
    raise ConfigError("demo.toml not found: pass --config FILE")
