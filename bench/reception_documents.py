"""What reception's documents cost (issue 11), for a small site's server (a Raspberry Pi-class box): a 12-megapixel
phone photo through OrderPhotoService.upload, EstimateService.current on a 20-line estimate (unchanged, and after a
change that writes a new version), and the A4 repair order PDF with 8 marks, 4 photos and 2 signed versions.

    python bench/reception_documents.py [--repeat 20] [--json out.json] [--keep]

A demo site (`shopfloor demo`'s seed, the tests' fixed clock) on SQLite in a temp dir; times are
time.perf_counter, median and p95 over --repeat runs after one warm-up. The photo's peak memory is measured in a
fresh subprocess (its peak RSS, VmHWM reset just before the upload, over its RSS then: Pillow's pixel buffers are
not Python objects, so tracemalloc alone does not see them). A WHAT-IF (not the product: see docs/benchmarks.md)
repeats the photo figures with the JPEG decoded at reduced scale, as a draft box in the photo's proportions allows.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import PIL
import reportlab
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps
from pypdf import PdfReader
from reportlab import rl_config
from sqlalchemy import select, update

from shopfloor.clock import FixedClock
from shopfloor.db import Database, sqlite_url
from shopfloor.demo import seed
from shopfloor.documents.repair_order_pdf import render
from shopfloor.domain.models import QrTag, RepairOrder
from shopfloor.domain.parts_models import PartsLine
from shopfloor.domain.states import OPEN_STATUSES
from shopfloor.services.checkin import CheckinRequest, CheckinService
from shopfloor.services.context import ServiceContext
from shopfloor.services.parts.services import PartsServices
from shopfloor.services.reception import photos as photos_mod
from shopfloor.services.reception.documents import DocumentService
from shopfloor.services.reception.estimate import EstimateService
from shopfloor.services.reception.photos import OrderPhotoService
from shopfloor.services.reception.walkaround import MarkInput, WalkaroundInput, WalkaroundService
from shopfloor.settings import demo_config_path, load

NOW = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)  # the tests' DEMO_NOW: 10:30 in Beijing on a weekday
PINS = {"张伟": "1111", "李娜": "2222", "王芳": "3333", "刘洋": "4444", "赵经理": "5555", "孙丽": "6666",
        "郑强": "8888", "陈刚": "9999", "林静": "1212", "钱进": "7777"}
# ten labour operations of the demo catalogue, and ten catalogue parts (a job line each)
OPERATIONS = ["M10", "OIL", "ACX", "WSH", "BRK", "ALN", "TBT", "DGN", "BAT", "M40"]
PARTS = ["04152-YZZA6", "87139-0K060", "17801-21050", "90919-01253", "04465-02220", "43512-02320", "13568-09130",
         "28800-0T120", "85222-02220", "08823-80010"]
POSITIONS = ["left_front", "front", "right_side", "rear", "left_rear", "interior", "front", "rear"]
KINDS = ["scratch", "dent", "chip", "crack", "missing", "other", "scratch", "dent"]
SERVER_URL = "http://192.168.1.10:8080"
PHONE_W, PHONE_H = 4000, 3000


# -- the inputs --------------------------------------------------------------------------------------------------
def phone_jpeg(rng_seed: int) -> bytes:
    """A 12-megapixel phone photo as a phone stores it: 4000×3000 landscape pixels with EXIF orientation 6 (held
    upright: shown 3000×4000), make, model and time, quality 92; soft shapes under sensor-like noise so that it
    compresses like a photo (~4–6 MB), not like a flat test card."""
    rng = random.Random(rng_seed)
    gradient = Image.linear_gradient("L")
    base = Image.merge("RGB", [gradient.resize((PHONE_W, PHONE_H)), gradient.rotate(90).resize((PHONE_W, PHONE_H)),
                               Image.new("L", (PHONE_W, PHONE_H), 120)])
    draw = ImageDraw.Draw(base)
    for _ in range(300):
        x, y, size = rng.randrange(PHONE_W), rng.randrange(PHONE_H), rng.randrange(20, 600)
        draw.ellipse((x, y, x + size, y + size * rng.random()),
                     fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    base = base.filter(ImageFilter.GaussianBlur(3))
    noise = Image.merge("RGB", [Image.effect_noise((PHONE_W, PHONE_H), 11) for _ in range(3)])
    photo = ImageChops.add(base, noise, 1, -128)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to show
    exif[0x010F], exif[0x0110], exif[0x0132] = "Xiaomi", "Redmi Note 12", "2026:11:23 10:31:07"
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def signature_png(stroke: int) -> bytes:
    image = Image.new("RGBA", (600, 200), (255, 255, 255, 0))
    points = [(40 + 100 * i, 150 - 90 * ((i + stroke) % 2)) for i in range(6)]
    ImageDraw.Draw(image).line(points, fill=(0, 0, 80, 255), width=8)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def encode_aspect_draft(data: bytes, max_px: int) -> Any:
    """WHAT-IF, not the product: photos.encode with the JPEG draft box in the photo's own proportions. The product
    asks for (max_px, max_px); Pillow keeps both sides at least that, so a 4000×3000 photo's 3000 // 1600 = 1 means
    no reduction. (max_px, max_px × 3/4) lets libjpeg decode at 1/2 scale (2000×1500), still above what is kept."""
    image = Image.open(io.BytesIO(data), formats=photos_mod.FORMATS)
    if image.format == "JPEG":
        longer = max(image.size)
        image.draft("RGB", (max_px * image.width // longer, max_px * image.height // longer))
    image.load()
    upright = ImageOps.exif_transpose(image)
    upright.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
    clean = photos_mod._rgb(upright)
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=photos_mod.JPEG_QUALITY, optimize=True)
    return photos_mod._Encoded(out.getvalue(), clean.width, clean.height)


def render_binary(document: Any) -> bytes:
    """WHAT-IF, not the product: the PDF with binary streams. ReportLab's default (rl_config.useA85) writes every
    stream, the photos' JPEG data too, as ASCII85 text: 25 % larger, and encoded in pure Python when the optional
    C accelerator (PyPI rl-accel) is not installed, as here."""
    was = rl_config.useA85
    rl_config.useA85 = 0
    try:
        return render(document)
    finally:
        rl_config.useA85 = was


# -- the site ----------------------------------------------------------------------------------------------------
def context(folder: Path) -> ServiceContext:
    return ServiceContext(Database(sqlite_url(folder / "shopfloor.sqlite3")), load(demo_config_path()),
                          FixedClock(NOW))


def build_site(folder: Path) -> ServiceContext:
    ctx = context(folder)
    ctx.db.migrate()
    seed.seed(ctx, PINS)
    return ctx


def priced_order(ctx: ServiceContext) -> str:
    """A demo car without an open order checked in with the ten operations, and exactly ten parts lines."""
    with ctx.db.read() as s:
        busy = select(RepairOrder.vehicle_id).where(RepairOrder.status.in_([x.value for x in OPEN_STATUSES]))
        tag = s.scalar(select(QrTag.token).where(QrTag.vehicle_id.not_in(busy)).order_by(QrTag.vehicle_id).limit(1))
    assert tag is not None
    number = str(CheckinService(ctx).check_in(CheckinRequest(tag=tag, actor="张伟", operation_codes=OPERATIONS))
                 .repair_order["number"])
    with ctx.db.read() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        line_ids = [line.id for line in ro.job_lines]
        already = sum(len(line.parts) for line in ro.job_lines)
    counter = PartsServices.on(ctx).counter
    for line_id, part in zip(line_ids, PARTS[already:], strict=False):
        counter.add(number, line_id, part, 1, actor="钱进")
    view = EstimateService(ctx).current(number)
    kinds = [line.kind for line in view.lines]
    assert (kinds.count("labour"), kinds.count("part")) == (10, 10), kinds
    return number


def reprice(ctx: ServiceContext, number: str, turn: int) -> None:
    """A new parts price on the order's first parts line, written as the counter would (the estimate not read)."""
    with ctx.db.write() as s:
        ro = s.scalar(select(RepairOrder).where(RepairOrder.number == number))
        assert ro is not None
        first = min(p.id for line in ro.job_lines for p in line.parts)
        s.execute(update(PartsLine).where(PartsLine.id == first).values(unit_price=Decimal(70 + turn % 50)))


# -- measuring ---------------------------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(timings: tuple[list[float], list[float]]) -> dict[str, float]:
    """Wall-clock median, p95 and max; and the median CPU time of this process (what the work itself costs: on
    a shared machine the wall clock also counts waiting for a core)."""
    seconds, cpu = timings
    return {"median_ms": statistics.median(seconds) * 1000, "p95_ms": percentile(seconds, 0.95) * 1000,
            "max_ms": max(seconds) * 1000, "cpu_median_ms": statistics.median(cpu) * 1000, "n": len(seconds)}


def timed(repeat: int, run: Callable[[int], object], before: Callable[[int], object] | None = None
          ) -> tuple[list[float], list[float]]:
    """`run` once to warm up, then `repeat` times (`before` each, untimed): wall-clock and CPU seconds."""
    seconds, cpu = [], []
    for i in range(-1, repeat):
        if before is not None:
            before(i)
        start, start_cpu = time.perf_counter(), time.process_time()
        run(i)
        if i >= 0:
            seconds.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
    return seconds, cpu


def photo_memory(folder: Path, number: str, photo: Path, what_if: bool) -> dict[str, float]:
    """One upload in a fresh process: its peak RSS above the RSS just before, and Python's traced peak."""
    args = [sys.executable, __file__, "--memory-child", str(folder), number, str(photo)]
    done = subprocess.run(args + (["--what-if", "draft"] if what_if else []), capture_output=True, text=True,
                          check=True, timeout=300)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def memory_child(folder: Path, number: str, photo: Path, what_if: bool) -> None:
    ctx = context(folder)
    service = OrderPhotoService(ctx, folder)
    if what_if:
        photos_mod.encode = encode_aspect_draft
    small = io.BytesIO()
    Image.new("RGB", (640, 480), (180, 40, 40)).save(small, "JPEG")
    service.upload(number, small.getvalue(), actor="张伟")  # modules, the database and Pillow's codecs loaded
    data = photo.read_bytes()
    gc.collect()
    rss_before = _status_kb("VmRSS")
    reset_peak()
    tracemalloc.start()
    start = time.perf_counter()
    service.upload(number, data, actor="张伟")
    seconds = time.perf_counter() - start
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    peak = _status_kb("VmHWM")
    print(json.dumps({"rss_before_mb": rss_before / 1024, "peak_rss_mb": peak / 1024,
                      "peak_growth_mb": (peak - rss_before) / 1024, "traced_peak_mb": traced / 2**20,
                      "seconds_traced": seconds}))


def reset_peak() -> None:
    """The process's peak RSS (VmHWM) set back to its RSS now (Linux ≥ 4.0). ru_maxrss cannot be reset, and a
    child's starts at the parent's RSS when it was forked, which here is the bench's, with its photos in memory."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    assert _status_kb("VmHWM") <= _status_kb("VmRSS") + 1024, "VmHWM was not reset"


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def measure(folder: Path, repeat: int) -> dict[str, Any]:
    started = time.perf_counter()
    ctx = build_site(folder)
    print(f"site seeded in {time.perf_counter() - started:.1f} s", flush=True)
    jpegs = [phone_jpeg(n) for n in range(4)]
    (folder / "phone.jpg").write_bytes(jpegs[0])
    results: dict[str, Any] = {"photo_bytes": [len(x) for x in jpegs]}
    estimate = EstimateService(ctx)
    photos = OrderPhotoService(ctx, folder)

    # (a) the photo
    number_a = priced_order(ctx)
    results["upload"] = summary(timed(repeat, lambda _: photos.upload(number_a, jpegs[0], actor="张伟")))
    max_px = ctx.settings.reception.photo_max_px
    results["encode"] = summary(timed(repeat, lambda _: photos_mod.encode(jpegs[0], max_px)))
    results["encode_what_if_draft"] = summary(timed(repeat, lambda _: encode_aspect_draft(jpegs[0], max_px)))
    kept = photos_mod.encode(jpegs[0], max_px)
    results["kept"] = {"width": kept.width, "height": kept.height, "bytes": len(kept.data)}
    results["memory"] = photo_memory(folder, number_a, folder / "phone.jpg", what_if=False)
    results["memory_what_if_draft"] = photo_memory(folder, number_a, folder / "phone.jpg", what_if=True)
    print("photo done", flush=True)

    # (b) the estimate: unsigned and unchanged, signed and unchanged, after a change (a new version each time)
    number_b = priced_order(ctx)
    results["current_unchanged"] = summary(timed(repeat, lambda _: estimate.current(number_b)))
    first = estimate.current(number_b)
    estimate.sign(number_b, first.version, "王建国", signature_png(0), actor="张伟")
    results["current_unchanged_signed"] = summary(timed(repeat, lambda _: estimate.current(number_b)))
    versions: list[int] = []
    results["current_changed"] = summary(timed(
        repeat, lambda _: versions.append(estimate.current(number_b).version),
        before=lambda i: reprice(ctx, number_b, i + 2)))
    assert versions == list(range(versions[0], versions[0] + len(versions))), versions  # a new version each time
    print("estimate done", flush=True)

    # (c) the PDF: 8 marks, 4 of them with a photo, the estimate signed twice
    number_c = priced_order(ctx)
    uploaded = [photos.upload(number_c, data, actor="张伟") for data in jpegs]
    marks = [MarkInput(position, kind, 0.1 + 0.1 * i, 0.15 + 0.09 * i, f"第{i + 1}处",
                       photo=uploaded[i].id if i < len(uploaded) else None)
             for i, (position, kind) in enumerate(zip(POSITIONS, KINDS, strict=True))]
    WalkaroundService(ctx).record(number_c, WalkaroundInput(
        fuel_eighths=5, protection_kit=True, valuables_taken=True, marks=marks, explained=True), actor="张伟")
    for turn in range(2):
        if turn:
            reprice(ctx, number_c, 1)
        view = estimate.current(number_c)
        estimate.sign(number_c, view.version, "王建国", signature_png(turn), actor="张伟")
    documents = DocumentService(ctx, SERVER_URL, estimate=estimate, photos=photos)
    pdf = documents.repair_order_pdf(number_c)
    document = documents.repair_order(number_c)
    assert len([s for s in document.signatures if s.document == "estimate"]) == 2
    results["pdf_whole"] = summary(timed(repeat, lambda _: documents.repair_order_pdf(number_c)))
    results["pdf_data"] = summary(timed(repeat, lambda _: documents.repair_order(number_c)))
    results["pdf_render"] = summary(timed(repeat, lambda _: render(document)))
    results["pdf_render_what_if_binary"] = summary(timed(repeat, lambda _: render_binary(document)))
    results["pdf_what_if_binary_bytes"] = len(render_binary(document))
    tracemalloc.start()
    render(document)
    results["pdf_traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    files = [photos.file_of(number_c, p.id) for p in uploaded]
    results["pdf"] = {"bytes": len(pdf), "pages": len(PdfReader(io.BytesIO(pdf)).pages),
                      "dct_images": pdf.count(b"/DCTDecode"),
                      "photo_bytes_kept": sum(f.stat().st_size for f in files if f is not None)}
    ctx.db.dispose()
    return results


def report(r: dict[str, Any]) -> None:
    def row(name: str, key: str) -> None:
        x = r[key]
        print(f"  {name:<58} median {x['median_ms']:7.1f} ms  p95 {x['p95_ms']:7.1f} ms  max {x['max_ms']:7.1f} ms"
              f"  CPU median {x['cpu_median_ms']:7.1f} ms  (n={x['n']})")

    print(f"\nphone JPEGs: {', '.join(f'{b / 1e6:.2f} MB' for b in r['photo_bytes'])}; kept "
          f"{r['kept']['width']}×{r['kept']['height']}, {r['kept']['bytes'] / 1e3:.0f} kB")
    row("(a) OrderPhotoService.upload, 12 MP", "upload")
    row("    of which photos.encode", "encode")
    row("    WHAT-IF encode, draft box in proportion", "encode_what_if_draft")
    for label, key in (("product", "memory"), ("WHAT-IF draft", "memory_what_if_draft")):
        m = r[key]
        print(f"  (a) memory, {label:<14} peak RSS {m['peak_rss_mb']:.0f} MB, {m['peak_growth_mb']:.0f} MB above "
              f"the {m['rss_before_mb']:.0f} MB before; Python-traced peak {m['traced_peak_mb']:.1f} MB")
    row("(b) EstimateService.current, unchanged, unsigned", "current_unchanged")
    row("(b) EstimateService.current, unchanged, signed", "current_unchanged_signed")
    row("(b) EstimateService.current after a change (new version)", "current_changed")
    row("(c) DocumentService.repair_order_pdf", "pdf_whole")
    row("    of which reading the order (repair_order)", "pdf_data")
    row("    of which ReportLab (render)", "pdf_render")
    row("    WHAT-IF render with binary streams (no ASCII85)", "pdf_render_what_if_binary")
    p = r["pdf"]
    print(f"  (c) PDF {p['bytes'] / 1e3:.0f} kB, {p['pages']} page(s), {p['dct_images']} JPEG image(s) "
          f"(the 4 kept photos: {p['photo_bytes_kept'] / 1e3:.0f} kB); render's Python-traced peak "
          f"{r['pdf_traced_peak_mb']:.1f} MB; WHAT-IF binary streams: {r['pdf_what_if_binary_bytes'] / 1e3:.0f} kB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (its path is printed)")
    parser.add_argument("--memory-child", nargs=3, metavar=("DIR", "NUMBER", "JPEG"), help=argparse.SUPPRESS)
    parser.add_argument("--what-if", choices=["draft"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        folder, number, photo = args.memory_child
        memory_child(Path(folder), number, Path(photo), args.what_if == "draft")
        return
    folder = Path(tempfile.mkdtemp(prefix="reception-bench-"))
    try:
        results = measure(folder, args.repeat)
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    results["machine"] = {"cpus": os.cpu_count(), "load_after": os.getloadavg(), "python": sys.version.split()[0],
                          "pillow": PIL.__version__, "reportlab": reportlab.Version}
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
