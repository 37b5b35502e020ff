"""Read an ESC/POS job back: the text lines (with their size on paper) and the raster images.

Understands the commands our renderer emits; anything else raises `UnknownCommand` rather than being
guessed at, so a test never passes on bytes it did not really check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from shopfloor.printer.escpos_text import paper_width

_ESC, _GS, _FS, _LF = 0x1B, 0x1D, 0x1C, 0x0A

# command prefix -> count of parameter bytes that follow (raster images are handled separately)
_FIXED: dict[bytes, int] = {
    b"\x1b@": 0,     # init
    b"\x1bE": 1,     # bold
    b"\x1ba": 1,     # alignment
    b"\x1d!": 1,     # character size
    b"\x1c&": 0,     # Chinese mode on
    b"\x1c.": 0,     # Chinese mode off
}
_RASTER = b"\x1dv0"
_CUT_WITH_FEED = b"\x1dVB"
_CUT_WITH_FEED_A = b"\x1dVA"


class UnknownCommand(ValueError):
    pass


@dataclass
class PrintedLine:
    text: str
    cells: int          # width on paper in normal-size character cells, magnification included
    height: int         # tallest magnification on the line
    bold: bool          # any bold run on the line
    align: int


@dataclass
class _Raster:
    offset: int
    end: int
    width_bytes: int
    height: int
    data: bytes


@dataclass
class Parsed:
    lines: list[PrintedLine] = field(default_factory=list)
    rasters: list[_Raster] = field(default_factory=list)
    cut: bool = False
    chinese_mode: bool = False


def parse(data: bytes, encoding: str | None) -> Parsed:
    """Walk the job; with `encoding=None` text is skipped undecoded (only the images are wanted)."""
    measure = paper_width(encoding) if encoding else len
    out = Parsed()
    width_mul = height_mul = 1
    is_bold = False
    alignment = 0
    line_text = ""
    line_cells = 0
    line_height = 1
    line_bold = False
    run = bytearray()

    def flush_run() -> None:
        nonlocal line_text, line_cells, line_height, line_bold, run
        if not run:
            return
        text = run.decode(encoding) if encoding else ""
        line_text += text
        line_cells += measure(text) * width_mul
        line_height = max(line_height, height_mul)
        line_bold = line_bold or is_bold
        run = bytearray()

    def end_line() -> None:
        nonlocal line_text, line_cells, line_height, line_bold
        flush_run()
        out.lines.append(PrintedLine(line_text, line_cells, max(line_height, height_mul), line_bold, alignment))
        line_text, line_cells, line_height, line_bold = "", 0, 1, False

    i = 0
    while i < len(data):
        b = data[i]
        if b == _LF:
            end_line()
            i += 1
            continue
        if b not in (_ESC, _GS, _FS):
            run.append(b)
            i += 1
            continue
        flush_run()
        if data.startswith(_RASTER, i):
            header = data[i + 4:i + 8]
            if len(header) < 4:
                raise UnknownCommand(f"truncated GS v 0 header at byte {i}")
            width_bytes = header[0] | header[1] << 8
            height = header[2] | header[3] << 8
            start = i + 8
            end = start + width_bytes * height
            if end > len(data):
                raise UnknownCommand(f"GS v 0 at byte {i} claims {width_bytes}x{height} but data ends early")
            out.rasters.append(_Raster(i, end, width_bytes, height, data[start:end]))
            i = end
            continue
        if data.startswith(_CUT_WITH_FEED, i) or data.startswith(_CUT_WITH_FEED_A, i):
            out.cut = True
            i += 4
            continue
        prefix = data[i:i + 2]
        if prefix not in _FIXED:
            raise UnknownCommand(f"command {prefix.hex(' ')} at byte {i} is not one the ticket renderer emits")
        n = _FIXED[prefix]
        if i + 2 + n > len(data):
            raise UnknownCommand(f"truncated command {prefix.hex(' ')} at byte {i}")
        arg = data[i + 2] if n else 0
        if prefix == b"\x1b@":
            width_mul = height_mul = 1
            is_bold = False
            alignment = 0
        elif prefix == b"\x1bE":
            is_bold = bool(arg & 1)
        elif prefix == b"\x1ba":
            alignment = arg % 48 if arg >= 48 else arg
        elif prefix == b"\x1d!":
            width_mul, height_mul = (arg >> 4) + 1, (arg & 0x0F) + 1
        elif prefix == b"\x1c&":
            out.chinese_mode = True
        elif prefix == b"\x1c.":
            out.chinese_mode = False
        i += 2 + n
    flush_run()
    if line_text:
        end_line()
    return out


def text_lines(data: bytes, encoding: str) -> list[str]:
    """The printed text, one string per paper line, commands stripped."""
    return [line.text for line in parse(data, encoding).lines]


def decode_raster_images(data: bytes) -> list[Image.Image]:
    """Every GS v 0 raster picture as a 1-bit image (black = printed dot). Blocks that follow each other
    with no byte between them and have the same width print as one picture, so they come back as one."""
    rasters = parse(data, None).rasters
    images: list[Image.Image] = []
    group: list[_Raster] = []
    for raster in rasters:
        if group and (raster.offset != group[-1].end or raster.width_bytes != group[-1].width_bytes):
            images.append(_to_image(group))
            group = []
        group.append(raster)
    if group:
        images.append(_to_image(group))
    return images


def _to_image(blocks: list[_Raster]) -> Image.Image:
    width = blocks[0].width_bytes * 8
    height = sum(b.height for b in blocks)
    # ESC/POS sets a bit for a black dot; PIL mode "1" sets it for white
    bits = bytes(x ^ 0xFF for b in blocks for x in b.data)
    return Image.frombytes("1", (width, height), bits)
