"""The customer's signature on the estimate: what they sign (the lines and totals, the promise, their choices, the
terms exactly as stored), their name and the pad; once signed, the signature and its digest instead; below, every
version with who signed it when. `SignatureForm` is shared with the handover record."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from nicegui import ui

from shopfloor.contract.staff import Permission
from shopfloor.domain.errors import DomainError
from shopfloor.i18n import Translator
from shopfloor.kiosk.common import frame
from shopfloor.kiosk.common.attributes import set_attrs
from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.common.signature_pad import SignaturePad
from shopfloor.kiosk.reception.estimate_format import moment, money, quantity, short_digest

if TYPE_CHECKING:
    from shopfloor.clock import SiteClock
    from shopfloor.kiosk.reception.estimate_page import EstimateDesk, Loaded
    from shopfloor.services.reception.estimate import EstimateView, VersionInfo

MAX_SIGNER = 80  # SignedDocument.signer
PAD_HEIGHT = 230  # px: the whole tablet's width, and the terms and what is signed still fit above it


def png_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def signed_block(t: Translator, clock: SiteClock, signer: str | None, signed_at: Any, digest: str | None,
                 png: bytes | None, testid: str) -> None:
    """A signed version: the signature as stored, who signed, when, and the digest the printouts carry."""
    with ui.row().classes("w-full items-center gap-6 no-wrap"):
        if png:
            set_attrs(ui.image(png_url(png)).props("no-spinner no-transition fit=contain")
                      .classes("w-[28rem] h-40 bg-white border border-gray-300 rounded"),
                      data_testid=f"{testid}-signature")
        with ui.column().classes("gap-1"):
            ui.label(t("estimate.sign.signer_is", signer=signer or "")).classes("text-lg")
            ui.label(t("estimate.sign.at", time=moment(signed_at, clock, full=True))).classes("text-base text-grey-8")
            ui.label(t("estimate.sign.digest", digest=short_digest(digest))).classes("text-base text-grey-8 font-mono")


class SignatureForm:
    """The signer's name (pre-filled, editable: a relative may sign), the pad, clear and sign. `on_sign(name, png)`
    answers whether it was stored; the pad is wiped then."""

    def __init__(self, t: Translator, *, signer: str, testid: str, sign_label: str,
                 on_sign: Callable[[str, bytes], Awaitable[bool]]) -> None:
        self.t, self.signer, self.testid, self.sign_label, self.on_sign = t, signer, testid, sign_label, on_sign
        self.busy = False

    def build(self) -> None:
        t = self.t
        with ui.row().classes("w-full items-center no-wrap gap-3"):
            self.name = set_attrs(ui.input(t("estimate.sign.signer"), value=self.signer)
                                  .props(f"outlined dense maxlength={MAX_SIGNER}").classes("w-72"),
                                  data_testid=f"{self.testid}-signer")
            self.name.on_value_change(lambda _: self._ready())
            self.hint = ui.label(t("estimate.sign.hint")).classes("grow text-grey-7 text-base")
            set_attrs(ui.button(t("estimate.sign.clear"), icon="backspace", on_click=self._clear)
                      .props("outline size=md"), data_testid=f"{self.testid}-clear")
            self.button = set_attrs(ui.button(self.sign_label, icon="draw", on_click=self._sign)
                                    .props("unelevated size=lg color=positive"), data_testid=f"{self.testid}-sign")
        self.pad = set_attrs(SignaturePad(placeholder=t("estimate.sign.placeholder"), height=PAD_HEIGHT,
                                          on_ink=lambda _png: self._ready()), data_testid=f"{self.testid}-pad")
        self._ready()

    def _ready(self) -> None:
        has_ink = self.pad.png is not None
        named = bool((self.name.value or "").strip())
        self.button.set_enabled(has_ink and named and not self.busy)
        self.hint.text = self.t("estimate.sign.hint" if not has_ink else
                                "estimate.sign.ready" if named else "estimate.sign.needs_name", button=self.sign_label)

    def _clear(self) -> None:
        self.pad.wipe()
        self._ready()

    async def _sign(self) -> None:
        png, name = self.pad.png, (self.name.value or "").strip()
        if png is None or not name or self.busy:
            return
        self.busy = True
        self._ready()
        try:
            stored = await self.on_sign(name[:MAX_SIGNER], png)
        finally:
            self.busy = False
        if stored and not self.pad.is_deleted:
            self._clear()
        elif not self.button.is_deleted:
            self._ready()


class SignTab:
    def __init__(self, desk: EstimateDesk) -> None:
        self.desk, self.t = desk, desk.t
        self.shown: tuple[int, bool, str | None] | None = None  # (version, signed, consent) drawn below

    def build(self) -> None:
        self.info = ui.column().classes("w-full gap-2").props("data-testid=sign-info").mark("sign-info")
        self.form = ui.column().classes("w-full gap-2").mark("sign-form")
        self.history = ui.column().classes("w-full gap-1 pt-3").mark("estimate-history")

    def draw(self, data: Loaded) -> None:
        est = data.estimate
        self._draw_info(data)
        if self.shown != (est.version, est.signed, est.consent):
            # a new version (or the signature just made) replaces the pad: ink for another version is not kept
            self.shown = (est.version, est.signed, est.consent)
            self._draw_form(data)
        self._draw_history(data.versions, est.version)

    def _draw_info(self, data: Loaded) -> None:
        t, est = self.t, data.estimate
        self.info.clear()
        with self.info:
            self._banner(est)
            with ui.row().classes("w-full no-wrap gap-4 items-stretch"):
                with ui.card().classes("w-[58%] gap-0 py-2").props("flat bordered").mark("sign-summary"):
                    with ui.element("div").classes("w-full overflow-y-auto pr-1 grow").style("max-height: 8.25rem"):
                        for line in est.lines:
                            with ui.row().classes("w-full justify-between no-wrap gap-3 py-0.5"):
                                text = line.description if line.kind == "labour" else \
                                    f"{line.description} ×{quantity(line.quantity)}"
                                ui.label(text).classes("truncate text-base")
                                who = t("estimate.payer." + line.payer)
                                payer = "" if line.payer == "customer" else f"（{who}）" if t.lang == "zh-CN" \
                                    else f"({who}) "
                                ui.label(f"{payer}{money(line.amount)}").classes("text-base whitespace-nowrap")
                    ui.separator()
                    with ui.row().classes("w-full justify-between no-wrap pt-1"):
                        extras = [t("estimate.promised_short", time=self.desk.when(est.promised_at))]
                        if est.discount:
                            extras.append(t("estimate.discount_short", amount=money(est.discount)))
                        ui.label(" · ".join(extras)).classes("text-sm text-grey-8")
                        ui.label(t("estimate.customer_total_is", amount=money(est.customer_total))) \
                            .classes("text-lg font-bold text-primary").mark("sign-customer-total")
                    choices = [t("estimate.keep_parts_" + ("unset" if est.keep_replaced_parts is None else
                                                          "yes" if est.keep_replaced_parts else "no"))]
                    if est.followup_channel:
                        choices.append(t("estimate.followup_is", channel=t(f"estimate.channel.{est.followup_channel}")))
                    ui.label(" · ".join(choices)).classes("text-sm text-grey-8")
                with ui.card().classes("w-[42%] gap-1 py-2 bg-grey-1").props("flat bordered"):
                    if est.consent == "decision":
                        # how and when the customer agreed to each line: nothing of this needs the pad
                        ui.label(t("estimate.sign.consented_title")).classes("text-xs text-grey-7")
                        with ui.element("div").classes("w-full overflow-y-auto").style("max-height: 5.5rem") \
                                .props("data-testid=sign-consented"):
                            for decision in est.consented_by:
                                ui.label(f"• {decision}").classes("text-sm text-green-10")
                    elif est.changes and not est.signed:
                        # each change on its own line: what the customer signs for this time
                        ui.label(t("estimate.changes_title")).classes("text-xs text-grey-7")
                        with ui.element("div").classes("w-full overflow-y-auto").style("max-height: 5.5rem") \
                                .props("data-testid=sign-changes"):
                            for change in est.changes:
                                ui.label(f"• {change}").classes("text-sm text-orange-10")
                    ui.label(t("estimate.terms")).classes("text-xs text-grey-7")
                    # exactly as stored: the customer signs these words, so nothing is trimmed or reflowed
                    ui.label(est.terms).classes("text-base whitespace-pre-wrap").style("line-height: 1.45") \
                        .props("data-testid=estimate-terms").mark("estimate-terms")

    def _banner(self, est: EstimateView) -> None:
        t = self.t
        if est.signed:
            colour, icon = "bg-green-1 text-green-10", "verified"
            text = t("estimate.sign.signed", version=est.version, signer=est.signer or "",
                     time=self.desk.when(est.signed_at), digest=short_digest(est.digest))
        elif est.consent == "decision":
            colour, icon = "bg-green-1 text-green-10", "how_to_reg"
            sep = "；" if t.lang == "zh-CN" else "; "
            text = t("estimate.sign.consented", version=est.version, decisions=sep.join(est.consented_by))
        elif est.changes:
            colour, icon = "bg-orange-1 text-orange-10", "edit_note"
            sep = "；" if t.lang == "zh-CN" else "; "
            text = t("estimate.needs_signature_for", version=est.version, changes=sep.join(est.changes))
        else:
            colour, icon = "bg-blue-1 text-blue-10", "draw"
            text = t("estimate.sign.waiting", version=est.version)
        with ui.row().classes(f"w-full items-center gap-2 no-wrap rounded px-3 py-2 {colour}").mark("sign-banner"):
            ui.icon(icon, size="sm")
            ui.label(text).classes("text-base font-medium line-clamp-2").props("data-testid=sign-banner")

    def _draw_form(self, data: Loaded) -> None:
        t, est = self.t, data.estimate
        self.form.clear()
        with self.form:
            if est.signed:
                signed_block(t, self.desk.clock, est.signer, est.signed_at, est.digest, data.estimate_signature,
                             "estimate")
                return
            if not self.desk.user.may(Permission.RECEPTION):
                ui.label(t("access.refused", roles=frame.roles_with(t, Permission.RECEPTION))).classes("text-grey-7")
                return
            if est.consent == "decision":
                ui.label(t("estimate.sign.optional")).classes("text-base text-grey-8").mark("sign-optional")
            SignatureForm(t, signer=est.customer or data.ro.get("customer") or "", testid="estimate",
                          sign_label=t("estimate.sign.button"), on_sign=self._sign).build()

    async def _sign(self, name: str, png: bytes) -> bool:
        t, desk = self.t, self.desk
        if desk.data is None or not frame.allowed(t, desk.user, Permission.RECEPTION):
            return False
        version = desk.data.estimate.version
        try:
            result = await io(desk.reception.estimate.sign, desk.number, version, name, png, actor=desk.user.actor)
        except DomainError as exc:
            desk.say(exc.message(t.lang), "negative")
            await desk.refresh()  # a stale version: the page shows the current one, to be signed again
            return False
        desk.editing = False
        desk.say(t("estimate.sign.done", version=version, digest=short_digest(result.digest)), "positive")
        await desk.refresh()
        handover = desk.data.handover if desk.data is not None else None
        desk.go("handover" if handover is not None and handover.required and not handover.signed else "output")
        return True

    def _draw_history(self, versions: list[VersionInfo], current: int) -> None:
        t = self.t
        self.history.clear()
        with self.history:
            ui.label(t("estimate.history.title")).classes("text-base font-bold text-grey-8")
            if not versions:
                ui.label(t("estimate.history.none")).classes("text-grey-7")
                return
            # drafts changed again before the customer saw them are left out: the signed versions and the current
            # one tell the story (a first signature on version 3 of three drafts read as if two were missing)
            shown = [v for v in versions if v.signed_at or v.consent == "decision" or v.version == current
                     or not v.superseded]
            with ui.card().classes("w-full p-0 gap-0").props("flat bordered"):
                for v in sorted(shown, key=lambda x: x.version, reverse=True):
                    with ui.row().classes("w-full items-center no-wrap gap-4 px-3 py-2 border-b border-gray-200") \
                            .props("data-testid=history-row").mark("history-row"):
                        ui.label(t("estimate.history.version", version=v.version)).classes("w-16 font-bold")
                        ui.label(money(v.customer_total)).classes("w-28 text-right")
                        if v.signed_at:
                            ui.label(t("estimate.history.signed", signer=v.signer or "",
                                       time=moment(v.signed_at, self.desk.clock, full=True))) \
                                .classes("w-80 text-positive")
                            ui.label(short_digest(v.digest)).classes("w-36 font-mono text-grey-8")
                        elif v.consent == "decision":
                            ui.label(t("estimate.history.consented")).classes("w-80 text-positive")
                            ui.label("").classes("w-36")
                        elif v.version == current:
                            ui.label(t("estimate.history.unsigned",
                                       time=moment(v.created_at, self.desk.clock, full=True))) \
                                .classes("w-80 text-orange-9")
                        else:  # changed again before the customer signed it: never shown for a signature
                            ui.label(t("estimate.history.superseded",
                                       time=moment(v.created_at, self.desk.clock, full=True))) \
                                .classes("w-80 text-grey-6")
                            ui.label("").classes("w-36")
                        changes = ("；" if t.lang == "zh-CN" else "; ").join(v.changes or [])
                        total = Decimal(str(v.total))
                        if total != Decimal(str(v.customer_total)):
                            changes = (changes + " · " if changes else "") + t("estimate.history.total",
                                                                              amount=money(total))
                        ui.label(changes).classes("grow text-sm text-grey-8 truncate")
