"""The walkaround's top-view car drawn in ReportLab, with its damage marks: the same geometry as the kiosk's SVG and
the customer's page (issue 11 design): a portrait 2:3 box (viewBox 400×600), the front at the top, the driver's
(left) side on the left; a mark's x, y are fractions of that box from its top-left corner.

Each kind of mark has its own shape as well as its own colour, so a black-and-white copy still tells them apart;
the number inside a mark is its row in the list beside the diagram."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reportlab.lib import colors
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

from shopfloor.documents.data import MarkInfo
from shopfloor.domain.walkaround import MarkKind

VIEW_W, VIEW_H = 400.0, 600.0
OUTLINE = colors.HexColor("#333333")
GLASS = colors.HexColor("#dde7ef")
TYRE = colors.HexColor("#555555")
ZONE = colors.HexColor("#bbbbbb")

# kind -> (colour, shape)
STYLES: dict[str, tuple[colors.Color, str]] = {
    MarkKind.SCRATCH: (colors.HexColor("#c62828"), "circle"),
    MarkKind.DENT: (colors.HexColor("#ef6c00"), "square"),
    MarkKind.CHIP: (colors.HexColor("#6a1b9a"), "triangle"),
    MarkKind.CRACK: (colors.HexColor("#1565c0"), "diamond"),
    MarkKind.MISSING: (colors.HexColor("#212121"), "down_triangle"),
    MarkKind.OTHER: (colors.HexColor("#607d8b"), "hexagon"),
}


def style(kind: str) -> tuple[colors.Color, str]:
    return STYLES.get(kind, STYLES[MarkKind.OTHER])


def draw_symbol(c: Canvas, shape: str, colour: colors.Color, cx: float, cy: float, r: float) -> None:
    """A mark's symbol centred on (cx, cy), `r` its half-size, filled with the kind's colour."""
    c.setFillColor(colour)
    c.setStrokeColor(colors.white)
    c.setLineWidth(0.8)
    if shape == "circle":
        c.circle(cx, cy, r, stroke=1, fill=1)
        return
    if shape == "square":
        c.rect(cx - r * 0.9, cy - r * 0.9, r * 1.8, r * 1.8, stroke=1, fill=1)
        return
    points = {
        "triangle": [(0, 1.15), (-1.1, -0.75), (1.1, -0.75)],
        "down_triangle": [(0, -1.15), (-1.1, 0.75), (1.1, 0.75)],
        "diamond": [(0, 1.2), (1.2, 0), (0, -1.2), (-1.2, 0)],
        "hexagon": [(1.05, 0), (0.52, 0.9), (-0.52, 0.9), (-1.05, 0), (-0.52, -0.9), (0.52, -0.9)],
    }[shape]
    path = c.beginPath()
    path.moveTo(cx + points[0][0] * r, cy + points[0][1] * r)
    for px, py in points[1:]:
        path.lineTo(cx + px * r, cy + py * r)
    path.close()
    c.drawPath(path, stroke=1, fill=1)


class CarDiagram(Flowable):
    """The car seen from above in a `width` × 1.5·`width` box with the marks numbered from 1 in list order;
    `labels` gives the words around it (front, rear, left, right) in the document's language."""

    def __init__(self, width: float, marks: Sequence[MarkInfo], labels: Callable[[str], str], font: str) -> None:
        super().__init__()
        self.box_w, self.box_h = width, width * VIEW_H / VIEW_W
        self.marks, self.labels, self.font = list(marks), labels, font
        self.width, self.height = self.box_w, self.box_h

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.box_w, self.box_h

    def _xy(self, vx: float, vy: float) -> tuple[float, float]:
        """A point of the 400×600 view (y down) on the page (y up)."""
        return vx / VIEW_W * self.box_w, self.box_h - vy / VIEW_H * self.box_h

    def _rect(self, x0: float, y0: float, x1: float, y1: float, radius: float = 0.0, *, fill: colors.Color | None
              = None, stroke: colors.Color = OUTLINE, width: float = 1.0) -> None:
        c = self.canv
        px0, py1 = self._xy(x0, y1)
        px1, py0 = self._xy(x1, y0)
        c.setStrokeColor(stroke)
        c.setLineWidth(width)
        if fill is not None:
            c.setFillColor(fill)
        c.roundRect(px0, py1, px1 - px0, py0 - py1, radius / VIEW_W * self.box_w, stroke=1,
                    fill=1 if fill is not None else 0)

    def _poly(self, points: Sequence[tuple[float, float]], *, fill: colors.Color | None = None) -> None:
        c = self.canv
        path = c.beginPath()
        path.moveTo(*self._xy(*points[0]))
        for p in points[1:]:
            path.lineTo(*self._xy(*p))
        path.close()
        c.setStrokeColor(OUTLINE)
        c.setLineWidth(0.8)
        if fill is not None:
            c.setFillColor(fill)
        c.drawPath(path, stroke=1, fill=1 if fill is not None else 0)

    def _line(self, x0: float, y0: float, x1: float, y1: float, *, colour: colors.Color = OUTLINE,
              width: float = 0.8, dash: tuple[float, float] | None = None) -> None:
        c = self.canv
        c.setStrokeColor(colour)
        c.setLineWidth(width)
        c.setDash(*(dash or (1, 0)))
        c.line(*self._xy(x0, y0), *self._xy(x1, y1))
        c.setDash(1, 0)

    def _text(self, vx: float, vy: float, text: str, size: float, *, angle: float = 0) -> None:
        c = self.canv
        c.saveState()
        c.setFillColor(OUTLINE)
        c.setFont(self.font, size)
        x, y = self._xy(vx, vy)
        c.translate(x, y)
        c.rotate(angle)
        c.drawCentredString(0, -size / 3, text)
        c.restoreState()

    def draw(self) -> None:
        self._rect(0, 0, VIEW_W, VIEW_H, fill=colors.white, stroke=ZONE, width=0.6)
        # the zones of the six positions: top and bottom bands, the left side split at the middle
        self._line(0, 110, VIEW_W, 110, colour=ZONE, dash=(2, 2))
        self._line(0, 490, VIEW_W, 490, colour=ZONE, dash=(2, 2))
        self._line(0, 300, 80, 300, colour=ZONE, dash=(2, 2))
        # wheels first, the body over their inner halves
        for x0 in (78, 296):
            for y0 in (125, 405):
                self._rect(x0, y0, x0 + 26, y0 + 75, 6, fill=TYRE, stroke=TYRE)
        self._rect(95, 40, 305, 560, 70, fill=colors.HexColor("#f7f7f7"), width=1.4)
        # mirrors
        self._poly([(95, 215), (72, 222), (72, 236), (95, 236)], fill=colors.HexColor("#e0e0e0"))
        self._poly([(305, 215), (328, 222), (328, 236), (305, 236)], fill=colors.HexColor("#e0e0e0"))
        # bonnet, windscreen, roof, rear window, boot
        self._line(110, 175, 290, 175)
        self._poly([(118, 200), (282, 200), (262, 255), (138, 255)], fill=GLASS)
        self._rect(140, 262, 260, 405, 10)
        self._poly([(138, 412), (262, 412), (276, 455), (124, 455)], fill=GLASS)
        self._line(112, 478, 288, 478)
        # side windows and the door gap
        self._poly([(104, 262), (130, 262), (130, 400), (104, 400)], fill=GLASS)
        self._poly([(296, 262), (270, 262), (270, 400), (296, 400)], fill=GLASS)
        self._line(100, 330, 134, 330)
        self._line(266, 330, 300, 330)
        # headlamps and tail lamps
        self._rect(112, 52, 150, 66, 5, fill=colors.HexColor("#fff8c4"))
        self._rect(250, 52, 288, 66, 5, fill=colors.HexColor("#fff8c4"))
        self._rect(112, 536, 150, 548, 4, fill=colors.HexColor("#ffcdd2"))
        self._rect(250, 536, 288, 548, 4, fill=colors.HexColor("#ffcdd2"))
        # steering wheel: the driver sits on the left
        self._rect(148, 280, 188, 292, 6)
        self._text(200, 20, self.labels("front"), 10)
        self._text(200, 582, self.labels("rear"), 10)
        self._text(36, 300, self.labels("left_side"), 9, angle=90)
        self._text(364, 300, self.labels("right_side"), 9, angle=-90)
        self._marks()

    def _marks(self) -> None:
        r = max(5.0, self.box_w / 36)
        for number, mark in enumerate(self.marks, start=1):
            x = min(max(mark.x, 0.0), 1.0) * self.box_w
            y = self.box_h - min(max(mark.y, 0.0), 1.0) * self.box_h
            colour, shape = style(mark.kind)
            draw_symbol(self.canv, shape, colour, x, y, r)
            self.canv.setFillColor(colors.white)
            self.canv.setFont("Helvetica-Bold", r * 1.1)
            self.canv.drawCentredString(x, y - r * 0.38, str(number))


class Symbol(Flowable):
    """A legend's or a list's symbol for one kind of mark, optionally with its number."""

    def __init__(self, kind: str, size: float = 9, number: int | None = None) -> None:
        super().__init__()
        self.kind, self.size, self.number = kind, size, number
        self.width = self.height = size

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        colour, shape = style(self.kind)
        r = self.size / 2
        draw_symbol(self.canv, shape, colour, r, r, r)
        if self.number is not None:
            self.canv.setFillColor(colors.white)
            self.canv.setFont("Helvetica-Bold", self.size * 0.55)
            self.canv.drawCentredString(r, r - self.size * 0.19, str(self.number))
