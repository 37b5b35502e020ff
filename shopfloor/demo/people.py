"""The demo's customers and their cars: each with a QR tag and the dates the call lists work from (sale,
last service and mileage, insurance, annual inspection, warranty), drawn so that every list has a few."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from shopfloor.demo.data import CHANNELS, EV_MODELS, GIVEN, MODELS, PLATE_AREAS, PLATE_CHARS, STREETS, SURNAMES
from shopfloor.domain.identifiers import new_tag_token, with_check_digit
from shopfloor.domain.models import Customer, QrTag, Vehicle
from shopfloor.services.context import ServiceContext
from shopfloor.services.solicitation import add_months


def random_plate(rng: random.Random, nev: bool) -> str:
    area = rng.choice(PLATE_AREAS)
    if nev:
        return f"{area}{rng.choice('DF')}{rng.choice(PLATE_CHARS)}{rng.randrange(10000):04d}"
    return area + "".join(rng.choice(PLATE_CHARS) for _ in range(3)) + f"{rng.randrange(100):02d}"


def random_vin(rng: random.Random, wmi4: str, serial: int) -> str:
    vds = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(4))
    return with_check_digit(f"{wmi4}{vds}0{rng.choice('LMNPR')}{rng.choice('ABCS')}{serial:06d}")


def weighted(rng: random.Random, mix: Sequence[tuple[str, int]]) -> str:
    return rng.choices([c for c, _ in mix], weights=[w for _, w in mix])[0]


class People:
    """Makes customers with one vehicle (and its QR tag) each, and gives the vehicles their dates: sale, last
    service and mileage, insurance, annual inspection, warranty. A car's odometer grows at its own km per day."""

    def __init__(self, s: Session, ctx: ServiceContext, rng: random.Random) -> None:
        self.s, self.ctx, self.rng = s, ctx, rng
        self.today = ctx.today()
        cfg = ctx.settings.booking
        self.horizon = cfg.call_ahead_days
        self.interval_days = cfg.service_interval_days
        self.interval_km = cfg.service_interval_km
        self.count = 0
        self.plates: set[str] = set()
        self.kmpd: dict[int, float] = {}  # id(vehicle) -> km per day
        self.tagged: list[Vehicle] = []

    def finish(self) -> None:
        """Every vehicle's QR tag, in one statement once the vehicles have their keys."""
        self.s.flush()
        now = self.ctx.now()
        if self.tagged:
            self.s.execute(insert(QrTag), [{"token": new_tag_token(), "vehicle_id": v.id, "issued_at": now}
                                           for v in self.tagged])
        self.tagged.clear()

    def add(self, customer: Customer, vehicle: Vehicle) -> Vehicle:
        self.plates.add(vehicle.plate)
        self.s.add_all([customer, vehicle])
        self.tagged.append(vehicle)
        customer.preferred_channel = weighted(self.rng, CHANNELS)
        if customer.preferred_channel == "letter" or self.rng.random() < 0.3:
            customer.address = f"北京市{self.rng.choice(STREETS)}{self.rng.randrange(1, 300)}号"
        return vehicle

    def new(self, ev: bool | None = None) -> Vehicle:
        """A customer and their car; `ev` False for a story that needs an engine (True: only electric)."""
        rng = self.rng
        models = MODELS if ev is None else [(m, w) for m, w in MODELS if (m in EV_MODELS) == ev]
        i = 30 + self.count
        given, salutation = rng.choice(GIVEN)
        customer = Customer(site_id=self.ctx.site, surname=rng.choice(SURNAMES), given_name=given,
                            salutation=salutation, phone=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}")
        model, wmi = models[rng.randrange(len(models))]
        plate = random_plate(rng, nev=model in EV_MODELS)
        while plate in self.plates:
            plate = random_plate(rng, nev=model in EV_MODELS)
        vehicle = Vehicle(site_id=self.ctx.site, customer=customer, vin=random_vin(rng, wmi, 100000 + i), plate=plate,
                          model=model)
        self.add(customer, vehicle)
        self.plain(vehicle)
        self.count += 1
        return vehicle

    # -- dates -----------------------------------------------------------------------------------------------
    def km_on(self, v: Vehicle, day: date) -> int:
        assert v.sold_on is not None
        return round(15 + self.kmpd[id(v)] * max((day - v.sold_on).days, 0))

    def _set(self, v: Vehicle, sold: date, kmpd: float, last: date | None, reading: date) -> None:
        self.kmpd[id(v)] = kmpd
        v.sold_on = sold
        v.last_service_on = last
        v.last_service_km = self.km_on(v, last) if last is not None else None
        v.mileage_at = reading
        v.mileage_km = self.km_on(v, reading)
        v.warranty_expires_on = add_months(sold, 36)
        v.insurance_expires_on = self.today + timedelta(days=self.rng.randrange(self.horizon + 5, 365))
        v.inspection_due_on = self.today + timedelta(days=self.rng.randrange(self.horizon + 5, 700))

    def _sold_outside_warranty_window(self, days_ago: int) -> date:
        """A sale date whose 3-year warranty does not end inside the call-ahead window."""
        sold = self.today - timedelta(days=days_ago)
        end = add_months(sold, 36)
        if self.today - timedelta(days=5) <= end <= self.today + timedelta(days=self.horizon + 5):
            sold -= timedelta(days=self.horizon + 15)
        return sold

    def plain(self, v: Vehicle, last_age: int | None = None) -> None:
        """On no call list: serviced recently, insurance, inspection and warranty not due."""
        rng = self.rng
        room = max(self.interval_days - self.horizon - 10, 16)
        last_age = last_age if last_age is not None else rng.randrange(15, min(room, 100))
        sold = self._sold_outside_warranty_window(rng.randrange(max(400, last_age + 200), 2200))
        # the mileage interval must not come within the window either
        kmpd = min(rng.uniform(15, 40), 0.9 * self.interval_km / (last_age + self.horizon + 5))
        last = self.today - timedelta(days=last_age)
        reading = last if rng.random() < 0.5 else last + timedelta(days=rng.randrange(1, last_age))
        self._set(v, sold, kmpd, last, reading)

    def first_service(self, v: Vehicle, sold_days_ago: int) -> None:
        sold = self.today - timedelta(days=sold_days_ago)
        self._set(v, sold, self.rng.uniform(25, 45), None, sold)
        v.insurance_expires_on = add_months(sold, 12)
        v.inspection_due_on = add_months(sold, 72)

    def maintenance_by_days(self, v: Vehicle, due_in: int) -> None:
        """Periodic maintenance due in `due_in` days by the day interval (a car that is driven little)."""
        last_age = self.interval_days - due_in
        sold = self._sold_outside_warranty_window(self.rng.randrange(last_age + 300, 2000))
        kmpd = 0.6 * self.interval_km / self.interval_days
        self._set(v, sold, kmpd, self.today - timedelta(days=last_age),
                  self.today - timedelta(days=self.rng.randrange(5, 40)))

    def maintenance_by_km(self, v: Vehicle, due_in: int) -> None:
        """Due in `due_in` days by the projected mileage (a car driven a lot), long before the day interval."""
        last_age = self.rng.randrange(70, 110)
        kmpd = self.interval_km / (last_age + due_in)
        sold = self._sold_outside_warranty_window(self.rng.randrange(last_age + 300, 1500))
        self._set(v, sold, kmpd, self.today - timedelta(days=last_age),
                  self.today - timedelta(days=self.rng.randrange(3, 15)))

    def lapsed(self, v: Vehicle, months: int) -> None:
        last = add_months(self.today, -months) - timedelta(days=self.rng.randrange(0, 20))
        sold = last - timedelta(days=self.rng.randrange(300, 900))
        self._set(v, sold, self.rng.uniform(20, 35), last, last)
        if self.today <= (v.warranty_expires_on or sold) <= self.today + timedelta(days=self.horizon + 5):
            v.warranty_expires_on = None  # not also on the warranty list

    def warranty(self, v: Vehicle, due_in: int) -> None:
        self.plain(v)
        end = self.today + timedelta(days=due_in)
        v.sold_on = add_months(end, -36)
        v.warranty_expires_on = end
        v.last_service_km = self.km_on(v, v.last_service_on) if v.last_service_on else None
        v.mileage_km = self.km_on(v, v.mileage_at) if v.mileage_at else None

    def serviced_on(self, v: Vehicle, day: date, maintenance: bool) -> int:
        """A visit on `day`: the odometer read at reception; maintenance resets the last service."""
        km = self.km_on(v, day)
        if maintenance:
            v.last_service_on, v.last_service_km = day, km
        if v.mileage_at is None or day >= v.mileage_at:
            v.mileage_at, v.mileage_km = day, km
        return km

