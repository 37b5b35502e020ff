"""What a booking asks for, as the API takes it: the work (catalogue codes or lines with hours), the advisor (id,
code, name or {id}) and an override; shared by the slot proposals and the appointment routes."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shopfloor.api.fields import HOURS_NOTE, MAX_ID, Text
from shopfloor.domain.capacity import MAX_LINE_HOURS, MIN_LINE_HOURS
from shopfloor.domain.errors import Invalid
from shopfloor.services.booking import BookingService, WorkLine


class JobLineBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Text | None = Field(default=None, max_length=20, description="labour-operation code")
    description: Text | None = Field(default=None, max_length=200)
    hours: float | None = Field(default=None, ge=MIN_LINE_HOURS, le=MAX_LINE_HOURS, description=HOURS_NOTE)
    skill: Literal["maintenance", "repair"] | None = None


class OverrideBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(min_length=1, max_length=300, description="why the rule is broken (logged with who)")


class AdvisorChoice(BaseModel):
    """An advisor as an object, e.g. one taken from an appointment or slot answer."""

    model_config = ConfigDict(extra="ignore")
    id: int = Field(ge=1, le=MAX_ID)


Advisor = int | Text | AdvisorChoice | None


def advisor_id(booking: BookingService, value: Advisor) -> int | None:
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, AdvisorChoice):
        return value.id
    return booking.advisor_by_name(value)


def work_lines(booking: BookingService, job_lines: list[str | JobLineBody] | None, hours: float | None,
               skill: str | None, work: str) -> list[WorkLine]:
    codes = [x for x in job_lines or [] if isinstance(x, str)]
    extra = []
    for x in job_lines or []:
        if isinstance(x, JobLineBody):
            if x.code and x.hours is None:
                codes.append(x.code)
                continue
            if x.hours is None or not (x.description or work or x.code):
                raise Invalid("error.job_line_invalid")
            extra.append(WorkLine((x.description or work or x.code or "").strip(), x.hours,
                                  x.skill or skill or "maintenance", x.code))
    if not codes and not extra and hours is None:
        raise Invalid("booking.error.no_work")
    return booking.lines(codes=codes, hours=hours, skill=skill, work=work, extra=extra)
