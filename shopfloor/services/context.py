"""What every service needs: the database, the site's settings and the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shopfloor.clock import Clock
from shopfloor.db import Database
from shopfloor.domain.errors import Invalid
from shopfloor.settings import Settings


@dataclass
class ServiceContext:
    db: Database
    settings: Settings
    clock: Clock
    # where customers' phones reach this server (the customer page's link in a message): the composition root's
    # [web] public_url or the address it serves on; "" in tools and tests ([web] public_url, else localhost)
    server_url: str = ""

    def __post_init__(self) -> None:
        # Every process that writes through services keeps the cached figures of closed days right.
        from shopfloor.services import figures_days

        figures_days.watch(self)

    @property
    def site(self) -> str:
        return self.settings.site.id

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.site.tz

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return self.now().astimezone(self.tz).date()

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        # The calendar's first and last day have bounds (in UTC, or the next midnight) that are no datetime:
        # refused as input, rather than an OverflowError wherever the bounds are used.
        if not date.min < day < date.max:
            raise Invalid("error.day_out_of_range", day=day.isoformat())
        start = datetime.combine(day, time(0, 0), tzinfo=self.tz)
        return start, start + timedelta(days=1)
