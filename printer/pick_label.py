"""The parts pre-pick label (domain.md §2: "parts pre-picked and labelled with plate + date"): one small ESC/POS
job per appointment, stuck on the bag or bin of parts picked the day before. Laid out for 58 mm paper (32
columns) and wider; the words come from the caller (the i18n catalogues), the layout from here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shopfloor.printer.escpos_text import ALIGN_CENTER
from shopfloor.printer.ticket import PrinterProfile, _Job


@dataclass(frozen=True)
class PickLabelWords:
    title: str          # 预拣配件
    appointment: str    # 预约
    parts: str          # 配件号
    advisor: str
    work: str
    customer: str
    late_parts: str     # printed big when the parts are still on order
    no_parts: str       # no part numbers written on the booking


@dataclass
class PickLabelData:
    plate: str          # display form, 京A·12345
    start: datetime     # the site's wall clock
    day_text: str       # 11月24日 周二 / Tue 24 Nov
    part_numbers: list[str]
    advisor: str
    work: str
    customer: str       # display form only (王先生)
    appointment_id: int
    words: PickLabelWords
    late_parts: bool = False


def render_pick_label(data: PickLabelData, profile: PrinterProfile) -> bytes:
    w = data.words
    job = _Job(profile)
    job.wrapped(w.title, strong=True, alignment=ALIGN_CENTER)
    job.rule("=")
    # the plate and the time are what the parts counter reads from across the room
    job.wrapped(data.plate, size=2, strong=True, alignment=ALIGN_CENTER)
    job.wrapped(f"{data.start:%m-%d} {data.start:%H:%M}", size=2, strong=True, alignment=ALIGN_CENTER)
    job.wrapped(f"{w.appointment} {data.day_text} {data.start:%H:%M}", alignment=ALIGN_CENTER)
    if data.late_parts:
        job.rule("*")
        job.wrapped(w.late_parts, strong=True, alignment=ALIGN_CENTER)
        job.rule("*")
    else:
        job.rule()
    job.line(w.parts, strong=True)
    if data.part_numbers:
        for number in data.part_numbers:
            job.wrapped(number, strong=True)
    else:
        job.wrapped(w.no_parts)
    job.rule()
    job.pair(w.advisor, data.advisor)
    job.pair(w.customer, data.customer)
    job.pair(w.work, data.work)
    job.line(f"#{data.appointment_id}", alignment=ALIGN_CENTER)
    return job.finish()
