"""Site configuration, credentials and message catalogues."""

import stat
import tomllib
from pathlib import Path

import pytest

from shopfloor import credentials as creds_mod
from shopfloor import i18n
from shopfloor import settings as settings_mod
from shopfloor.contract.access import Role

GOOD = """
[site]
id = "bj-01"
name = "测试店"

[[printers]]
name = "reception"
"""


def test_demo_config_is_valid() -> None:
    s = settings_mod.load(settings_mod.demo_config_path())
    assert s.site.late_grace_minutes == 10
    assert (s.site.opening.hour, s.site.closing.hour) == (8, 20)
    assert {p.encoding for p in s.printers} == {"gb18030", "gbk"}


def test_defaults_fill_in() -> None:
    s = settings_mod.parse(GOOD)
    assert s.site.timezone == "Asia/Shanghai" and s.kiosk.max_pin_attempts == 5
    assert s.printers[0].columns == 48


@pytest.mark.parametrize(("text", "expected"), [
    (GOOD.replace('id = "bj-01"', 'id = "bj 01"'), "site.id:"),
    (GOOD.replace('name = "测试店"', 'name = "测试店"\nlate_grace_minutes = "ten"'), "site.late_grace_minutes:"),
    (GOOD.replace('name = "测试店"', 'name = "测试店"\ntimezone = "Mars/Olympus"'), "unknown time zone"),
    (GOOD.replace('name = "测试店"', 'name = "测试店"\nopening = "20:00"\nclosing = "08:00"'), "must be after"),
    (GOOD + '\n[[printers]]\nname = "reception"\n', "repeated: reception"),
    (GOOD.replace('name = "reception"', 'name = "reception"\nencoding = "big5"'), "printers[0].encoding:"),
    (GOOD.replace('[site]', '[site]\ncolour = "red"'), "site.colour: Extra inputs are not permitted"),
    (GOOD.replace('[[printers]]\nname = "reception"', ''), "printers:"),
    ("[site\nid=", "not valid TOML"),
])
def test_invalid_config_names_the_key(text: str, expected: str) -> None:
    with pytest.raises(settings_mod.ConfigError) as exc:
        settings_mod.parse(text, "site.toml")
    assert str(exc.value).startswith("site.toml:")
    assert expected in str(exc.value)


def test_credentials_written_once_with_exactly_the_contract_tables(tmp_path: Path) -> None:
    first = creds_mod.load_or_create(tmp_path, ["张伟", "李娜"], "127.0.0.1", 1884, ["reception"])
    path = tmp_path / "credentials.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = tomllib.loads(path.read_text())
    assert set(data) == {"api", "boards", "broker", "mqtt", "advisors"}
    assert set(data["api"]) == {"token"} and set(data["boards"]) == {"token"}
    assert set(data["mqtt"]) == {r.value for r in Role}
    printers = data["mqtt"].pop("printer")
    assert all(set(v) == {"username", "password"} for v in data["mqtt"].values())
    assert printers == {"reception": {"username": "shopfloor-printer-reception",
                                      "password": first.printer_account("reception").password}}
    assert set(data["advisors"]) == {"张伟", "李娜"} and all(len(p) == 4 for p in data["advisors"].values())
    again = creds_mod.load_or_create(tmp_path, ["张伟", "李娜", "王芳"], "127.0.0.1", 1885, ["reception", "parts"])
    assert again.api_token == first.api_token and again.board_token == first.board_token
    assert again.mqtt == first.mqtt and again.advisors["张伟"] == first.advisors["张伟"]
    assert "王芳" in again.advisors and again.broker_port == 1885
    assert again.printers["reception"] == first.printers["reception"] and set(again.printers) == {"reception", "parts"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_old_shared_printer_account_is_dropped(tmp_path: Path) -> None:
    # It could read every printer's tickets and acknowledge any printer's jobs: each printer gets its own.
    old = creds_mod.generate([])
    text = creds_mod.dumps(old) + '[mqtt.printer]\nusername = "shopfloor-printer"\npassword = "shared"\n'
    (tmp_path / "credentials.toml").write_text(text)
    creds = creds_mod.load_or_create(tmp_path, [], "127.0.0.1", 1883, ["reception"])
    assert [login.account.username for login in creds.logins()] == [
        "shopfloor-server", "shopfloor-board", "shopfloor-lounge", "shopfloor-printer-reception"]
    assert "shared" not in (tmp_path / "credentials.toml").read_text()
    with pytest.raises(KeyError, match="per printer"):
        creds.account(Role.PRINTER)
    with pytest.raises(KeyError, match=r"\[mqtt.printer.parts\]"):
        creds.printer_account("parts")
    assert creds_mod.ensure_printer_accounts(tmp_path, creds, ["reception", "parts"]) == ["parts"]
    assert creds_mod.load(tmp_path).printers == creds.printers


def test_damaged_credentials_are_reported(tmp_path: Path) -> None:
    (tmp_path / "credentials.toml").write_text("[api]\ntoken = 1\n")
    with pytest.raises(ValueError, match="cannot read credentials"):
        creds_mod.load_or_create(tmp_path, [], "127.0.0.1", 1884)


def test_catalogues_have_the_same_keys_and_fields() -> None:
    import string

    formatter = string.Formatter()

    def families(lang: str) -> dict[str, list[set[str]]]:
        """Each message's fields, one set per plural form (a plain key is a family of one)."""
        out: dict[str, list[set[str]]] = {}
        for key, text in i18n.catalogue(lang).items():
            out.setdefault(i18n.message_key(key), []).append({f for _, f, _, _ in formatter.parse(text) if f})
        return out

    zh, en = families("zh-CN"), families("en")
    assert set(zh) == set(en), sorted(set(zh) ^ set(en))
    # A date reads differently: 2026年11月22日 (month number) vs 22 November 2026 (month name); the board
    # supplies both fields, so each catalogue takes what it needs (so do the KPI charts' week labels and the
    # customer page's next service).
    for key in set(zh) - {"board.date", "kpis.page.week_day", "kpis.page.week_day_same_month",
                          "customer_page.next.date"}:
        assert set().union(*zh[key]) == set().union(*en[key]), key
        # a plural form may leave the count out ("1 label"), nothing else
        assert len({frozenset(f - {"count"}) for f in zh[key] + en[key]}) == 1, key


def test_a_count_chooses_the_plural_form() -> None:
    assert i18n.t("en", "calls.pick.sent", count=1, printer="parts") == "1 label sent to parts"
    assert i18n.t("en", "calls.pick.sent", count=3, printer="parts") == "3 labels sent to parts"
    assert i18n.t("en", "calls.pick.sent", count=0, printer="parts") == "0 labels sent to parts"
    assert i18n.t("zh-CN", "calls.pick.sent", count=1, printer="配件") == "1 张标签已发送到配件"
    assert i18n.t("en", "calls.pick.sent", printer="parts") == "calls.pick.sent"  # a counted text needs its count
    assert i18n.forms("en", "manager.board.row_sum") == {"one": "1 car · {hours} h",
                                                         "other": "{count} cars · {hours} h"}
    assert i18n.forms("zh-CN", "manager.board.row_sum") == {"one": "{count} 台 · {hours} 小时",
                                                            "other": "{count} 台 · {hours} 小时"}
    assert i18n.message_key("calls.pick.sent_one") == "calls.pick.sent"
    assert i18n.message_key("kiosk.move_on_hold") == "kiosk.move_on_hold"
    english = [text for key, text in i18n.catalogue("en").items() if "(s)" in text]
    assert not english, english


def test_missing_key_shows_itself() -> None:
    assert i18n.t("zh-CN", "no.such.key") == "no.such.key"
    assert i18n.normalize("zh_TW") == "zh-CN" and i18n.normalize("fr") == "en"


def test_tag_sheet_quotes_names_with_commas_and_quotes(tmp_path: Path) -> None:
    import csv

    from shopfloor.cli import write_csv

    rows = [["appointment", "advisor", "plate", "customer", "tag"],
            ["09:00", "张伟", "京A12345", '王,"老"先生', "SFT-AAAA"]]
    write_csv(tmp_path / "demo-tags.csv", rows)
    with (tmp_path / "demo-tags.csv").open(encoding="utf-8", newline="") as f:
        assert list(csv.reader(f)) == rows
