"""/status: the manager's view of whether the site's machinery runs: the database and the broker, every MQTT
client online or offline (the server's connections, the boards' feeds, from the retained clients/<role>/<id>
topics; each printer agent from its printer's status topic, which is its availability), every printer and its
state under the label staff see, what waits to be sent (outbox rows to the boards, messages
to customers), the last backup, and the paired wall screens with when each was last seen.

Clients and printers follow the board store live (the board role reads clients/# and the printers' status);
the database's figures, the backup and the screens are read again every REFRESH_SECONDS.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from nicegui import Client, background_tasks, ui

from shopfloor.board.store import CLIENTS, PRINTERS, BoardStore, ClientPresence
from shopfloor.i18n import Translator
from shopfloor.kiosk.common.blocking import io
from shopfloor.services.health import UNKNOWN, HealthReport, HealthService

if TYPE_CHECKING:
    from shopfloor.kiosk.common.frame import StaffFrame

PATH = "/status"
REFRESH_SECONDS = 10.0
BACKUP_WARN_HOURS = 36
# the client roles in the order a manager looks for them
ROLE_ORDER = ("server", "board", "lounge", "printer")

CSS = """
.sts { width: 100%; max-width: 1240px; margin: 0 auto; display: grid; gap: 12px;
       grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); }
.sts-card { background: #fff; border: 1px solid #e3e7ee; border-radius: 10px; padding: 12px 16px; min-width: 0; }
.sts-wide { grid-column: span 2; }
.sts-title { font-size: 16px; font-weight: 700; color: #1f2a3d; margin-bottom: 6px; }
.sts-row { display: flex; align-items: center; gap: 10px; padding: 5px 0; border-top: 1px solid #f0f2f6;
           font-size: 14px; }
.sts-row:first-of-type { border-top: none; }
.sts-name { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.sts-sub { color: #6b7687; font-size: 12px; white-space: nowrap; }
.sts-pill { border-radius: 999px; padding: 1px 10px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.sts-ok { background: #e3f5e8; color: #17692f; }
.sts-bad { background: #fde4e4; color: #a11b1b; }
.sts-warn { background: #fff1d6; color: #8a5300; }
.sts-muted { background: #eef1f5; color: #56627a; }
.sts-empty { color: #8a94a6; font-size: 13px; padding: 4px 0; }
"""


class ScreenInfo(Protocol):
    """What /status shows of a paired wall screen (services/setup/tokens.py ScreenView)."""

    @property
    def name(self) -> str: ...
    @property
    def revoked_at(self) -> datetime | None: ...
    @property
    def last_seen_at(self) -> datetime | None: ...
    @property
    def last_address(self) -> str | None: ...


def age_text(t: Translator, since: datetime, now: datetime) -> str:
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 90:
        return t("status.age.seconds", count=seconds)
    if seconds < 90 * 60:
        return t("status.age.minutes", count=round(seconds / 60))
    if seconds < 36 * 3600:
        return t("status.age.hours", count=round(seconds / 3600))
    return t("status.age.days", count=round(seconds / 86400))


class StatusPage:
    def __init__(self, frame: StaffFrame, store: BoardStore, health: HealthService, *,
                 screens: Callable[[], Sequence[ScreenInfo]] | None = None) -> None:
        """`screens`: the paired wall screens (TokenAdmin.screens), read in a worker thread."""
        self.frame = frame
        self.store = store
        self.health = health
        self.screens = screens

    def register(self, path: str) -> None:
        ui.page(path, title="shopfloor · status")(self.build)

    async def build(self, lang: str | None = None) -> None:
        signed_in = await self.frame.open(lang, PATH)
        if signed_in is None:
            return
        t, _ = signed_in
        ui.add_css(CSS)
        view = StatusView(self, t)
        view.build()
        await view.refresh()
        self.store.changed.subscribe(view.store_changed)  # dropped with the page
        ui.timer(REFRESH_SECONDS, view.refresh_soon)


class StatusView:
    def __init__(self, page: StatusPage, t: Translator) -> None:
        self.page = page
        self.t = t
        self.tz: ZoneInfo = page.health.ctx.tz
        self._refreshing = False

    def now(self) -> datetime:
        return self.page.health.ctx.now()

    def local(self, at: datetime) -> str:
        return f"{at.astimezone(self.tz):%Y-%m-%d %H:%M}"

    def build(self) -> None:
        t = self.t
        ui.label(t("status.title")).classes("text-xl font-bold q-mb-sm")
        with ui.element("div").classes("sts"):
            self.server = self._card(t("status.server"), "status-server")
            self.backlog = self._card(t("status.backlog"), "status-backlog")
            self.backup = self._card(t("status.backup"), "status-backup")
            self.printers = self._card(t("status.printers"), "status-printers")
            self.clients = self._card(t("status.clients"), "status-clients", wide=True)  # long client ids
            self.screens = self._card(t("status.screens"), "status-screens")
            self.browsers = self._card(t("status.browsers"), "status-browsers", wide=True)
        self.draw_clients()
        self.draw_printers()

    @staticmethod
    def _card(title: str, marker: str, *, wide: bool = False) -> ui.element:
        with ui.element("div").classes("sts-card sts-wide" if wide else "sts-card").mark(marker):
            ui.label(title).classes("sts-title")
            return ui.element("div")

    @staticmethod
    def _row(name: str, pill: str, tone: str, sub: str = "", marker: str = "") -> None:
        with ui.element("div").classes("sts-row"):
            name_label = ui.label(name).classes("sts-name")
            if marker:
                name_label.mark(f"{marker}-name")
            if sub:
                ui.label(sub).classes("sts-sub")
            label = ui.label(pill).classes(f"sts-pill sts-{tone}")
            if marker:
                label.mark(marker)

    def _empty(self, key: str) -> None:
        ui.label(self.t(key)).classes("sts-empty")

    # -- live from the board store ------------------------------------------------------------------------

    def store_changed(self, kind: str, _entity_id: str, _state: dict[str, Any] | None) -> None:
        if kind == CLIENTS:
            self.draw_clients()  # a printer agent's too: the store derives it from its printer's status
        elif kind == PRINTERS:
            self.draw_printers()

    def draw_clients(self) -> None:
        t = self.t
        now = self.now()
        rows = sorted(self.page.store.clients.values(), key=_client_order)
        self.clients.clear()
        with self.clients:
            if not rows:
                self._empty("status.no_clients")
            labels = self.printer_labels()
            for c in rows:
                since = self._since(c)
                role = t(f"status.role.{c.role}") if c.role in ROLE_ORDER else c.role
                # a printer agent is known by its printer's name: staff know the printer by its label
                name = (f"{labels[c.client_id]} ({c.client_id})" if c.role == "printer" and c.client_id in labels
                        else c.client_id)
                self._row(f"{role} · {name}", t("status.online" if c.online else "status.offline"),
                          "ok" if c.online else "bad", since(now), marker=f"client-{c.role}-{c.client_id}")

    def printer_labels(self) -> dict[str, str]:
        """Configured printer name -> the label staff see (the name when it has none)."""
        return {p.name: p.label or p.name for p in self.page.health.ctx.settings.printers}

    def _since(self, c: ClientPresence) -> Callable[[datetime], str]:
        def text(now: datetime) -> str:
            if c.since is None:
                return self.t("status.since_unknown")
            at = datetime.fromtimestamp(c.since, UTC)
            return self.t("status.since", at=self.local(at), age=age_text(self.t, at, now))
        return text

    def draw_printers(self) -> None:
        t = self.t
        states = self.page.health.printer_states()
        details = self.page.store.printer_status
        labels = self.printer_labels()
        self.printers.clear()
        with self.printers:
            if not states:
                self._empty("status.no_printers")
            for name, state in states.items():
                detail = str(details.get(name, {}).get("detail", "") or "")
                tone = {"online": "ok", "offline": "bad", UNKNOWN: "muted"}.get(state, "warn")
                shown = t(f"status.printer_state.{state}") if state in PRINTER_STATES else state
                self._row(labels.get(name, name), shown, tone, detail, marker=f"printer-{name}")

    # -- every REFRESH_SECONDS ----------------------------------------------------------------------------

    def refresh_soon(self) -> None:
        if not self._refreshing:
            background_tasks.create(self.refresh(), name="status-refresh")

    async def refresh(self) -> None:
        self._refreshing = True
        try:
            report = await self.page.health.check_soon()
            screens = await io(self.page.screens) if self.page.screens is not None and report.database else None
        finally:
            self._refreshing = False
        self.draw_server(report)
        self.draw_backlog(report)
        self.draw_backup(report)
        self.draw_screens(screens)
        self.draw_browsers()
        self.draw_clients()  # the "since" ages move on

    def draw_server(self, r: HealthReport) -> None:
        t = self.t
        self.server.clear()
        with self.server:
            self._row(t("status.database"), t("status.reachable" if r.database else "status.unreachable"),
                      "ok" if r.database else "bad", "" if r.database else (r.database_error or ""),
                      marker="status-database")
            # the address: a server publishing to the wrong broker (another one on 1883) shows here
            self._row(t("status.broker"), t("status.connected" if r.broker else "status.disconnected"),
                      "ok" if r.broker else "bad", r.broker_address, marker="status-broker")
            self._row(t("status.version"), r.version, "muted", t("status.checked", at=self.local(r.checked_at)))

    def draw_backlog(self, r: HealthReport) -> None:
        t = self.t
        self.backlog.clear()
        with self.backlog:
            if r.outbox_pending is None:
                self._empty("status.unknown_without_database")
                return
            oldest = (t("status.oldest", age=age_text(t, r.outbox_oldest_at, r.checked_at))
                      if r.outbox_oldest_at is not None else "")
            self._row(t("status.outbox_pending"), str(r.outbox_pending), "ok" if r.outbox_pending == 0 else "warn",
                      oldest, marker="status-outbox")
            self._row(t("status.messages_pending"), str(r.messages_pending),
                      "ok" if not r.messages_pending else "warn", marker="status-messages")

    def draw_backup(self, r: HealthReport) -> None:
        t = self.t
        self.backup.clear()
        with self.backup:
            if r.last_backup is None:
                self._row(t("status.backup_none"), t("status.warning"), "bad", marker="status-last-backup")
                return
            at = r.last_backup.at
            old = r.checked_at - at > timedelta(hours=BACKUP_WARN_HOURS)
            self._row(self.local(at), t("status.backup_old", hours=BACKUP_WARN_HOURS) if old else t("status.ok"),
                      "bad" if old else "ok", f"{t(f'status.backup_kind.{r.last_backup.kind}')} · "
                      f"{t('status.ago', age=age_text(t, at, r.checked_at))}",
                      marker="status-last-backup")

    def draw_screens(self, screens: Sequence[ScreenInfo] | None) -> None:
        t = self.t
        self.screens.clear()
        with self.screens:
            if self.page.screens is None:
                self._empty("status.screens_unavailable")
                return
            if screens is None:
                self._empty("status.unknown_without_database")
                return
            active = [s for s in screens if s.revoked_at is None]
            if not active:
                self._empty("status.no_screens")
            now = self.now()
            for s in active:
                if s.last_seen_at is None:
                    self._row(s.name, t("status.never_seen"), "muted")
                    continue
                recent = now - s.last_seen_at < timedelta(minutes=5)
                sub = t("status.seen", age=age_text(t, s.last_seen_at, now)) + (
                    f" · {s.last_address}" if s.last_address else "")
                self._row(s.name, t("status.seen_recently" if recent else "status.seen_long_ago"),
                          "ok" if recent else "warn", sub)


    def draw_browsers(self) -> None:
        """The tablets, stations and wall screens connected to this server now, by page: they are browsers, not
        MQTT clients, so this server's own connections are where they show."""
        t = self.t
        pages = connected_pages()
        self.browsers.clear()
        with self.browsers:
            if not pages:
                self._empty("status.no_browsers")
            for path, addresses in pages.items():
                self._row(path, t("status.browsers_count", count=len(addresses)), "ok",
                          ", ".join(sorted(set(addresses))), marker=f"browsers-{path}")


def connected_pages() -> dict[str, list[str]]:
    """Page path -> the addresses of the browsers showing it now (connected over the websocket)."""
    pages: dict[str, list[str]] = {}
    for client in list(Client.instances.values()):
        if client.has_socket_connection and not client.is_deleted:
            pages.setdefault(client.page.path, []).append(client.ip)
    return dict(sorted(pages.items()))


PRINTER_STATES = ("online", "offline", "paper_out", "error", UNKNOWN)


def _client_order(c: ClientPresence) -> tuple[int, bool, str]:
    rank = ROLE_ORDER.index(c.role) if c.role in ROLE_ORDER else len(ROLE_ORDER)
    return rank, c.online, c.client_id
