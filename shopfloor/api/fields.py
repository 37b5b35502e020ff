"""Input types every API module shares: text a database can store and a person can read, ids that fit the
columns, days, and the base of a request body that changes something."""
# No `from __future__ import annotations` in shopfloor/api: FastAPI reads the annotations at runtime.

from datetime import date, timedelta
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shopfloor.domain.errors import Invalid
from shopfloor.domain.text import has_control_characters

PREFIX = "/api/v1"
MAX_ID = 2**31 - 1  # ids are INTEGER columns: larger numbers name nothing (and overflow the drivers)


def _storable(value: str) -> str:
    """Text every database can store and compare: PostgreSQL refuses NUL in text, and a lone UTF-16 surrogate
    (JSON allows "\\ud800") is not UTF-8 at all. Either would otherwise fail in the driver: a 500."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return value


def _readable(value: str) -> str:
    """Text a person wrote, as it is printed, shown on the boards and exported: storable, and without control
    characters (a terminal escape, a backspace, a bidirectional override that turns 王先生 into something else on
    screen) except line breaks and tabs. A Windows line break is kept as a plain one."""
    value = _storable(value).replace("\r\n", "\n")
    if has_control_characters(value, allow_line_breaks=True):
        raise ValueError("must not contain control characters or direction overrides (line breaks and tabs are "
                         "fine)")
    return value


Text = Annotated[str, AfterValidator(_readable)]
# A file's contents as text (a CSV export): storable; its reader judges its lines and cells.
FileText = Annotated[str, AfterValidator(_storable)]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
RoNumber = Annotated[Text, Path(min_length=1, max_length=40, description="repair order number, e.g. RO20261123-001")]
DayQuery = Annotated[Text | None, Query(max_length=40, description="YYYY-MM-DD; default today")]
ACTOR_IGNORED = "ignored: the actor of every change is the API token's name (kept so older callers still work)"
HOURS_NOTE = "at least 0.1 (6 minutes, the smallest flat-rate unit), at most 100"
# What the rules refuse in a day or a booking's work, for the routes' 422 descriptions
DAY_REFUSED = "a day that is not YYYY-MM-DD (0001-01-02 to 9999-12-30)"
WORK_REFUSED = ("work that is missing, names an unknown labour operation or one out of use, or has hours outside "
                "0.1–100")


class ChangeBody(BaseModel):
    """A request body that changes something: a key the model does not name is refused, not dropped, and
    `actor` is still accepted from older callers (and ignored)."""

    model_config = ConfigDict(extra="forbid")
    actor: Text = Field(default="api", min_length=1, max_length=80, description=ACTOR_IGNORED)


def parse_day(day: str | None, default: date) -> date:
    """A day as the site counts them, from YYYY-MM-DD (None: `default`)."""
    try:
        when = date.fromisoformat(day) if day else default
    except ValueError:
        raise Invalid("error.day_invalid", day=day) from None
    if not date.min < when < date.max:  # the day's bounds in the site's zone, in UTC, must be dates too
        raise Invalid("error.day_out_of_range", day=day)
    return when


def days_after(day: date, days: int) -> date:
    """`day` + `days`, refused (422) where that leaves the days parse_day accepts."""
    try:
        later = day + timedelta(days=days)
    except OverflowError:
        later = date.max
    if not date.min < later < date.max:
        raise Invalid("error.day_out_of_range", day=f"{day.isoformat()} + {days} days")
    return later
