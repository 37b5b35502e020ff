// The walkaround's top-view car (/kiosk/walkaround/<number>): tap to place a damage mark, marks drawn over
// car_diagram.svg, last visit's marks faded, and the photos of marks sent to the server with retries.
// Geometry (shared with the PDF and the customer's page): viewBox 0 0 400 600, front at the top, the driver's side
// on the left; a mark's x, y are fractions 0..1 of that box.
// Props: src (the drawing), marks [{key, n, kind, x, y, photo: bool}], earlier [{x, y, title}], zone [x0, y0, x1,
// y1] | null (where the step looks), selected (a mark's key), labels {front, left, right}, upload (the photo route),
// max_px (a photo larger than that is shrunk before it is sent).
// Emits "place" {x, y} on a tap on the car, "select" {key} on a mark, "earlier" {index} on a faded mark,
// "photo" {key, id, url} once a photo is stored, "photo_state" {key, state: sending | retrying | refused,
// attempt, status, detail}.
// Photos: any element with data-photo-for="<mark key>" opens the camera (a file input with capture, which works
// over plain HTTP) for that mark; the file is POSTed as it is to `upload`, retried with exponential backoff
// while the network or server fails (the mark stays where it is, saved without its photo meanwhile), never
// retried when the server refuses it (too large, not an image). Text is drawn with Vue's bindings: no markup.

const W = 400;
const H = 600;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30000;
// each kind its colour and its shape, as in the repair order PDF (shopfloor/documents/diagram.py): a black-and-white
// copy still tells them apart; points are fractions of the mark's half-size, y down
const KINDS = {
  scratch: ["#c62828", null],
  dent: ["#ef6c00", [[-0.9, -0.9], [0.9, -0.9], [0.9, 0.9], [-0.9, 0.9]]],
  chip: ["#6a1b9a", [[0, -1.15], [-1.1, 0.75], [1.1, 0.75]]],
  crack: ["#1565c0", [[0, -1.2], [1.2, 0], [0, 1.2], [-1.2, 0]]],
  missing: ["#212121", [[0, 1.15], [-1.1, -0.75], [1.1, -0.75]]],
  other: ["#607d8b", [[1.05, 0], [0.52, 0.9], [-0.52, 0.9], [-1.05, 0], [-0.52, -0.9], [0.52, -0.9]]],
};
const R = 14;

export default {
  template: `
    <div class="car-diagram" style="position:relative;width:100%;height:100%;user-select:none;touch-action:manipulation">
      <svg ref="svg" :viewBox="'0 0 ' + W + ' ' + H" preserveAspectRatio="xMidYMid meet"
           style="width:100%;height:100%;display:block;cursor:crosshair" @click="tap" data-testid="car-diagram">
        <image :href="src" x="0" y="0" :width="W" :height="H" />
        <rect v-if="zone" :x="zone[0] * W" :y="zone[1] * H" :width="(zone[2] - zone[0]) * W"
              :height="(zone[3] - zone[1]) * H" rx="14" fill="#1976d2" fill-opacity="0.10" stroke="#1976d2"
              stroke-opacity="0.55" stroke-width="2.5" stroke-dasharray="8 6" pointer-events="none"
              data-testid="diagram-zone" />
        <text x="214" y="17" font-size="15" fill="#5c6670">{{ labels.front }}</text>
        <!-- both sides written downwards (vertical-rl): Chinese upright, top to bottom; Latin turned a quarter
             clockwise on either side alike. A rotate() turned the right side's Chinese on its back -->
        <text x="22" y="300" text-anchor="middle" font-size="15" fill="#5c6670" data-testid="diagram-left"
              style="writing-mode:vertical-rl;text-orientation:mixed">{{ labels.left }}</text>
        <text x="380" y="300" text-anchor="middle" font-size="15" fill="#5c6670" data-testid="diagram-right"
              style="writing-mode:vertical-rl;text-orientation:mixed">{{ labels.right }}</text>
        <g v-for="(m, i) in earlier" :key="'e' + i" :transform="'translate(' + m.x * W + ' ' + m.y * H + ')'"
           style="cursor:pointer" :data-earlier="i" @click.stop="$emit('earlier', {index: i})">
          <circle r="13" fill="#ffffff" fill-opacity="0.8" stroke="#616161" stroke-width="2" stroke-dasharray="4 3" />
          <text text-anchor="middle" dy="5" font-size="14" fill="#616161">{{ m.symbol }}</text>
          <title>{{ m.title }}</title>
        </g>
        <g v-for="m in marks" :key="m.key" :transform="'translate(' + m.x * W + ' ' + m.y * H + ')'"
           style="cursor:pointer" :data-mark="m.key" :data-kind="m.kind" @click.stop="$emit('select', {key: m.key})">
          <circle v-if="m.key === selected" r="21" fill="none" stroke="#ffb300" stroke-width="4" />
          <circle v-if="states[m.key] && states[m.key] !== 'refused'" r="18" fill="none" stroke="#f57c00"
                  stroke-width="3" stroke-dasharray="5 4" data-testid="photo-pending" />
          <circle v-if="!shape(m.kind)" :r="R" :fill="colour(m.kind)" stroke="#fff" stroke-width="2.5" />
          <polygon v-else :points="shape(m.kind)" :fill="colour(m.kind)" stroke="#fff" stroke-width="2.5" />
          <text text-anchor="middle" :dy="m.kind === 'chip' ? 8 : m.kind === 'missing' ? 2 : 5" font-size="14"
                font-weight="bold" fill="#fff">{{ m.n }}</text>
          <g v-if="m.photo" transform="translate(12 -14)">
            <circle r="7" fill="#fff" stroke="#455a64" stroke-width="1.5" />
            <rect x="-4" y="-2.5" width="8" height="5.5" rx="1" fill="#455a64" />
          </g>
        </g>
      </svg>
      <input ref="file" type="file" accept="image/*" capture="environment" data-testid="photo-input"
             style="position:absolute;left:0;top:0;width:1px;height:1px;opacity:0;overflow:hidden" @change="picked" />
    </div>`,
  props: {
    src: String,
    marks: { type: Array, default: () => [] },
    earlier: { type: Array, default: () => [] },
    zone: { type: Array, default: null },
    selected: { type: String, default: "" },
    labels: { type: Object, default: () => ({}) },
    upload: String,
    max_px: { type: Number, default: 0 },
  },
  data() {
    return { W, H, R, states: {} };
  },
  methods: {
    colour(kind) {
      return (KINDS[kind] || KINDS.other)[0];
    },
    shape(kind) {
      const points = (KINDS[kind] || KINDS.other)[1];
      return points ? points.map(([px, py]) => px * R + "," + py * R).join(" ") : null;
    },
    tap(ev) {
      const svg = this.$refs.svg;
      const ctm = svg.getScreenCTM();
      if (!ctm) return;
      const p = new DOMPoint(ev.clientX, ev.clientY).matrixTransform(ctm.inverse());
      const x = p.x / W;
      const y = p.y / H;
      if (x < 0 || x > 1 || y < 0 || y > 1) return; // the letterbox beside the drawing
      this.$emit("place", { x: Math.round(x * 10000) / 10000, y: Math.round(y * 10000) / 10000 });
    },
    openCamera(ev) {
      // a tap on any "photo" button of a mark: the file input is clicked inside the same trusted tap, so the
      // browser opens the camera or the picker
      const trigger = ev.target instanceof Element ? ev.target.closest("[data-photo-for]") : null;
      if (!trigger) return;
      this.target = trigger.getAttribute("data-photo-for");
      this.$refs.file.value = "";
      this.$refs.file.click();
    },
    picked() {
      const file = this.$refs.file.files && this.$refs.file.files[0];
      if (!file || !this.target) return;
      this.send(this.target, file);
      this.$refs.file.value = "";
    },
    async send(key, file) {
      // a newer photo of the same mark replaces one still waiting
      const old = this.uploads[key];
      if (old && old.timer) clearTimeout(old.timer);
      const job = { file, attempt: 0, timer: null };
      this.uploads[key] = job;
      this.report(key, "sending", { attempt: 0 });
      job.file = await this.shrunk(file);
      this.attempt(key, job);
    },
    async shrunk(file) {
      // a 50-megapixel camera's photo is shrunk here first, so the bay's Wi-Fi carries less and the server's size
      // limit is not met by pixels it would throw away; the server still checks, turns and shrinks what it gets.
      // Anything that cannot be shrunk here (an old browser, not an image) goes as it is.
      try {
        if (!this.max_px || !window.createImageBitmap) return file;
        const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
        const scale = this.max_px / Math.max(bitmap.width, bitmap.height);
        if (scale >= 0.8) return file; // close enough: not worth a second JPEG
        const canvas = document.createElement("canvas");
        canvas.width = Math.round(bitmap.width * scale);
        canvas.height = Math.round(bitmap.height * scale);
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
        return blob || file;
      } catch (err) {
        return file;
      }
    },
    report(key, state, extra) {
      this.states = { ...this.states, [key]: state };
      this.$emit("photo_state", { key, state, ...extra });
    },
    async attempt(key, job) {
      if (this.uploads[key] !== job) return;
      job.attempt += 1;
      this.report(key, job.attempt === 1 ? "sending" : "retrying", { attempt: job.attempt });
      let response = null;
      try {
        response = await fetch(this.upload, {
          method: "POST",
          body: job.file,
          credentials: "same-origin",
          // a header no other site's form can send: the route refuses a request without it
          headers: { "Content-Type": "application/octet-stream", "X-Shopfloor-Photo": "1" },
        });
      } catch (err) {
        response = null; // the network: retried
      }
      if (this.uploads[key] !== job) return;
      if (response && response.ok) {
        const body = await response.json();
        delete this.uploads[key];
        const states = { ...this.states };
        delete states[key];
        this.states = states;
        this.$emit("photo", { key, id: body.id, url: body.url });
        return;
      }
      const status = response ? response.status : 0;
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        let detail = "";
        try {
          detail = (await response.json()).detail || "";
        } catch (err) {
          detail = "";
        }
        delete this.uploads[key];
        this.report(key, "refused", { status, detail, attempt: job.attempt });
        return;
      }
      const wait = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (job.attempt - 1));
      this.report(key, "retrying", { status, attempt: job.attempt, wait_ms: wait });
      job.timer = setTimeout(() => this.attempt(key, job), wait);
    },
    retry_now(key) {
      // the advisor taps "try again": no waiting out the backoff
      const job = this.uploads[key];
      if (!job) return;
      if (job.timer) clearTimeout(job.timer);
      this.attempt(key, job);
    },
    forget(key) {
      // the mark was deleted: its photo is not sent any more
      const job = this.uploads[key];
      if (job && job.timer) clearTimeout(job.timer);
      delete this.uploads[key];
      const states = { ...this.states };
      delete states[key];
      this.states = states;
    },
  },
  created() {
    this.uploads = {}; // key -> {file, attempt, timer}: not reactive, a File is not drawn
    this.target = null;
  },
  mounted() {
    this.onClick = (ev) => this.openCamera(ev);
    document.addEventListener("click", this.onClick, true);
  },
  unmounted() {
    document.removeEventListener("click", this.onClick, true);
    for (const job of Object.values(this.uploads)) if (job.timer) clearTimeout(job.timer);
  },
};
