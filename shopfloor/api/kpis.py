"""The service KPIs (issue 12): GET /kpis and /kpis.csv — each figure with its value, numerator, denominator and the
formula it is counted by (shopfloor/services/kpis.py), for a range of days and per day, week or month."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field

from shopfloor.api.access import GuardedRoute, allowed
from shopfloor.api.deps import Services
from shopfloor.api.errors import unprocessable
from shopfloor.api.fields import DAY_REFUSED, Text, parse_day
from shopfloor.api.shapes import Shape
from shopfloor.contract.staff import Permission
from shopfloor.services.kpis import MAX_DAYS, KpiReport, csv_rows

router = APIRouter(route_class=GuardedRoute, tags=["service KPIs"])

Number = int | float | str | None  # money as a decimal string ("1234.00"), like the other amounts of the API


class TargetShape(Shape):
    value: float = Field(description="the target ([kpi] settings; NADA's references by default)")
    high: float | None = Field(default=None, description="the top of a band (productivity 85–87.5 %)")


class FigureShape(Shape):
    key: str
    unit: Literal["rate", "hours", "CNY", "count", "score"] = Field(
        description="rate: a share (efficiency and proficiency may exceed 1); CNY: a decimal string")
    value: Number = Field(description="numerator ÷ denominator (a count or a sum: the numerator); null when the "
                                      "denominator is 0 or, insurance renewal, when nothing is recorded")
    numerator: Number
    denominator: int | float | None = Field(description="null for counts and sums")
    formula: dict[str, str] = Field(description="what is counted, by language (zh-CN, en)")
    target: TargetShape | None = None
    additive: bool = Field(description="false: a snapshot as of the period's last day (the lapsed shares)")


class PeriodShape(Shape):
    key: str = Field(description="2026-03-02, 2026-W10 or 2026-03")
    first: str
    last: str
    figures: list[FigureShape]


class KpiReportShape(Shape):
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    by: Literal["day", "week", "month"]
    figures: list[FigureShape] = Field(description="the whole range")
    periods: list[PeriodShape]


FromQuery = Annotated[Text | None, Query(alias="from", max_length=40, description="YYYY-MM-DD; default today - 29")]
ToQuery = Annotated[Text | None, Query(max_length=40, description="YYYY-MM-DD; default today")]
ByQuery = Annotated[Literal["day", "week", "month"], Query(description="the periods")]
REFUSED = f"{DAY_REFUSED}, a last day before the first, or more than {MAX_DAYS} days"


def _report(api: Services, first: str | None, last: str | None, by: str) -> KpiReport:
    today = api.ctx.today()
    end = parse_day(last, today)
    start = parse_day(first, end.fromordinal(max(end.toordinal() - 29, 1)))
    return api.kpis.report(start, end, by)


@router.get("/kpis", summary="The service KPIs of a range of days, with their formulas",
            response_model_by_alias=True, dependencies=[allowed(Permission.FIGURES)],
            responses=unprocessable(REFUSED))
def get_kpis(api: Services, first: FromQuery = None, to: ToQuery = None, by: ByQuery = "day") -> KpiReportShape:
    return KpiReportShape.model_validate(_report(api, first, to, by).to_dict())


@router.get("/kpis.csv", summary="The same as CSV (UTF-8 with BOM, one figure a row)", response_class=Response,
            dependencies=[allowed(Permission.FIGURES)],
            responses={200: {"description": "the range's figures, then each period's",
                             "content": {"text/csv": {"schema": {"type": "string"}}}}, **unprocessable(REFUSED)})
def get_kpis_csv(api: Services, first: FromQuery = None, to: ToQuery = None, by: ByQuery = "day",
                 lang: Annotated[Literal["zh-CN", "en"] | None, Query(description="default: the site's")] = None,
                 ) -> Response:
    report = _report(api, first, to, by)
    out = io.StringIO()
    csv.writer(out).writerows(csv_rows(report, lang or api.ctx.settings.site.language))
    name = f"kpis-{report.first}-{report.last}-{report.by}.csv"
    return Response(("\ufeff" + out.getvalue()).encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
