// A signature pad for the tablet (written for shopfloor, no library): pointer events, so a finger, a stylus and a
// mouse draw alike. Strokes are smoothed (quadratic curves through the midpoints of the sampled points) and their
// width follows the pen's pressure, or for a finger or mouse the speed (faster is thinner, as ink is).
// Props: height (px), placeholder (text shown on an empty pad), disabled (bool), ink (CSS colour).
// Emits "ink" {png: "data:image/png;base64,…" | null, strokes: n} after every stroke and after clear(): the PNG is
// the ink cropped to its bounds with a margin, on white, what the server stores as the signature. A pad with too
// little ink to be a signature (a tap, a dot) sends png null. Methods: clear().
// Hooks for browser tests: the canvas carries data-testid="signature-canvas" and data-strokes (count).

const MIN_WIDTH = 1.2; // px
const MAX_WIDTH = 4.2;
const SPEED_FOR_THIN = 2.5; // px per ms: at this speed a finger's line is at its thinnest
const WIDTH_SMOOTHING = 0.35; // how much a new width follows the last one (0: jumps, 1: never changes)
const MIN_INK_PX = 40; // drawn length below which the pad counts as blank
const MARGIN = 16; // px of white around the exported ink
const EXPORT_MAX_WIDTH = 1200; // px; a wide pad is scaled down to this in the PNG

export default {
  template: `
    <div class="sfp" :class="{'is-disabled': disabled}" :style="{height: height + 'px'}">
      <canvas ref="canvas" class="sfp-canvas" data-testid="signature-canvas" :data-strokes="count"
              @pointerdown="down" @pointermove="move" @pointerup="up" @pointercancel="up" @lostpointercapture="up"></canvas>
      <div class="sfp-line"></div>
      <div v-if="!count && placeholder" class="sfp-placeholder">{{ placeholder }}</div>
    </div>`,
  props: {
    height: { type: Number, default: 260 },
    placeholder: { type: String, default: "" },
    disabled: { type: Boolean, default: false },
    ink: { type: String, default: "#0b1f4d" },
  },
  data() {
    return { count: 0 };
  },
  mounted() {
    this.strokes = []; // [{points: [{x, y, w}]}] in CSS px of the pad; redrawn after a resize
    this.active = null;
    this.pointer = null;
    this.style();
    this.observer = new ResizeObserver(() => this.fit());
    this.observer.observe(this.$el);
    this.fit();
  },
  unmounted() {
    if (this.observer) this.observer.disconnect();
  },
  methods: {
    style() {
      if (document.getElementById("sfp-style")) return;
      const css = document.createElement("style");
      css.id = "sfp-style";
      css.textContent = `
        .sfp { position: relative; width: 100%; background: #fff; border: 2px solid #b0bec5; border-radius: 10px;
               overflow: hidden; user-select: none; -webkit-user-select: none; }
        .sfp.is-disabled { opacity: .55; }
        .sfp-canvas { position: absolute; inset: 0; width: 100%; height: 100%; touch-action: none; cursor: crosshair; }
        .sfp-line { position: absolute; left: 5%; right: 5%; bottom: 26%; border-bottom: 2px dashed #cfd8dc;
                    pointer-events: none; }
        .sfp-placeholder { position: absolute; left: 0; right: 0; bottom: 8%; text-align: center; color: #90a4ae;
                           font-size: 18px; pointer-events: none; }`;
      document.head.appendChild(css);
    },
    fit() {
      const canvas = this.$refs.canvas;
      if (!canvas) return;
      const rect = canvas.getBoundingClientRect();
      const ratio = window.devicePixelRatio || 1;
      const width = Math.max(1, Math.round(rect.width * ratio));
      const height = Math.max(1, Math.round(rect.height * ratio));
      if (canvas.width === width && canvas.height === height) return;
      // a resize keeps the strokes where they were relative to the pad's size
      if (this.size && this.size.width > 0 && this.size.height > 0 && this.strokes.length) {
        const sx = rect.width / this.size.width;
        const sy = rect.height / this.size.height;
        for (const stroke of this.strokes) for (const p of stroke.points) { p.x *= sx; p.y *= sy; }
      }
      this.size = { width: rect.width, height: rect.height };
      canvas.width = width;
      canvas.height = height;
      this.redraw();
    },
    context() {
      const ctx = this.$refs.canvas.getContext("2d");
      const ratio = window.devicePixelRatio || 1;
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      return ctx;
    },
    redraw() {
      const canvas = this.$refs.canvas;
      const ctx = this.context();
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      for (const stroke of this.strokes) this.paint(ctx, stroke.points, 0);
    },
    at(e) {
      const rect = this.$refs.canvas.getBoundingClientRect();
      return { x: e.clientX - rect.left, y: e.clientY - rect.top, t: e.timeStamp, pressure: e.pressure,
               pen: e.pointerType === "pen" };
    },
    width(prev, p) {
      let target;
      if (p.pen && p.pressure > 0) {
        target = MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * Math.min(1, p.pressure * 1.4);
      } else {
        const dt = Math.max(1, p.t - prev.t);
        const speed = Math.hypot(p.x - prev.x, p.y - prev.y) / dt;
        target = MAX_WIDTH - (MAX_WIDTH - MIN_WIDTH) * Math.min(1, speed / SPEED_FOR_THIN);
      }
      return prev.w * WIDTH_SMOOTHING + target * (1 - WIDTH_SMOOTHING);
    },
    down(e) {
      if (this.disabled || (e.pointerType === "mouse" && e.button !== 0)) return;
      if (this.active) return; // a second finger (the palm) does not start another stroke
      e.preventDefault();
      try {
        this.$refs.canvas.setPointerCapture(e.pointerId); // the stroke goes on when the finger leaves the pad
      } catch (err) {
        // a pointer the browser no longer tracks: the stroke is drawn without capture
      }
      this.pointer = e.pointerId;
      const p = this.at(e);
      p.w = (MIN_WIDTH + MAX_WIDTH) / 2;
      this.active = { points: [p] };
      this.strokes.push(this.active);
      const ctx = this.context();
      ctx.fillStyle = this.ink;
      ctx.beginPath();
      ctx.arc(p.x, p.y, p.w / 2, 0, 2 * Math.PI);
      ctx.fill();
    },
    move(e) {
      if (!this.active || e.pointerId !== this.pointer) return;
      e.preventDefault();
      // a fast stroke delivers several samples per frame: all of them, for a smooth line
      const events = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
      for (const ev of events.length ? events : [e]) this.add(this.at(ev));
    },
    add(p) {
      const points = this.active.points;
      const prev = points[points.length - 1];
      if (Math.hypot(p.x - prev.x, p.y - prev.y) < 1.5) return;
      p.w = this.width(prev, p);
      points.push(p);
      this.paint(this.context(), points, points.length - 2);
    },
    // draws the segments of `points` from index `from` on: a curve from the midpoint before each point to the
    // midpoint after it, with the point as its control, so the line has no corners at the samples
    paint(ctx, points, from) {
      ctx.strokeStyle = this.ink;
      ctx.fillStyle = this.ink;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      if (points.length === 1) {
        ctx.beginPath();
        ctx.arc(points[0].x, points[0].y, points[0].w / 2, 0, 2 * Math.PI);
        ctx.fill();
        return;
      }
      for (let i = Math.max(1, from); i < points.length; i++) {
        const a = points[i - 1];
        const b = points[i];
        const start = i === 1 ? a : { x: (points[i - 2].x + a.x) / 2, y: (points[i - 2].y + a.y) / 2 };
        const end = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
        ctx.lineWidth = (a.w + b.w) / 2;
        ctx.beginPath();
        ctx.moveTo(start.x, start.y);
        ctx.quadraticCurveTo(a.x, a.y, end.x, end.y);
        if (i === points.length - 1) ctx.lineTo(b.x, b.y); // the stroke reaches where the pen lifted
        ctx.stroke();
      }
    },
    up(e) {
      if (!this.active || (e && e.pointerId !== this.pointer)) return;
      const canvas = this.$refs.canvas;
      if (canvas.hasPointerCapture && canvas.hasPointerCapture(this.pointer)) canvas.releasePointerCapture(this.pointer);
      this.active = null;
      this.pointer = null;
      this.redraw(); // the last segment's curve, drawn whole
      this.count = this.strokes.length;
      this.report();
    },
    clear() {
      this.strokes = [];
      this.active = null;
      this.pointer = null;
      this.count = 0;
      this.redraw();
      this.report();
    },
    inkLength() {
      let total = 0;
      for (const s of this.strokes) {
        for (let i = 1; i < s.points.length; i++) {
          total += Math.hypot(s.points[i].x - s.points[i - 1].x, s.points[i].y - s.points[i - 1].y);
        }
      }
      return total;
    },
    report() {
      this.$emit("ink", { png: this.inkLength() >= MIN_INK_PX ? this.png() : null, strokes: this.strokes.length });
    },
    // the ink alone, cropped with a margin, on white, at most EXPORT_MAX_WIDTH wide
    png() {
      let left = Infinity, top = Infinity, right = -Infinity, bottom = -Infinity;
      for (const s of this.strokes) {
        for (const p of s.points) {
          left = Math.min(left, p.x - p.w); top = Math.min(top, p.y - p.w);
          right = Math.max(right, p.x + p.w); bottom = Math.max(bottom, p.y + p.w);
        }
      }
      left -= MARGIN; top -= MARGIN; right += MARGIN; bottom += MARGIN;
      const scale = Math.min(2, EXPORT_MAX_WIDTH / (right - left));
      const out = document.createElement("canvas");
      out.width = Math.max(1, Math.round((right - left) * scale));
      out.height = Math.max(1, Math.round((bottom - top) * scale));
      const ctx = out.getContext("2d");
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, out.width, out.height);
      ctx.setTransform(scale, 0, 0, scale, -left * scale, -top * scale);
      for (const stroke of this.strokes) this.paint(ctx, stroke.points, 0);
      return out.toDataURL("image/png");
    },
  },
};
