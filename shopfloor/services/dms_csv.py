"""Reading a DMS export (CSV) without touching the database: the bytes' encoding, the delimiter, the header
row and its mapping to our fields, and each row's cells checked and parsed into values.

Chinese DMS exports come as UTF-8 (with or without BOM), GB18030/GBK (what Excel writes on a Chinese
Windows) or UTF-16 (Excel's "Unicode text", tab-separated); the delimiter is taken from the header line
(comma, tab, semicolon or bar). Title lines above the header are skipped: the header is the first row that
holds the mapped columns.

`mapping` maps our field names (FIELDS) to the file's column headers; `suggest_mapping` proposes one from
common Chinese and English headers. A row's problems are kept with it, by field, for the import's report
(shopfloor.services.dms_import writes the rows).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from shopfloor.domain.capacity import MAX_LINE_HOURS, MIN_LINE_HOURS
from shopfloor.domain.errors import DomainError, Invalid
from shopfloor.domain.identifiers import normalize_plate, normalize_vin
from shopfloor.services.customers import check_channel, normalize_phone

MAX_ROWS = 100_000
MAX_BYTES = 50 * 1024 * 1024

CUSTOMER_FIELDS = ("name", "surname", "given_name", "salutation", "phone", "address", "preferred_channel")
VEHICLE_FIELDS = ("vin", "plate", "model", "mileage_km", "sold_on", "last_service_on", "last_service_km",
                  "insurance_expires_on", "inspection_due_on", "warranty_expires_on")
APPOINTMENT_FIELDS = ("appointment_start", "appointment_date", "appointment_time", "appointment_hours",
                      "appointment_work", "advisor", "skill", "external_ref", "notes")
FIELDS = (*CUSTOMER_FIELDS, *VEHICLE_FIELDS, *APPOINTMENT_FIELDS)
DATE_FIELDS = ("sold_on", "last_service_on", "insurance_expires_on", "inspection_due_on", "warranty_expires_on")

# Two-character (compound) surnames: 欧阳建国 is 欧阳 + 建国, not 欧 + 阳建国.
_COMPOUND = ("欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 独孤 南宫 西门 万俟 闻人 "
             "澹台 公冶 宗政 濮阳 淳于 单于 太叔 申屠 钟离 赫连 端木 百里 东郭 呼延 羊舌 微生 梁丘 左丘 第五 司空 "
             "司寇 亓官 拓跋 谷梁 段干 乐正 公羊 鲜于 闾丘 仲孙 子车 颛孙 巫马 公西 漆雕 壤驷 公良 夹谷 宰父 东门 即墨")
COMPOUND_SURNAMES = frozenset(_COMPOUND.split(" "))
_SALUTATION_SUFFIXES = ("先生", "女士", "小姐", "太太")
_SALUTATIONS = {"男": "先生", "m": "先生", "male": "先生", "mr": "先生", "mr.": "先生",
                "女": "女士", "f": "女士", "female": "女士", "ms": "女士", "ms.": "女士", "mrs": "女士", "mrs.": "女士",
                "miss": "女士"}
_CHANNELS = {"短信": "sms", "微信": "wechat", "电话": "phone", "手机": "phone", "信函": "letter", "邮寄": "letter",
             "信件": "letter"}
_SKILLS = {"maintenance": "maintenance", "repair": "repair", "保养": "maintenance", "定期保养": "maintenance",
           "维护": "maintenance", "快保": "maintenance", "pm": "maintenance", "维修": "repair", "机修": "repair",
           "一般维修": "repair", "gr": "repair", "钣喷": "repair"}
_NULLS = frozenset({"-", "--", "—", "/", "无", "null", "none", "n/a", "#n/a", "nan"})
_LATIN = re.compile(r"[A-Za-z]")


# --- header suggestions ----------------------------------------------------------------------------------

# Synonyms per field (compared after _header_key). Those in _EXACT_ONLY are too general to find inside a
# longer header ("客户" in "客户电话").
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("客户姓名", "姓名", "客户名称", "车主", "车主姓名", "客户", "联系人", "联系人姓名", "name", "customer",
             "customername", "fullname", "owner", "ownername"),
    "surname": ("姓", "姓氏", "surname", "lastname", "familyname"),
    "given_name": ("名", "名字", "givenname", "firstname"),
    "salutation": ("称呼", "性别", "客户性别", "salutation", "title", "gender", "sex"),
    "phone": ("手机", "手机号", "手机号码", "电话", "联系电话", "电话号码", "移动电话", "联系方式", "客户电话",
              "车主电话", "phone", "mobile", "tel", "telephone", "cell", "phonenumber", "mobilephone"),
    "address": ("地址", "联系地址", "住址", "客户地址", "address"),
    "preferred_channel": ("联系偏好", "回访方式", "首选联系方式", "preferredchannel", "channel"),
    "plate": ("车牌号", "车牌", "车牌号码", "牌照号", "牌照", "号牌号码", "plate", "licenseplate", "licenceplate",
              "plateno", "registration", "regno"),
    "vin": ("vin", "vin码", "车架号", "车辆识别代号", "车辆识别码", "底盘号", "车架号码", "chassis", "chassisno",
            "vinno"),
    "model": ("车型", "车型名称", "车系", "品牌车型", "车辆型号", "model", "vehiclemodel", "carmodel"),
    "mileage_km": ("里程", "行驶里程", "当前里程", "进厂里程", "公里数", "表显里程", "mileage", "odometer", "km",
                   "mileagekm"),
    "sold_on": ("销售日期", "购车日期", "开票日期", "购买日期", "新车交车日期", "saledate", "soldon", "purchasedate",
                "solddate"),
    "last_service_on": ("上次保养日期", "上次保养时间", "最近保养日期", "上次进厂日期", "最后进厂日期", "上次维修日期",
                        "最近进厂日期", "lastservice", "lastservicedate", "lastserviceon", "lastvisit"),
    "last_service_km": ("上次保养里程", "最近保养里程", "上次进厂里程", "最后进厂里程", "lastservicekm",
                        "lastservicemileage"),
    "insurance_expires_on": ("保险到期日", "保险到期日期", "保险到期", "商业险到期日", "交强险到期日", "保险截止日期",
                             "insuranceexpiry", "insuranceexpires", "insuranceexpireson", "insurancedue"),
    "inspection_due_on": ("年检日期", "年检到期日", "年审日期", "年检到期", "年审到期日", "年检到期日期",
                          "inspectiondue", "inspectiondueon", "annualinspection", "inspectiondate"),
    "warranty_expires_on": ("保修到期日", "质保到期日", "保修截止日期", "保修到期", "质保到期", "warrantyexpiry",
                            "warrantyexpires", "warrantyexpireson", "warrantyend"),
    "appointment_start": ("预约时间", "预约日期时间", "预约到店时间", "预计到店时间", "预约进厂时间", "预约开始时间",
                          "appointment", "appointmenttime", "appointmentstart", "bookingtime", "start"),
    "appointment_date": ("预约日期", "预约到店日期", "appointmentdate", "bookingdate"),
    "appointment_time": ("预约时段", "到店时段", "预约钟点", "timeslot", "slot"),
    "appointment_hours": ("工时", "预计工时", "标准工时", "预约工时", "hours", "labourhours", "laborhours",
                          "estimatedhours"),
    "appointment_work": ("维修项目", "预约项目", "服务项目", "维修内容", "作业项目", "预约内容", "项目", "work", "job",
                         "jobs", "services", "workdescription"),
    "advisor": ("服务顾问", "顾问", "接待顾问", "接待人", "接待员", "sa", "advisor", "serviceadvisor"),
    "skill": ("维修类型", "作业类型", "工种", "业务类型", "skill", "jobtype", "worktype"),
    "external_ref": ("预约单号", "预约编号", "预约号", "预约id", "单号", "bookingno", "bookingid", "appointmentid",
                     "appointmentno", "externalref", "reference", "ref"),
    "notes": ("备注", "客户需求", "客户描述", "notes", "remarks", "remark", "comment", "comments"),
}
_EXACT_ONLY = frozenset({"客户", "项目", "单号", "名", "姓", "km", "start", "sa", "ref", "title", "channel",
                         "customer", "owner", "车主", "job", "jobs", "work", "slot", "cell", "tel", "appointment"})
_BRACKETS = re.compile(r"[（(\[【].*?[)）\]】]")


def _header_key(header: str) -> str:
    text = _BRACKETS.sub("", header.replace("\ufeff", "")).lower()
    return re.sub(r"[\s_\-*:：/.#]", "", text)


def suggest_mapping(header: list[str]) -> dict[str, str]:
    """Our field -> the header that looks like it (each header used once). Exact names first, then headers
    that contain a specific name ("车牌号码(必填)" -> plate); a name and a phone column both present keep their
    own columns."""
    keys = [_header_key(h) for h in header]
    exact = {syn.lower(): f for f, syns in SYNONYMS.items() for syn in syns}
    out: dict[str, str] = {}
    used: set[int] = set()
    for i, key in enumerate(keys):
        f = exact.get(key)
        if f is not None and f not in out:
            out[f] = header[i].strip()
            used.add(i)
    partial = sorted(((syn.lower(), f) for f, syns in SYNONYMS.items() for syn in syns
                      if syn not in _EXACT_ONLY and len(syn) >= 2), key=lambda x: -len(x[0]))
    for i, key in enumerate(keys):
        if i in used or not key:
            continue
        for syn, f in partial:
            if syn in key and f not in out:
                out[f] = header[i].strip()
                used.add(i)
                break
    return out


# --- reading the file ------------------------------------------------------------------------------------

def decode(data: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 with BOM, else GB18030 (a superset of GBK and GB2312)."""
    if len(data) > MAX_BYTES:
        raise Invalid("dms_import.file_too_large", mb=MAX_BYTES // (1024 * 1024))
    try:
        if data.startswith(codecs.BOM_UTF8):
            return data[len(codecs.BOM_UTF8):].decode("utf-8")
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise Invalid("dms_import.file_encoding", position=exc.start) from None
    if _misread(text):
        raise Invalid("dms_import.file_not_gb")
    return text


def _misread(text: str) -> bool:
    """GB18030 maps almost every byte sequence to some character, so a Big5, Shift-JIS or Latin-1 file 'decodes'
    into rare characters: names and plates use the common ones (GB2312). Over a third of the non-ASCII
    characters outside GB2312 is another encoding read wrongly (a real file has a rare name character here and
    there, 王喆, 赵堃)."""
    wide = [c for c in text if ord(c) > 0x7F]
    if len(wide) < 6:
        return False
    rare = 0
    for c in wide:
        try:
            c.encode("gb2312")
        except UnicodeEncodeError:
            rare += 1
    return rare * 3 > len(wide)


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells); a quoted cell may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise Invalid("dms_import.file_unreadable", line=start, detail=str(exc)) from None
        yield start, row


def _blank(row: list[str]) -> bool:
    return not any(cell.strip() for cell in row)


def _clean_header(row: list[str]) -> list[str]:
    return [cell.replace("\ufeff", "").strip() for cell in row]


def read_header(data: bytes) -> list[str]:
    """The file's column headers: the first row (of the first 20) in which suggest_mapping recognises at least
    two columns, else the first non-blank row. For the mapping screen."""
    first: list[str] | None = None
    for n, (_, row) in enumerate(_records(decode(data))):
        if n >= 20:
            break
        if _blank(row):
            continue
        header = _clean_header(row)
        first = first or header
        if len(suggest_mapping(header)) >= 2:
            return header
    if first is None:
        raise Invalid("dms_import.file_empty")
    return first


# --- values ----------------------------------------------------------------------------------------------

class _FieldError(Exception):
    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(key)
        self.key, self.params = key, params


def clean_cell(raw: str) -> str:
    """Excel's ="0123" (kept as text), surrounding spaces, and the usual empty markers (-, 无, NULL)."""
    text = raw.strip()
    if len(text) >= 3 and text.startswith('="') and text.endswith('"'):
        text = text[2:-1].strip()
    return "" if text.lower() in _NULLS else text


def split_name(raw: str) -> tuple[str, str, str]:
    """A full name in one cell -> (surname, given name, salutation). 王建国 -> 王 建国; 欧阳建国 -> 欧阳 建国;
    王先生 -> 王, '', 先生; 'John Smith' -> Smith John; 'Smith, John' -> Smith John. A transliterated name with
    a middle dot (阿依古丽·买买提) is kept whole as the surname: it has no surname to split off."""
    name = " ".join(raw.split())
    salutation = ""
    for suffix in _SALUTATION_SUFFIXES:
        if name.endswith(suffix) and 0 < len(name) - len(suffix) <= 2 + (name[:2] in COMPOUND_SURNAMES):
            name, salutation = name[: -len(suffix)].strip(), suffix
            break
    if _LATIN.search(name):
        if "," in name:
            surname, given = (part.strip() for part in name.split(",", 1))
            return surname, given, salutation
        parts = name.split()
        return parts[-1], " ".join(parts[:-1]), salutation
    name = name.replace(" ", "")
    if any(dot in name for dot in "·•.．"):
        return name, "", salutation
    size = 2 if len(name) >= 2 and name[:2] in COMPOUND_SURNAMES else 1
    return name[:size], name[size:], salutation


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[\sT]+(.*))?$")
_DATE8 = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:[\sT]+(.*))?$")
_TIME = re.compile(r"(上午|下午|晚上|am|pm)?\s*(\d{1,2})\s*"
                   r"(?:[:：]\s*(\d{2})(?:\s*[:：]\s*(\d{2}))?|点\s*(半|\d{1,2})?\s*分?)\s*(am|pm)?", re.IGNORECASE)


def _split_datetime(text: str) -> tuple[date | None, str]:
    """A leading date and what follows it (a time, or nothing)."""
    m = _DATE.match(text) or _DATE8.match(text)
    if m is None:
        return None, text
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))), (m.group(4) or "").strip()
    except ValueError:
        raise _FieldError("dms_import.date_invalid", value=text) from None


def parse_date(text: str) -> date:
    """2026-11-24, 2026/11/24, 2026.11.24, 2026年11月24日, 20261124; a time after it (a database's 00:00:00)
    is ignored."""
    day, _ = _split_datetime(text)
    if day is None:
        raise _FieldError("dms_import.date_invalid", value=text)
    return day


def parse_time(text: str) -> time | None:
    """09:30, 9:30:00, 9点半, 下午2:30, 2:30 PM; the first time in a slot (09:00-10:00). None: no time there."""
    m = _TIME.search(text)
    if m is None:
        return None
    hour = int(m.group(2))
    if m.group(3) is not None:
        minute = int(m.group(3))
    elif m.group(5) == "半":
        minute = 30
    else:
        minute = int(m.group(5) or 0)
    meridiem = (m.group(1) or m.group(6) or "").lower()
    if meridiem in ("下午", "晚上", "pm") and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise _FieldError("dms_import.datetime_invalid", value=text)
    return time(hour, minute)


def parse_int(text: str, *, limit: int = 2_000_000) -> int:
    """45678, 45,678, 45678 km, 45678公里, 4.5万 -> whole km."""
    value = re.sub(r"[\s,，]", "", text).lower()
    value = re.sub(r"(km|公里|千米)$", "", value)
    factor = 1
    if value.endswith("万"):
        value, factor = value[:-1], 10_000
    try:
        number = Decimal(value) * factor
    except InvalidOperation:
        raise _FieldError("dms_import.number_invalid", value=text) from None
    if not number.is_finite() or number != number.to_integral_value() or not 0 <= number <= limit:
        raise _FieldError("dms_import.number_invalid", value=text)
    return int(number)


def parse_hours(text: str) -> Decimal:
    value = re.sub(r"\s|h$|小时$|工时$", "", text.lower())
    try:
        hours = Decimal(value)
    except InvalidOperation:
        raise _FieldError("dms_import.hours_invalid", value=text) from None
    if not hours.is_finite() or not Decimal(str(MIN_LINE_HOURS)) <= hours <= Decimal(str(MAX_LINE_HOURS)):
        raise _FieldError("dms_import.hours_invalid", value=text)
    return hours.quantize(Decimal("0.01"))


# --- rows ------------------------------------------------------------------------------------------------

@dataclass
class ParsedRow:
    line: int  # where the record starts in the file, as an editor shows it
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str, dict[str, object]]] = field(default_factory=list)  # (field, message key, params)


def check_mapping(mapping: dict[str, str]) -> dict[str, str]:
    """The mapping without empty columns; an unknown field or no VIN column raises Invalid."""
    mapping = {f: col.strip() for f, col in mapping.items() if col and col.strip()}
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        raise Invalid("dms_import.mapping_field_unknown", field=", ".join(unknown))
    if "vin" not in mapping:
        raise Invalid("dms_import.mapping_needs_vin")
    return mapping


def read_rows(data: bytes, mapping: dict[str, str], tz: tzinfo) -> list[ParsedRow]:
    """Every data row of the file (blank lines skipped), parsed; a file problem (encoding, size, a mapped
    column the file lacks, too many rows) raises Invalid before any row is returned."""
    mapping = check_mapping(mapping)
    records = _records(decode(data))
    columns = _columns(records, mapping)
    parser = RowParser(tz)
    rows: list[ParsedRow] = []
    for line, cells in records:
        if _blank(cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise Invalid("dms_import.too_many_rows", limit=MAX_ROWS)
        rows.append(parser.parse(line, {f: clean_cell(cells[i]) if i < len(cells) else ""
                                        for f, i in columns.items()}))
    return rows


def _columns(records: Iterator[tuple[int, list[str]]], mapping: dict[str, str]) -> dict[str, int]:
    """Column index per mapped field, from the first row (of the first 20) holding every mapped column."""
    wanted = set(mapping.values())
    first: list[str] | None = None
    for n, (_, row) in enumerate(records):
        if _blank(row):
            continue
        header = _clean_header(row)
        first = first or header
        folded = {h.lower(): i for i, h in reversed(list(enumerate(header)))}
        if all(col.lower() in folded for col in wanted):
            return {f: folded[col.lower()] for f, col in mapping.items()}
        if n >= 20:
            break
    if first is None:
        raise Invalid("dms_import.file_empty")
    present = {h.lower() for h in first}
    f, col = next((f, col) for f, col in mapping.items() if col.lower() not in present)
    raise Invalid("dms_import.mapping_column_missing", column=col, field=f)


class RowParser:
    """Parses rows into values; times without a zone are the site's (`tz`)."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz

    def parse(self, line: int, cells: dict[str, str]) -> ParsedRow:
        """One data row, its cells by our field names: the values it gives and every problem it has."""
        row = ParsedRow(line)

        def take(f: str, parse: Any) -> None:
            text = cells.get(f, "")
            if not text:
                return
            try:
                row.values[f] = parse(text)
            except _FieldError as exc:
                row.errors.append((f, exc.key, exc.params))
            except DomainError as exc:
                row.errors.append((f, exc.key, exc.params))

        def limited(size: int) -> Any:
            def check(text: str) -> str:
                if len(text) > size:
                    raise _FieldError("dms_import.too_long", limit=size)
                return text
            return check

        if not cells.get("vin"):
            row.errors.append(("vin", "dms_import.vin_missing", {}))
        take("vin", normalize_vin)
        take("plate", normalize_plate)
        take("model", limited(60))
        take("mileage_km", parse_int)
        take("last_service_km", parse_int)
        for f in DATE_FIELDS:
            take(f, parse_date)
        if cells.get("surname"):
            take("surname", limited(20))
            take("given_name", limited(40))
        elif cells.get("name"):
            take("name", split_name)
            if "name" in row.values:
                surname, given, salutation = row.values.pop("name")
                if len(surname) > 20 or len(given) > 40:
                    row.errors.append(("name", "dms_import.too_long", {"limit": 20}))
                row.values.update(surname=surname, given_name=given)
                if salutation:
                    row.values["salutation"] = salutation
        take("salutation", lambda text: _SALUTATIONS.get(text.lower(), limited(10)(text)))
        take("phone", normalize_phone)
        take("address", limited(200))
        take("preferred_channel", lambda text: check_channel(_CHANNELS.get(text) or text))
        self._parse_appointment(row, cells)
        return row

    def _parse_appointment(self, row: ParsedRow, cells: dict[str, str]) -> None:
        raw = cells.get("appointment_start", "")
        raw_date, raw_time = cells.get("appointment_date", ""), cells.get("appointment_time", "")
        if not (raw or raw_date):
            return
        try:
            when = self._in_both_zones(self._appointment_start(raw, raw_date, raw_time), raw or raw_date)
        except _FieldError as exc:
            row.errors.append(("appointment_start" if raw else "appointment_date", exc.key, exc.params))
            return
        row.values["appointment_start"] = when
        work = cells.get("appointment_work", "")
        if not work:
            row.errors.append(("appointment_work", "dms_import.work_missing", {}))
        elif len(work) > 200:
            row.errors.append(("appointment_work", "dms_import.too_long", {"limit": 200}))
        else:
            row.values["appointment_work"] = work
        if cells.get("appointment_hours"):
            try:
                row.values["appointment_hours"] = parse_hours(cells["appointment_hours"])
            except _FieldError as exc:
                row.errors.append(("appointment_hours", exc.key, exc.params))
        skill = cells.get("skill", "")
        if skill:
            if skill.lower() in _SKILLS:
                row.values["skill"] = _SKILLS[skill.lower()]
            else:
                row.errors.append(("skill", "dms_import.skill_unknown", {"value": skill}))
        if not cells.get("advisor"):
            row.errors.append(("advisor", "dms_import.advisor_missing", {}))
        else:
            row.values["advisor"] = cells["advisor"]
        for f, size in (("external_ref", 60), ("notes", 500)):
            if cells.get(f):
                if len(cells[f]) > size:
                    row.errors.append((f, "dms_import.too_long", {"limit": size}))
                else:
                    row.values[f] = cells[f]

    def _in_both_zones(self, when: datetime, raw: str) -> datetime:
        """A time that is stored in UTC and shown in the site's zone: near year 1 or 9999 either may be no
        datetime at all (an OverflowError later, when the row is written)."""
        try:
            when.astimezone(UTC), when.astimezone(self.tz)
        except OverflowError:
            raise _FieldError("dms_import.datetime_invalid", value=raw) from None
        return when

    def _appointment_start(self, raw: str, raw_date: str, raw_time: str) -> datetime:
        """A date and time in the site's zone: from one cell (2026-11-24 09:30, or an ISO time with offset) or a
        date cell and a time cell; a start cell holding the time only takes the date from the date cell."""
        if raw:
            try:
                parsed = datetime.fromisoformat(raw)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is not None:
                return parsed
            day, rest = _split_datetime(raw)
            if day is None:  # the start cell holds a time only
                day, rest = (parse_date(raw_date) if raw_date else None), raw
                if day is None:
                    raise _FieldError("dms_import.datetime_invalid", value=raw)
            at = parse_time(rest) if rest else None
            if at is None and raw_time:
                at = parse_time(raw_time)
            if at is None:
                if rest:
                    raise _FieldError("dms_import.datetime_invalid", value=raw)
                raise _FieldError("dms_import.time_missing", value=raw)
        else:
            day = parse_date(raw_date)
            at = parse_time(raw_time) if raw_time else None
            if at is None:
                raise _FieldError("dms_import.time_missing", value=raw_date)
        return datetime.combine(day, at, tzinfo=self.tz)
