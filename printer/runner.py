"""A printer agent as its own process (on a Pi next to the printer, or anywhere on the shop LAN): builds the
transport from the site configuration, keeps its journal under DATA_DIR/agents/, and runs until SIGINT/SIGTERM.

What it cannot reach is said once, clearly, and retried in the background: the printer (logged by the agent
on every change of the printer's status, probed every `probe_interval` seconds while idle) and the broker
(logged by the MQTT link; a refused login names the credentials section to check).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Final

from shopfloor import systemd_notify
from shopfloor.credentials import MqttAccount
from shopfloor.mqtt import BrokerAddress
from shopfloor.printer.agent import PrinterAgent
from shopfloor.printer.journal import PrintJournal
from shopfloor.printer.transports import transport_for
from shopfloor.settings import PrinterSettings, Settings

log = logging.getLogger(__name__)

PROBE_INTERVAL: Final = 30.0  # seconds between status queries of an idle printer
CONNECT_WAIT: Final = 10.0    # how long to wait for the broker before saying it is not there (and going on)


def journal_path(data_dir: Path, printer_name: str) -> Path:
    return data_dir / "agents" / f"{printer_name}.journal"


def run_agent(
    settings: Settings | PrinterSettings,
    site: str,
    printer_name: str,
    data_dir: Path,
    address: BrokerAddress,
    account: MqttAccount,
    *,
    stop: threading.Event | None = None,
    probe_interval: float | None = PROBE_INTERVAL,
    status_queries: bool = True,
    connect_wait: float = CONNECT_WAIT,
    on_started: Callable[[PrinterAgent], None] | None = None,
) -> int:
    """Run one printer's agent until SIGINT/SIGTERM (or until `stop` is set); returns the exit status.

    `settings` is the site configuration or the printer's own section; signal handlers are installed only when
    called from the main thread (tests pass `stop` and run it on another thread).
    """
    printer = _printer_settings(settings, printer_name)
    transport = transport_for(printer, data_dir, status_queries=status_queries)
    journal = PrintJournal(journal_path(data_dir, printer_name))
    agent = PrinterAgent(site, printer_name, transport, journal, address, account, probe_interval=probe_interval)
    log.info("printer agent %s: site %s, printer %r, journal %s (%d jobs known), broker %s",
             printer_name, site, transport, journal.path, len(journal), address)
    stop = stop or threading.Event()
    restore = _on_signals(stop)
    try:
        if not agent.start(wait=connect_wait):
            log.warning("printer agent %s: not connected to MQTT broker %s after %g s (%s); retrying in the "
                        "background, jobs arrive once it answers", printer_name, address, connect_wait,
                        agent.link.last_error or "no answer")
        # Type=notify: started either way; without the broker it keeps retrying and its journal keeps the jobs
        systemd_notify.notify(systemd_notify.READY, f"STATUS=printer {printer_name}: broker "
                              f"{'connected' if agent.link.connected.is_set() else 'not reachable yet'}")
        systemd_notify.keep_watchdog(stop, agent.working, f"printer agent {printer_name}")
        if on_started is not None:
            on_started(agent)
        stop.wait()
        systemd_notify.notify(systemd_notify.STOPPING)
        log.info("printer agent %s: stopping", printer_name)
    finally:
        agent.stop()
        restore()
    return 0


def _printer_settings(settings: Settings | PrinterSettings, printer_name: str) -> PrinterSettings:
    if isinstance(settings, Settings):
        try:
            return settings.printer(printer_name)
        except KeyError:
            known = ", ".join(p.name for p in settings.printers)
            raise ValueError(f"no printer {printer_name!r} in the configuration (known: {known})") from None
    if settings.name != printer_name:
        raise ValueError(f"printer settings are for {settings.name!r}, not {printer_name!r}")
    return settings


def _on_signals(stop: threading.Event) -> Callable[[], None]:
    """SIGINT and SIGTERM set `stop`; returns what puts the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
