"""Appointments as iCalendar (shopfloor/services/ical.py): RFC 5545 line folding, TEXT escaping, UTC times, read
back with a small parser of our own."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from shopfloor.domain.errors import Invalid
from shopfloor.domain.models import Appointment
from shopfloor.services.ical import appointments_ics, escape_text, export_range, fold
from shopfloor.testing.plugin import Services

TZ = ZoneInfo("Asia/Shanghai")
STAMP = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)


# --- a small reader: unfold, split properties, unescape TEXT ---------------------------------------------

def physical_lines(ics: str) -> list[bytes]:
    data = ics.encode("utf-8")
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b""), "bare LF"
    assert b"\r" not in data.replace(b"\r\n", b""), "bare CR"
    return data[:-2].split(b"\r\n")


def unfold(ics: str) -> list[str]:
    out: list[str] = []
    for raw in physical_lines(ics):
        line = raw.decode("utf-8")  # strict: a line never ends inside a character
        if line.startswith((" ", "\t")):
            out[-1] += line[1:]
        else:
            out.append(line)
    return out


def unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def parse(ics: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(calendar properties, events); values are unescaped."""
    calendar: dict[str, str] = {}
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    stack: list[str] = []
    for line in unfold(ics):
        name, _, value = line.partition(":")
        if name == "BEGIN":
            stack.append(value)
            if value == "VEVENT":
                current = {}
            continue
        if name == "END":
            assert stack.pop() == value
            if value == "VEVENT":
                assert current is not None
                events.append(current)
                current = None
            continue
        # an unescaped ; or , in a value would split it: check there is none
        assert not re.search(r"(?<!\\)(?:\\\\)*[;,]", value) or name in ("RRULE",), line
        target = current if current is not None else calendar
        assert name not in target, f"{name} twice"
        target[name] = unescape(value)
    assert stack == []
    return calendar, events


def appt(**over: Any) -> dict[str, Any]:
    base = {"id": 42, "site": "demo", "start": "2026-11-24T09:30:00+08:00", "end": "2026-11-24T11:00:00+08:00",
            "hours": 1.5, "work": "20000公里保养", "plate": "京A12345", "vehicle_model": "卡罗拉",
            "customer": "欧阳先生", "advisor": {"id": 1, "name": "张伟", "code": "A"}, "status": "booked", "bay": "3"}
    return {**base, **over}


# --- folding and escaping --------------------------------------------------------------------------------

def test_fold_keeps_lines_within_75_octets_and_characters_whole() -> None:
    for text in ["A" * 74, "A" * 75, "A" * 76, "A" * 300, "中" * 25, "中" * 26, "中" * 200,
                 "X" + "中" * 100, "XY" + "中文𠀀😀" * 40, "DESCRIPTION:" + "欧阳先生的卡罗拉" * 30]:
        folded = fold(text)
        parts = folded.encode("utf-8").split(b"\r\n")
        assert all(len(p) <= 75 for p in parts), [len(p) for p in parts]
        assert all(p.startswith(b" ") for p in parts[1:])
        for p in parts:
            p.decode("utf-8")  # raises if a character was cut
        assert "".join(p.decode("utf-8")[1 if i else 0:] for i, p in enumerate(parts)) == text
        # folds only where needed: each line but the last is full to within one character
        assert all(len(p) > 75 - 4 for p in parts[:-1])
    assert fold("A" * 75) == "A" * 75
    assert fold("A" * 76) == "A" * 75 + "\r\n A"


def test_escape_text() -> None:
    assert escape_text("a\\b;c,d\ne") == "a\\\\b\\;c\\,d\\ne"
    assert escape_text("x\r\ny\rz") == "x\\ny\\nz"
    for text in ["刹车异响，客户说“踩到底才响”；请路试\n第二行", "C:\\temp\\;,", "", "\\n is not a newline"]:
        assert unescape(escape_text(text)) == text


# --- the calendar ----------------------------------------------------------------------------------------

def test_calendar_structure_and_event_fields() -> None:
    ics = appointments_ics([appt()], "星辰丰田4S店 · 朝阳", TZ, stamp=STAMP)
    assert ics.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and ics.endswith("END:VCALENDAR\r\n")
    assert "VTIMEZONE" not in ics
    calendar, events = parse(ics)
    assert calendar["PRODID"] and calendar["X-WR-TIMEZONE"] == "Asia/Shanghai"
    assert calendar["X-WR-CALNAME"] == "星辰丰田4S店 · 朝阳 预约"
    (event,) = events
    assert event["UID"] == "appointment-42@demo"
    assert event["DTSTART"] == "20261124T013000Z" and event["DTEND"] == "20261124T030000Z"
    assert event["DTSTAMP"] == "20261123T023000Z"
    assert event["SUMMARY"] == "京A12345 20000公里保养"
    assert event["STATUS"] == "CONFIRMED"
    assert event["DESCRIPTION"].split("\n") == [
        "客户：欧阳先生", "车辆：京A12345 卡罗拉", "服务顾问：张伟", "时间：2026-11-24 09:30–11:00", "工时：1.5",
        "状态：已预约"]
    assert event["LOCATION"] == "星辰丰田4S店 · 朝阳 · 3号工位"
    english = parse(appointments_ics([appt()], "Star Toyota", TZ, lang="en", stamp=STAMP))[1][0]
    assert "Service advisor: 张伟" in english["DESCRIPTION"] and "Status: Booked" in english["DESCRIPTION"]


def test_long_chinese_text_with_specials_folds_and_reads_back() -> None:
    work = "更换前刹车片，检查后刹车盘；客户说“踩到底才响”\\请路试\n另：空调异味、胎压灯亮" * 3
    ics = appointments_ics([appt(work=work, customer="欧阳女士")], "店", TZ, stamp=STAMP)
    lines = physical_lines(ics)
    assert max(len(line) for line in lines) <= 75
    assert sum(1 for line in lines if line.startswith(b" ")) >= 5  # it did fold
    event = parse(ics)[1][0]
    assert event["SUMMARY"] == f"京A12345 {work}"


def test_cancelled_is_cancelled_and_models_work_too(services: Services) -> None:
    with services.db.read() as s:
        rows = list(s.scalars(select(Appointment).order_by(Appointment.id).limit(3)))
        models = appointments_ics(rows, "店", services.ctx.tz, stamp=STAMP)
        first = rows[0]
        expected_start = first.start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        plate, work = first.vehicle.plate, first.work
    events = parse(models)[1]
    assert [e["UID"] for e in events] == [f"appointment-{r.id}@demo" for r in rows]
    assert events[0]["DTSTART"] == expected_start and events[0]["SUMMARY"] == f"{plate} {work}"
    cancelled = parse(appointments_ics([appt(status="cancelled"), appt(id=43, status="no_show")], "店", TZ,
                                       stamp=STAMP))[1]
    assert [e["STATUS"] for e in cancelled] == ["CANCELLED", "CONFIRMED"]
    assert "状态：已取消" in cancelled[0]["DESCRIPTION"]


def test_naive_and_datetime_inputs_are_taken_as_site_time() -> None:
    event = parse(appointments_ics([appt(start=datetime(2026, 11, 24, 9, 30), end=None, hours=2)], "店", TZ,
                                   stamp=STAMP))[1][0]
    assert event["DTSTART"] == "20261124T013000Z" and event["DTEND"] == "20261124T033000Z"
    assert "工时：2" in event["DESCRIPTION"]


def test_export_range_reads_the_site_days(services: Services) -> None:
    ctx = services.ctx
    today = ctx.today()
    with services.db.read() as s:
        start, end = ctx.day_bounds(today)
        ids = list(s.scalars(select(Appointment.id).where(Appointment.start >= start, Appointment.start < end)
                             .order_by(Appointment.start, Appointment.id)))
    assert ids
    calendar, events = parse(export_range(ctx, today, today))
    assert [e["UID"] for e in events] == [f"appointment-{i}@demo" for i in ids]
    assert all(e["DTSTAMP"] == ctx.now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") for e in events)
    assert calendar["X-WR-CALNAME"].startswith(ctx.settings.site.name)
    assert parse(export_range(ctx, today + timedelta(days=400), today + timedelta(days=401)))[1] == []
    with pytest.raises(Invalid):
        export_range(ctx, today, today - timedelta(days=1))
    with pytest.raises(Invalid):
        export_range(ctx, date(2026, 1, 1), date(2027, 6, 1))
    # the data page's date pickers reach the calendar's ends: their bounds are no datetimes (was OverflowError)
    for first, last in ((date.max, date.max), (date.min, date.min), (date(9999, 12, 30), date.max)):
        with pytest.raises(Invalid, match="outside the days"):
            export_range(ctx, first, last)
