"""Importing a DMS export (shopfloor/services/dms_csv.py reads it, dms_import.py writes it), on SQLite and
PostgreSQL."""

from __future__ import annotations

import codecs
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from shopfloor.contract import topics
from shopfloor.domain.errors import Invalid
from shopfloor.domain.identifiers import with_check_digit
from shopfloor.domain.models import Appointment, Customer, OutboxMessage, QrTag, Vehicle
from shopfloor.services.customers import CustomerService
from shopfloor.services.dms_csv import (
    decode,
    parse_date,
    parse_hours,
    parse_int,
    parse_time,
    read_header,
    split_name,
    suggest_mapping,
)
from shopfloor.services.dms_import import DmsImportService
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services

SAMPLE = Path(__file__).resolve().parent.parent / "docs" / "samples" / "dms-export.csv"
V1 = with_check_digit("LFMAP22C0R0300001")
V2 = with_check_digit("LVGBM53K0RG300002")
V3 = with_check_digit("LFMKN3BF0P0300003")
V4 = with_check_digit("LVGDC46A0NG300004")
V5 = with_check_digit("LBEHDAFB0RY300005")
BAD_VIN = V2[:8] + ("1" if V2[8] != "1" else "2") + V2[9:]

HEADER = "预约单号,客户姓名,手机,车牌号,车架号,车型,行驶里程,销售日期,保险到期日,预约时间,工时,维修项目,服务顾问"
ROWS = [  # lines 2..7 of the file
    f"YY001,王建国,13801012345,京A·8K2M6,{V1},卡罗拉,\"38,250\",2023-05-18,2027-05-17,"
    "2026-11-24 09:00,2.5,40000公里保养,张伟",
    f"YY002,李秀英,13911023456,京N3C7D1,{BAD_VIN},凯美瑞,21430,2024-08-09,2026-12-08,"
    "2026-11-24 09:30,1.8,20000公里保养,李娜",
    f"YY003,欧阳志强,13520034567,京Q6F1H9,{V3},RAV4荣放,56980,2022-13-30,2026-11-29,"
    "2026-11-24 10:30,1.5,更换前刹车片,李娜",
    f"YY004,赵海燕,13701067890,津C2B6N8,{V4},汉兰达,30000,2024-02-18,2027-02-17,"
    "2026-11-25 11:00,0.5,更换机油机滤,赵六",
    f"YY005,司马光,13621089012,京F9R4T2,{V5},索纳塔,67500,2022-06-06,2027-06-05,"
    "2026-11-25 14:00,,10000公里保养,B",
    f",吴敏,13810090123,京B6H2J7,{with_check_digit('LBETM41B0PY300006')},途胜,102300,2020-10-10,2026-10-09,,,,",
]


def export(rows: list[str] = ROWS, header: str = HEADER) -> str:
    return "\r\n".join([header, *rows]) + "\r\n"


pytestmark = ON_BOTH_DATABASES  # the tests with `services` run on SQLite and on PostgreSQL


@pytest.fixture
def importer(services: Services) -> DmsImportService:
    return DmsImportService(services.ctx)


def run(importer: DmsImportService, text: str | bytes, encoding: str = "utf-8", **kw: object):  # type: ignore[no-untyped-def]
    data = text if isinstance(text, bytes) else text.encode(encoding)
    return importer.import_csv(data, suggest_mapping(read_header(data)), actor="测试", **kw)  # type: ignore[arg-type]


def vins(services: Services) -> set[str]:
    with services.db.read() as s:
        return set(s.scalars(select(Vehicle.vin)))


def imported(services: Services) -> list[Appointment]:
    with services.db.read() as s:
        return list(s.scalars(select(Appointment).where(Appointment.source == "import")
                              .options(selectinload(Appointment.advisor)).order_by(Appointment.id)))


def test_bad_rows_are_reported_by_line_and_field_and_the_rest_import(services: Services,
                                                                    importer: DmsImportService) -> None:
    report = run(importer, export())
    assert report.rows == 6
    by_line = {(e.line, e.field) for e in report.errors}
    assert by_line == {(3, "vin"), (4, "sold_on"), (5, "advisor")}, report.errors
    messages = {e.field: e.message for e in report.errors}
    assert BAD_VIN in messages["vin"] and "校验位" in messages["vin"]
    assert "2022-13-30" in messages["sold_on"]
    assert "赵六" in messages["advisor"]
    assert report.failed_lines == [3, 4, 5]
    assert report.customers == 3 and report.vehicles == 3 and report.appointments == 2 and report.updated == 0
    assert report.days == {date(2026, 11, 24), date(2026, 11, 25)}
    # the good rows are in the database, the bad ones are not, in any part
    on_file = vins(services)
    assert {V1, V5, with_check_digit("LBETM41B0PY300006")} <= on_file
    assert not {BAD_VIN, V3, V4} & on_file
    with services.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Customer).where(
            Customer.phone.in_(["13911023456", "13520034567", "13701067890"]))) == 0
        sima = s.scalar(select(Vehicle).where(Vehicle.vin == V5))
        assert sima is not None
        c = sima.customer
        assert (c.surname, c.given_name, c.phone) == ("司马", "光", "13621089012")
        assert sima.plate == "京F9R4T2" and sima.mileage_km == 67500 and sima.sold_on == date(2022, 6, 6)
        assert sima.insurance_expires_on == date(2027, 6, 5)
        assert s.scalar(select(func.count()).select_from(QrTag).where(QrTag.vehicle_id == sima.id)) == 1
        wang = s.scalar(select(Vehicle).where(Vehicle.vin == V1))
        assert wang is not None and wang.mileage_km == 38250 and wang.customer.full_name == "王建国"


def test_imported_appointments_are_booked_and_published(services: Services, importer: DmsImportService) -> None:
    before = services.ctx.now()
    report = run(importer, export())
    appts = imported(services)
    assert [a.external_ref for a in appts] == ["YY001", "YY005"]
    assert [a.id for a in appts] == report.appointment_ids
    first, second = appts
    assert first.status == "booked" and first.source == "import" and first.created_by == "测试"
    assert first.start == datetime(2026, 11, 24, 9, 0, tzinfo=services.ctx.tz)
    assert first.hours == Decimal("2.50") and first.work == "40000公里保养" and first.advisor.name == "张伟"
    assert first.job_lines[0]["description"] == "40000公里保养" and first.job_lines[0]["hours"] == 2.5
    assert first.version > 0 and first.created_at is not None and first.created_at >= before
    # no hours in the file: the labour operation's; the advisor by board letter
    assert second.hours == Decimal("1.20") and second.skill == "maintenance" and second.advisor.code == "B"
    assert second.job_lines[0]["code"] == "M10"
    with services.db.read() as s:
        written = set(s.scalars(select(OutboxMessage.topic)))
    for appt in appts:
        assert topics.state(services.ctx.site, topics.APPOINTMENTS, appt.id) in written


def test_capacity_does_not_refuse_what_the_dms_booked(services: Services, importer: DmsImportService) -> None:
    """Twenty 8-hour jobs for one advisor at the same time: far beyond the day's hours, all imported."""
    rows = [f"DMS{i:03d},客户{i},1390000{i:04d},京A{i:05d},{with_check_digit(f'LFMAP22C0R04{i:05d}')},卡罗拉,,,,"
            f"2026-11-24 09:00,8,大修,张伟" for i in range(20)]
    report = run(importer, export(rows))
    assert report.errors == [] and report.appointments == 20
    assert len(imported(services)) == 20


def test_reimport_updates_instead_of_duplicating(services: Services, importer: DmsImportService) -> None:
    first = run(importer, export())
    count = len(vins(services))
    again = run(importer, export())
    assert (again.customers, again.vehicles, again.appointments, again.updated) == (0, 0, 0, 0)
    assert len(again.errors) == len(first.errors)
    assert len(vins(services)) == count and len(imported(services)) == 2
    # the DMS moved YY001 to the afternoon and read a higher mileage; it also sends an older, lower one
    changed = [ROWS[0].replace("2026-11-24 09:00", "2026-11-24 15:30").replace('"38,250"', "39000"),
               ROWS[4].replace("67500", "60000")]
    third = run(importer, export(changed))
    assert (third.customers, third.vehicles, third.appointments, third.updated) == (0, 0, 0, 1)
    appts = imported(services)
    assert len(appts) == 2
    assert appts[0].start == datetime(2026, 11, 24, 15, 30, tzinfo=services.ctx.tz)
    with services.db.read() as s:
        assert s.scalar(select(Vehicle.mileage_km).where(Vehicle.vin == V1)) == 39000
        assert s.scalar(select(Vehicle.mileage_km).where(Vehicle.vin == V5)) == 67500  # not lowered
        assert s.scalar(select(func.count()).select_from(QrTag).join(Vehicle).where(Vehicle.vin == V1)) == 1


def test_an_arrived_appointment_is_not_moved_by_a_reimport(services: Services, importer: DmsImportService) -> None:
    run(importer, export())
    with services.db.write() as s:
        appt = s.scalar(select(Appointment).where(Appointment.external_ref == "YY001"))
        assert appt is not None
        appt.status = "arrived"
    report = run(importer, export([ROWS[0].replace("09:00", "16:00")]))
    assert report.updated == 0
    assert imported(services)[0].start == datetime(2026, 11, 24, 9, 0, tzinfo=services.ctx.tz)


def test_gb18030_utf8_bom_and_utf16_files_read_the_same(services: Services, importer: DmsImportService) -> None:
    text = export()
    raw = text.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert decode(raw) == text
    assert decode(codecs.BOM_UTF8 + text.encode("utf-8")) == text
    assert decode(text.encode("utf-16")) == text
    report = run(importer, raw)
    assert report.vehicles == 3 and {(e.line, e.field) for e in report.errors} == {
        (3, "vin"), (4, "sold_on"), (5, "advisor")}
    with services.db.read() as s:
        assert s.scalar(select(Customer.given_name).join(Vehicle).where(Vehicle.vin == V1)) == "建国"
    # the same file again, as UTF-8 with a BOM: nothing new
    again = run(importer, codecs.BOM_UTF8 + text.encode("utf-8"))
    assert (again.customers, again.vehicles, again.appointments) == (0, 0, 0)


def test_tab_separated_with_a_title_line_and_a_multiline_cell(services: Services, importer: DmsImportService) -> None:
    """Line numbers are the file's: a title line above the header, a quoted note over two lines."""
    header = "车架号\t车牌\t姓名\t电话\t预约时间\t维修项目\t服务顾问\t备注"
    text = "\r\n".join([
        "预约客户导出\t2026-11-23",                                                       # line 1
        header,                                                                            # line 2
        f"{V1}\t京A8K2M6\t王建国\t13801012345\t2026-11-24 09:00\t更换机油机滤\t张伟\t\"第一行\r\n第二行\"",  # 3-4
        f"{V2}\t京N3C7D1\t李秀英\t13911023456\t2026-11-24 25:00\t更换机油机滤\t张伟\t",  # line 5
        "",                                                                                # line 6
        f"{V3}\t\t欧阳志强\t13520034567\t\t\t\t",                                          # line 7: no plate
    ]) + "\r\n"
    report = run(importer, text)
    assert report.rows == 3
    assert [(e.line, e.field) for e in report.errors] == [(5, "appointment_start"), (7, "plate")]
    assert imported(services)[0].notes == "第一行\r\n第二行"


def test_past_appointments_and_missing_parts(services: Services, importer: DmsImportService) -> None:
    rows = [
        ROWS[0].replace("2026-11-24 09:00", "2026-11-20 09:00"),                       # past: vehicle only
        ROWS[4].replace(",10000公里保养,B", ",自定义项目,B"),                            # no hours, unknown work
        f"YY009,孙磊,15001078901,京AD12345,{V3},bZ4X,9870,,,2026-11-25,0.8,空调系统检查,刘洋",  # date, no time
        f"YY010,孙磊,15001078901,京AD12345,{V4},bZ4X,9870,,,2026-11-25 09:00,0.8,,刘洋",  # no work
        f"YY011,孙磊,15001078901,京AD12345,{V2},bZ4X,9870,,,2026-11-25 09:00,0.8,空调系统检查,",  # no advisor
    ]
    report = run(importer, export(rows))
    assert [(w.line, w.field) for w in report.warnings] == [(2, "appointment_start")]
    assert [(e.line, e.field) for e in report.errors] == [
        (3, "appointment_hours"), (4, "appointment_start"), (5, "appointment_work"), (6, "advisor")]
    assert V1 in vins(services) and imported(services) == []


def test_appointments_at_the_calendars_ends(services: Services, importer: DmsImportService) -> None:
    # year 9999 in the site's zone was written and then published (500: the day's capacity overflowed), with
    # an offset it failed in the database, and a year-1 time with an offset overflowed the past-check's message
    rows = [ROWS[0].replace("2026-11-24 09:00", "9999-12-31 23:00"),
            ROWS[3].replace("2026-11-25 11:00", "2027-11-26 11:00").replace(",赵六", ",李娜"),
            ROWS[4].replace("2026-11-25 14:00", "9999-12-31T23:00:00-05:00"),
            ROWS[5].replace(",,,,", ",0001-01-01T00:30:00+08:00,1,保养,张伟")]
    report = run(importer, export(rows))
    assert [(w.line, w.field) for w in report.warnings] == [(2, "appointment_start"), (3, "appointment_start")]
    assert "366" in report.warnings[0].message
    assert [(e.line, e.field) for e in report.errors] == [(4, "appointment_start"), (5, "appointment_start")]
    assert V1 in vins(services) and imported(services) == []


def test_existing_customer_gets_the_new_vehicle(services: Services, importer: DmsImportService) -> None:
    hit = CustomerService(services.ctx).create(plate="京A11111", vin=with_check_digit("LFMAP22C0R0500001"),
                                               surname="王", given_name="建国", phone="13801012345")
    report = run(importer, export(ROWS[:1]))
    assert report.customers == 0 and report.vehicles == 1
    with services.db.read() as s:
        assert s.scalar(select(Vehicle.customer_id).where(Vehicle.vin == V1)) == hit["customer_id"]


def test_dry_run_keeps_nothing(services: Services, importer: DmsImportService) -> None:
    before = vins(services)
    report = run(importer, export(), dry_run=True)
    assert report.dry_run and report.vehicles == 3 and report.appointments == 2 and len(report.errors) == 3
    assert vins(services) == before and imported(services) == []


def test_mapping_errors_stop_before_anything_is_written(services: Services, importer: DmsImportService) -> None:
    data = export().encode()
    mapping = suggest_mapping(read_header(data))
    with pytest.raises(Invalid) as exc:
        importer.import_csv(data, {**mapping, "plate": "牌照"}, actor="x")
    assert exc.value.key == "dms_import.mapping_column_missing" and "牌照" in exc.value.message("zh-CN")
    with pytest.raises(Invalid) as exc:
        importer.import_csv(data, {**mapping, "colour": "车身颜色"}, actor="x")
    assert exc.value.key == "dms_import.mapping_field_unknown"
    with pytest.raises(Invalid) as exc:
        importer.import_csv(data, {k: v for k, v in mapping.items() if k != "vin"}, actor="x")
    assert exc.value.key == "dms_import.mapping_needs_vin"
    with pytest.raises(Invalid):
        importer.import_csv(b"", mapping, actor="x")
    with pytest.raises(Invalid):
        importer.import_csv(b"\xff\xfe\xfd" * 0 + b"\x81\x20abc", mapping, actor="x")
    assert imported(services) == []


def test_the_sample_export_imports_with_its_one_bad_row(services: Services, importer: DmsImportService) -> None:
    data = SAMPLE.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    mapping = suggest_mapping(read_header(data))
    assert mapping["appointment_date"] == "预约日期" and mapping["appointment_time"] == "预约时段"
    report = importer.import_csv(data, mapping, actor="演示", lang="en")
    assert report.rows == 10 and report.failed_lines == [7]
    assert report.errors[0].field == "vin" and "check digit" in report.errors[0].message
    assert report.vehicles == 9 and report.appointments == 7
    found = CustomerService(services.ctx).search("上官")
    assert [(h["customer"], h["addressed"], h["phone"]) for h in found] == [("上官婷", "上官女士", "01065521234")]
    smith = CustomerService(services.ctx).search("john smith")[0]
    assert smith["addressed"] == "Smith先生" and smith["phone"] == "13910567890"
    starts = {a.external_ref: a.start.astimezone(services.ctx.tz) for a in imported(services)}
    assert starts["YY20261126001"] == datetime(2026, 11, 26, 8, 30, tzinfo=services.ctx.tz)
    assert imported(services)[0].notes == "客户要求检查空调异味"


# --- the pieces ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "parts"), [
    ("王建国", ("王", "建国", "")),
    ("王芳", ("王", "芳", "")),
    ("欧阳建国", ("欧阳", "建国", "")),
    ("司马光", ("司马", "光", "")),
    ("上官婉儿", ("上官", "婉儿", "")),
    ("欧阳", ("欧阳", "", "")),
    ("王先生", ("王", "", "先生")),
    ("欧阳女士", ("欧阳", "", "女士")),
    (" 王 建 国 ", ("王", "建国", "")),
    ("John Smith", ("Smith", "John", "")),
    ("Smith, John", ("Smith", "John", "")),
    ("Anna Maria Müller", ("Müller", "Anna Maria", "")),
    ("阿依古丽·买买提", ("阿依古丽·买买提", "", "")),
])
def test_split_name(raw: str, parts: tuple[str, str, str]) -> None:
    assert split_name(raw) == parts


def test_suggest_mapping_knows_common_headers() -> None:
    zh = ["车牌号码", "VIN码", "车主姓名", "联系电话", "预约时间", "预计工时", "维修项目", "服务顾问", "销售日期",
          "上次保养日期", "上次保养里程", "保险到期日", "年检日期", "质保到期日", "行驶里程(km)", "备注", "车型"]
    got = suggest_mapping(zh)
    assert got == {"plate": "车牌号码", "vin": "VIN码", "name": "车主姓名", "phone": "联系电话",
                   "appointment_start": "预约时间", "appointment_hours": "预计工时", "appointment_work": "维修项目",
                   "advisor": "服务顾问", "sold_on": "销售日期", "last_service_on": "上次保养日期",
                   "last_service_km": "上次保养里程", "insurance_expires_on": "保险到期日",
                   "inspection_due_on": "年检日期", "warranty_expires_on": "质保到期日", "mileage_km": "行驶里程(km)",
                   "notes": "备注", "model": "车型"}
    assert suggest_mapping(["车牌", "车架号", "客户姓名", "手机"]) == {
        "plate": "车牌", "vin": "车架号", "name": "客户姓名", "phone": "手机"}
    en = suggest_mapping(["License Plate", "VIN", "Customer Name", "Mobile", "Appointment Time", "Hours", "Work",
                          "Service Advisor", "Booking No", "Last Service Date"])
    assert en == {"plate": "License Plate", "vin": "VIN", "name": "Customer Name", "phone": "Mobile",
                  "appointment_start": "Appointment Time", "appointment_hours": "Hours", "appointment_work": "Work",
                  "advisor": "Service Advisor", "external_ref": "Booking No", "last_service_on": "Last Service Date"}
    # "客户电话" is a phone, not a name; the name column keeps its own
    assert suggest_mapping(["客户", "客户电话"]) == {"name": "客户", "phone": "客户电话"}
    assert suggest_mapping(["颜色", ""]) == {}


def test_values() -> None:
    assert parse_date("2026/1/5") == date(2026, 1, 5)
    assert parse_date("2026年11月24日") == date(2026, 11, 24)
    assert parse_date("20261124") == date(2026, 11, 24)
    assert parse_date("2026-11-24 00:00:00") == date(2026, 11, 24)
    assert parse_time("09:00-10:00") == time(9, 0)
    assert parse_time("下午2:30") == time(14, 30)
    assert parse_time("9点半") == time(9, 30)
    assert parse_time("2:30 PM") == time(14, 30)
    assert parse_int("4.5万") == 45000 and parse_int("45,678 km") == 45678 and parse_int("12000公里") == 12000
    for bad in ("2026-02-30", "24/11/2026", "soon"):
        with pytest.raises(Exception):  # noqa: B017  (the module's own field error)
            parse_date(bad)
    for bad in ("-5", "1.5", "很多"):
        with pytest.raises(Exception):  # noqa: B017
            parse_int(bad)
    assert parse_hours("0.1") == Decimal("0.10") and parse_hours("2.5h") == Decimal("2.50")
    for bad in ("0.001", "0.09", "0", "100.5", "NaN"):  # 0.001 was kept as 0.00 hours: an appointment of no time
        with pytest.raises(Exception, match=r"^dms_import\.hours_invalid$"):  # the module's own field error
            parse_hours(bad)


@pytest.mark.parametrize("encoding, text", [
    ("big5", "客戶姓名,車牌號碼,電話\n王大明,京A12345,13800138000\n陳小華,滬B67890,13912345678\n"),
    ("shift_jis", "顧客名,ナンバー,電話\n山田太郎,品川500あ1234,09012345678\n"),
    ("latin-1", "Nom,Plaque,Téléphone\nRené Müller,X12345,0612345678\nFrançois,B1,06\n"),
])
def test_a_file_in_another_encoding_is_refused_not_imported_as_garbage(encoding: str, text: str) -> None:
    from shopfloor.services.dms_csv import decode

    with pytest.raises(Invalid) as exc:
        decode(text.encode(encoding))
    assert exc.value.key in ("dms_import.file_not_gb", "dms_import.file_encoding")
    assert "UTF-8 or GB18030" in exc.value.message("en")


def test_gb18030_names_with_a_rare_character_still_read() -> None:
    from shopfloor.services.dms_csv import decode

    text = "客户姓名,车牌号码\n王喆,京A12345\n李昇,沪B67890\n赵堃,粤C12345\n欧阳建国,京A54321\n"
    assert decode(text.encode("gb18030")) == text
