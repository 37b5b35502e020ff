"""The walkaround's top-view car drawn in ReportLab, with its damage marks: the same geometry as the kiosk's SVG and
the customer's page (issue 11 design): a portrait 2:3 box (viewBox 400×600), the front at the top, the driver's
(left) side on the left; a mark's x, y are fractions of that box from its top-left corner.

Each kind of mark has its own shape as well as its own colour, so a black-and-white copy still tells them apart;
the number inside a mark is its row in the list beside the diagram."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from reportlab.lib import colors
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable

from shopfloor.documents.data import MarkInfo
from shopfloor.domain.walkaround import MarkKind

VIEW_W, VIEW_H = 400.0, 600.0
OUTLINE = colors.HexColor("#5c6670")
CREASE = colors.HexColor("#8a949e")
PANEL = colors.HexColor("#e9edf1")
GLASS = colors.HexColor("#c9dced")
ROOF = colors.HexColor("#f4f6f8")
TYRE = colors.HexColor("#3b3f45")
ZONE = colors.HexColor("#bbbbbb")
LABEL = colors.HexColor("#333333")
LABEL_SIZE = 9.0

# The kiosk's drawing (kiosk/reception/static/car_diagram.svg) in the same 400×600 units, so that a mark placed on
# a door at the tablet is on that door on paper.
TYRES = ((68, 106, 30, 82), (302, 106, 30, 82), (68, 418, 30, 82), (302, 418, 30, 82))
MIRRORS = ("M90 214 L62 206 Q54 208 56 218 L62 230 L92 232 Z", "M310 214 L338 206 Q346 208 344 218 L338 230 L308 232 Z")
BODY = ("M200 22 C246 22 282 28 298 40 C312 52 318 76 318 110 L320 300 L318 500 C318 540 312 562 296 572 "
        "C276 584 240 586 200 586 C160 586 124 584 104 572 C88 562 82 540 82 500 L80 300 L82 110 "
        "C82 76 88 52 102 40 C118 28 154 22 200 22 Z")
LINES = ("M104 56 Q200 40 296 56", "M150 70 Q146 130 140 196", "M250 70 Q254 130 260 196", "M82 218 L112 222",
         "M318 218 L288 222", "M81 338 L110 338", "M319 338 L290 338", "M81 446 L112 440", "M319 446 L288 440",
         "M116 488 Q200 498 284 488", "M108 560 Q200 572 292 560")
GLASSES = ("M112 206 Q200 186 288 206 L270 262 Q200 250 130 262 Z", "M96 232 L118 270 L118 334 L94 334 Z",
           "M304 232 L282 270 L282 334 L306 334 Z", "M94 342 L118 342 L118 414 L98 436 Z",
           "M306 342 L282 342 L282 414 L302 436 Z", "M128 420 Q200 430 272 420 L286 470 Q200 484 114 470 Z")
HEADLAMPS = ("M104 44 Q128 32 156 30 L150 48 Q126 52 98 62 Z", "M296 44 Q272 32 244 30 L250 48 Q274 52 302 62 Z")
TAIL_LAMPS = ("M88 540 Q94 566 118 574 L126 560 Q104 552 100 532 Z",
              "M312 540 Q306 566 282 574 L274 560 Q296 552 300 532 Z")
HANDLES = ((84, 300, 6, 16), (310, 300, 6, 16), (84, 404, 6, 16), (310, 404, 6, 16))

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
        # the words around the box: a band above and below, a column each side
        self.band, self.side = LABEL_SIZE * 1.6, LABEL_SIZE * 1.6
        self.width, self.height = self.box_w + 2 * self.side, self.box_h + 2 * self.band

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.width, self.height

    def _xy(self, vx: float, vy: float) -> tuple[float, float]:
        """A point of the 400×600 view (y down) on the page (y up)."""
        return self.side + vx / VIEW_W * self.box_w, self.band + self.box_h - vy / VIEW_H * self.box_h

    def _path(self, d: str, *, fill: colors.Color | None, stroke: colors.Color | None, width: float = 1.0) -> None:
        """An SVG path of absolute M, L, Q, C and Z commands (the kiosk's drawing) on the page."""
        c = self.canv
        path = c.beginPath()
        tokens = re.findall(r"[MLQCZ]|-?[0-9.]+", d)
        i, command = 0, "M"
        here = (0.0, 0.0)
        while i < len(tokens):
            if tokens[i].isalpha():
                command = tokens[i]
                i += 1
                if command == "Z":
                    path.close()
                    continue
            need = {"M": 2, "L": 2, "Q": 4, "C": 6}[command]
            nums = [float(x) for x in tokens[i:i + need]]
            i += need
            points = [self._xy(nums[k], nums[k + 1]) for k in range(0, need, 2)]
            if command == "M":
                path.moveTo(*points[0])
            elif command == "L":
                path.lineTo(*points[0])
            elif command == "C":
                path.curveTo(*points[0], *points[1], *points[2])
            else:  # a quadratic curve as the cubic that draws it
                (qx, qy), (ex, ey) = points
                path.curveTo(here[0] + 2 / 3 * (qx - here[0]), here[1] + 2 / 3 * (qy - here[1]),
                             ex + 2 / 3 * (qx - ex), ey + 2 / 3 * (qy - ey), ex, ey)
            here = points[-1]
        c.setLineWidth(width * self.box_w / VIEW_W)
        c.setLineJoin(1)
        c.setLineCap(1)
        if fill is not None:
            c.setFillColor(fill)
        if stroke is not None:
            c.setStrokeColor(stroke)
        c.drawPath(path, stroke=1 if stroke is not None else 0, fill=1 if fill is not None else 0)

    def _rect(self, x: float, y: float, w: float, h: float, r: float, *, fill: colors.Color,
              stroke: colors.Color | None = None, width: float = 1.0) -> None:
        c = self.canv
        px, py = self._xy(x, y + h)
        scale = self.box_w / VIEW_W
        c.setFillColor(fill)
        if stroke is not None:
            c.setStrokeColor(stroke)
            c.setLineWidth(width * scale)
        c.roundRect(px, py, w * scale, h * scale, r * scale, stroke=1 if stroke is not None else 0, fill=1)

    def _side(self, x: float, text: str, *, left: bool) -> None:
        """A side's word down the middle of its column: Chinese stacked a character a line, other words turned."""
        c, size = self.canv, LABEL_SIZE
        c.saveState()
        c.setFillColor(LABEL)
        c.setFont(self.font, size)
        y = self.height / 2
        if all(ord(ch) > 0x2E7F or ch == " " for ch in text):
            top = y + len(text) * size * 1.15 / 2
            for n, ch in enumerate(text):
                c.drawCentredString(x, top - (n + 0.8) * size * 1.15, ch)
        else:
            c.translate(x, y)
            c.rotate(90 if left else -90)
            c.drawCentredString(0, -size / 3, text)
        c.restoreState()

    def draw(self) -> None:
        self._rect(0, 0, VIEW_W, VIEW_H, 0, fill=colors.white, stroke=ZONE, width=1.5)
        for x, y, w, h in TYRES:
            self._rect(x, y, w, h, 9, fill=TYRE)
        for d in MIRRORS:
            self._path(d, fill=PANEL, stroke=OUTLINE, width=3)
        self._path(BODY, fill=PANEL, stroke=OUTLINE, width=3)
        for d in LINES:
            self._path(d, fill=None, stroke=CREASE, width=2)
        for d in GLASSES:
            self._path(d, fill=GLASS, stroke=OUTLINE, width=2.5)
        self._rect(128, 266, 144, 150, 14, fill=ROOF, stroke=OUTLINE, width=2.5)
        for d in HEADLAMPS:
            self._path(d, fill=colors.HexColor("#fff4c2"), stroke=OUTLINE, width=2)
        for d in TAIL_LAMPS:
            self._path(d, fill=colors.HexColor("#e57373"), stroke=OUTLINE, width=2)
        for x, y, w, h in HANDLES:
            self._rect(x, y, w, h, 2, fill=OUTLINE)
        self._rect(83, 462, 8, 22, 3, fill=colors.HexColor("#b0b8c0"))  # the fuel flap, left rear wing
        self._path("M200 6 L192 16 L208 16 Z", fill=CREASE, stroke=None)  # driving direction: up
        self.canv.saveState()
        self.canv.setFillColor(LABEL)
        self.canv.setFont(self.font, LABEL_SIZE)
        self.canv.drawCentredString(self.width / 2, self.height - self.band + LABEL_SIZE * 0.35,
                                    self.labels("front"))
        self.canv.drawCentredString(self.width / 2, LABEL_SIZE * 0.35, self.labels("rear"))
        self.canv.restoreState()
        self._side(self.side / 2, self.labels("left_side"), left=True)
        self._side(self.width - self.side / 2, self.labels("right_side"), left=False)
        self._marks()

    def _marks(self) -> None:
        r = max(5.0, self.box_w / 36)
        for number, mark in enumerate(self.marks, start=1):
            x, y = self._xy(min(max(mark.x, 0.0), 1.0) * VIEW_W, min(max(mark.y, 0.0), 1.0) * VIEW_H)
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
