"""/setup → Addresses: where the tablets and wall screens reach this server — every IPv4 address of this host's
network interfaces except loopback, with the scheme and port it serves on, each as a QR code a tablet's camera
opens — and [web] public_url when the site has one."""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.kiosk.common.blocking import io
from shopfloor.kiosk.workshop.badges import qr_data_url

if TYPE_CHECKING:
    from shopfloor.i18n import Translator
    from shopfloor.kiosk.common.session import KioskUser

SIOCGIFADDR = 0x8915  # Linux: an interface's (primary) IPv4 address
EVERY_INTERFACE = ("0.0.0.0", "::", "")


def interface_addresses() -> list[tuple[str, str]]:
    """(interface, IPv4 address) for every interface that has one, loopback left out (Linux, from the standard
    library alone: the kernel's ioctl per interface name)."""
    found: list[tuple[str, str]] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _index, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                answer = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request)
            except OSError:  # down, or no IPv4 address
                continue
            address = socket.inet_ntoa(answer[20:24])
            if not ipaddress.ip_address(address).is_loopback:
                found.append((name, address))
    return found


@dataclass(frozen=True)
class Address:
    label_key: str
    label_params: dict[str, str]
    url: str


class AddressesTab:
    key = "addresses"
    icon = "lan"

    def __init__(self, *, host: str, port: int, https: bool, public_url: str = "") -> None:
        self.host = host
        self.port = port
        self.scheme = "https" if https else "http"
        self.https = https
        self.public_url = public_url

    def addresses(self) -> list[Address]:
        out = [Address("setup_access.addresses.public", {}, self.public_url)] if self.public_url else []
        if self.host in EVERY_INTERFACE:
            out += [Address("setup_access.addresses.interface", {"name": name},
                            f"{self.scheme}://{address}:{self.port}/") for name, address in interface_addresses()]
        else:
            out.append(Address("setup_access.addresses.interface", {"name": self.host},
                               f"{self.scheme}://{self.host}:{self.port}/"))
        return out

    async def build(self, t: Translator, _user: KioskUser) -> None:
        ui.label(t("setup_access.addresses.intro")).classes("text-grey-8 max-w-3xl")
        if self.host in EVERY_INTERFACE:
            ui.label(t("setup_access.addresses.every_interface", port=self.port)).classes("text-grey-8")
        else:
            ui.label(t("setup_access.addresses.one_interface", host=self.host, port=self.port)).classes("text-grey-8")
        if not self.https:
            ui.label(t("setup_access.addresses.https_hint")).classes("text-warning").mark("addresses-https-hint")
        found = await io(self.addresses)
        if not found:
            ui.label(t("setup_access.addresses.none")).classes("text-negative").mark("addresses-none")
            return
        with ui.row().classes("w-full gap-4"):
            for i, address in enumerate(found):
                with ui.card().classes("items-center w-64").mark(f"address-{i}"):
                    ui.label(t(address.label_key, **address.label_params)).classes("text-caption text-grey-7")
                    ui.image(qr_data_url(address.url)).classes("w-48 h-48")
                    ui.label(address.url).classes("font-mono text-center break-all").mark(f"address-url-{i}")
