"""What the QR codes on the ticket, the estimate slip and the PDF lead to: an address a phone on the shop's Wi-Fi
reaches, not a host name it cannot resolve."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from shopfloor import settings as settings_mod
from shopfloor.main import Options, lan_address, server_url


def demo_settings() -> settings_mod.Settings:
    return settings_mod.load(settings_mod.demo_config_path())


def test_the_configured_public_url_wins(tmp_path: Path) -> None:
    settings = demo_settings()
    settings = settings.model_copy(update={"web": settings.web.model_copy(update={"public_url": "https://sf.lan"})})
    assert server_url(settings, Options(tmp_path)) == "https://sf.lan"


def test_listening_everywhere_the_link_names_this_hosts_lan_address(tmp_path: Path) -> None:
    url = server_url(demo_settings(), Options(tmp_path, http_host="0.0.0.0", http_port=8123))
    host = url.removeprefix("http://").removesuffix(":8123")
    assert host == lan_address()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # a machine without any route: only its name is left
        return
    assert not address.is_loopback and not address.is_unspecified


def test_a_chosen_interface_is_named_as_given(tmp_path: Path) -> None:
    assert server_url(demo_settings(), Options(tmp_path, http_host="192.168.1.20", http_port=80,
                                               https=True)) == "https://192.168.1.20:80"
