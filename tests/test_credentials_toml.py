"""credentials.toml written with tomli-w: every table and key round-trips, whatever characters the names and secrets
hold (quotes, backslashes, Chinese, a `]` in a caller's name); the header comment first; mode 600 and an atomic
replace; [advisors] (the demo's public PINs) only when there are any."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from shopfloor import credentials as creds_mod
from shopfloor.contract.access import Role
from shopfloor.contract.staff import StaffRole
from shopfloor.credentials import ApiToken, MessageSecrets


def _hostile() -> creds_mod.Credentials:
    creds = creds_mod.generate(["张伟", 'O"Brien \\ 1', "a]b"], ["reception", "parts_2"])
    creds.api_token = 'tok"en\\with]quotes'
    creds.named_api_tokens = {
        "DMS 接口 \"main\"": ApiToken("DMS 接口 \"main\"", "dms-token", frozenset({StaffRole.CUSTOMER_SERVICE,
                                                                                 StaffRole.ADVISOR})),
        "[x]": ApiToken("[x]", "x-token", frozenset({StaffRole.PARTS}))}
    creds.messages = MessageSecrets(sms_key_id="LTAI\"5", sms_key_secret="s\\ecret\n2", email_user="shop@例子.cn",
                                    email_password="p'w\"")
    creds.broker_host, creds.broker_port = "broker.lan", 8883
    return creds


def test_every_table_round_trips_whatever_the_text(tmp_path: Path) -> None:
    creds = _hostile()
    path = tmp_path / creds_mod.FILE_NAME
    creds_mod.write(path, creds)
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("# shopfloor credentials")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [creds_mod.FILE_NAME]  # the temporary file renamed away
    again = creds_mod.loads(text)
    assert again == creds
    data = tomllib.loads(text)
    assert set(data) == {"api", "api_tokens", "boards", "broker", "mqtt", "sms", "email", "advisors"}
    assert data["api_tokens"]["[x]"] == {"token": "x-token", "roles": ["parts"]}
    assert set(data["mqtt"]["printer"]) == {"reception", "parts_2"}
    assert set(data["advisors"]) == {"张伟", 'O"Brien \\ 1', "a]b"}
    assert "wechat" not in data  # a gateway without keys has no table


def test_no_advisors_table_without_pins_and_load_or_create_keeps_what_it_has(tmp_path: Path) -> None:
    creds = creds_mod.load_or_create(tmp_path, [], "127.0.0.1", 1883, ["reception"])
    path = tmp_path / creds_mod.FILE_NAME
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"api", "boards", "broker", "mqtt"}
    again = creds_mod.load_or_create(tmp_path, [], "127.0.0.1", 1883, ["reception"])
    assert again == creds and again.account(Role.SERVER) == creds.account(Role.SERVER)
    # a site adds a caller by hand: read as written, and kept when the file is written again
    with path.open("a", encoding="utf-8") as f:
        f.write('\n[api_tokens."call centre"]\ntoken = "cc-token"\nroles = ["cs"]\n')
    added = creds_mod.load_or_create(tmp_path, [], "127.0.0.1", 1884, ["reception"])
    assert added.broker_port == 1884
    assert creds_mod.load(tmp_path).named_api_tokens["call centre"].roles == frozenset({StaffRole.CUSTOMER_SERVICE})


def test_a_missing_file_says_how_to_make_a_site(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="shopfloor init --data-dir"):
        creds_mod.load(tmp_path)
