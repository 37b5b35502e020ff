// The appointment management board (预约管理板), drawn entirely in the browser.
// Props: init (JSON {cards: {key: card}, rows: {advisorId: row}}), labels {name: text}, config (clock, hours).
// The server then calls upsert(card) / remove(key) / upsertRow(row) / removeRow(id) as the bus changes.
// Every card carries data-plate / data-status: stable hooks for browser tests.

const ROWHEAD = 230; // px
// As on the whiteboard, a magnet card sits in the hour column its appointment starts in, one hour wide, and
// the cards of one hour stack downwards in time order; the card itself says the minute.
const CELL = 60; // minutes
const MARKED = ["arrived", "late", "no_show", "cancelled"]; // statuses that get a magnet

function siteClock(config, ms) {
  // the site's wall clock, whatever zone the screen's own OS is set to
  const d = new Date(ms + config.tz_offset_min * 60000);
  return { day: d.toISOString().slice(0, 10), minutes: d.getUTCHours() * 60 + d.getUTCMinutes() };
}

function pad(n) {
  return String(n).padStart(2, "0");
}

export default {
  template: `
    <div class="sfb sfb-appt" :class="'sfb-density-' + density" :style="{'--sfb-rowhead': rowhead + 'px', '--sfb-hour': hourWidth + 'px'}">
      <header class="sfb-head">
        <div class="sfb-head-title">
          <span class="sfb-site">{{ config.site }}</span>
          <span class="sfb-name">{{ labels.title }}</span>
        </div>
        <div class="sfb-head-mid">
          <span class="sfb-date">{{ config.date_label }}</span>
          <span class="sfb-total">{{ fill(labels.count, {count: counts.total}) }}</span>
        </div>
        <span class="sfb-clock">{{ clockText }}</span>
      </header>
      <div class="sfb-appt-axis">
        <div class="sfb-appt-axis-head">{{ labels.advisor }}</div>
        <div class="sfb-appt-axis-hours">
          <span v-for="(h, i) in hours" :key="h.label" class="sfb-hour-label"
                :class="{'is-first': i === 0, 'is-last': i === hours.length - 1}" :style="{left: h.pct + '%'}">{{ h.label }}</span>
          <span v-if="nowPct !== null" class="sfb-now-tag" :style="{left: nowPct + '%'}">{{ labels.now }} {{ clockText }}</span>
        </div>
      </div>
      <div class="sfb-appt-body" ref="body">
        <div v-for="row in layout.rows" :key="row.id" class="sfb-appt-row" :style="{flex: row.lanes + ' 1 0'}" :data-advisor="row.code">
          <div class="sfb-appt-rowhead">
            <span class="sfb-code">{{ row.code || "?" }}</span>
            <span class="sfb-rowhead-text">
              <span class="sfb-rowhead-name">{{ row.name }}</span>
              <span class="sfb-rowhead-sub">{{ fill(labels.count, {count: row.cards.length}) }}</span>
            </span>
          </div>
          <div class="sfb-appt-track">
            <div v-for="c in row.cards" :key="c.card.key" class="sfb-appt-card"
                 :data-plate="c.card.plate" :data-status="c.card.status" :data-key="c.card.key"
                 :style="{left: 'calc(' + c.left + '% + 3px)', width: 'calc(' + c.width + '% - 11px)', top: 'calc(' + c.top + '% + 2px)', height: 'calc(' + c.height + '% - 4px)'}">
              <span v-if="marked(c.card.status)" class="sfb-magnet" :class="'is-' + c.card.status"></span>
              <div class="sfb-line1" :class="{'is-long': c.card.plate.length > 7}">{{ plateHead(c.card) }}<span class="sfb-dot">·</span>{{ plateTail(c.card) }}</div>
              <div v-if="density !== 's'" class="sfb-line2"><span class="sfb-time">{{ c.card.time }}</span>{{ c.card.customer }}</div>
              <div v-if="density === 'l'" class="sfb-line3">{{ c.card.work }}<span v-if="c.card.bay" class="sfb-bay">{{ labels.bay }}{{ c.card.bay }}</span></div>
            </div>
          </div>
        </div>
        <div v-if="nowPct !== null" class="sfb-now-layer">
          <div class="sfb-now-line" :style="{left: nowPct + '%'}"></div>
        </div>
        <div v-if="!counts.total" class="sfb-empty">{{ labels.empty }}</div>
      </div>
      <footer class="sfb-foot">
        <span class="sfb-foot-item"><span class="sfb-swatch" style="background: var(--sfb-booked)"></span>{{ labels['status.booked'] }} <b>{{ counts.booked }}</b></span>
        <span class="sfb-foot-item"><span class="sfb-swatch" style="background: var(--sfb-confirmed)"></span>{{ labels['status.confirmed'] }} <b>{{ counts.confirmed }}</b></span>
        <span v-for="s in marks" :key="s" class="sfb-foot-item"><span class="sfb-magnet" :class="'is-' + s"></span>{{ labels['status.' + s] }} <b>{{ counts[s] }}</b></span>
        <span class="sfb-foot-spacer"></span>
      </footer>
    </div>`,
  props: {
    init: String, // JSON {cards, rows}: read once; the server drops it after delivering the page
    labels: Object,
    config: Object,
  },
  data() {
    const init = this.init ? JSON.parse(this.init) : {};
    return {
      items: init.cards || {},
      advisors: init.rows || {},
      skew: this.config.now_ms - Date.now(),
      nowMs: this.config.now_ms,
      bodyHeight: 880,
      rowhead: ROWHEAD,
      trackWidth: 1920 - ROWHEAD,
      marks: MARKED,
    };
  },
  computed: {
    span() {
      return Math.max(this.config.close_min - this.config.open_min, 60);
    },
    hourWidth() {
      return (this.trackWidth * 60) / this.span;
    },
    hours() {
      const out = [];
      const first = Math.ceil(this.config.open_min / 60) * 60;
      for (let m = first; m <= this.config.close_min; m += 60) {
        out.push({ label: pad(Math.floor(m / 60)) + ":00", pct: ((m - this.config.open_min) / this.span) * 100 });
      }
      return out;
    },
    layout() {
      // rows: active advisors, plus any advisor an appointment names that we have no row for (yet)
      const rows = new Map();
      for (const a of Object.values(this.advisors)) {
        if (a.active) rows.set(a.id, { id: a.id, code: a.code, name: a.name, cards: [] });
      }
      for (const card of Object.values(this.items)) {
        const a = card.advisor || {};
        const id = a.id || "?";
        if (!rows.has(id)) rows.set(id, { id, code: a.code, name: a.name, cards: [] });
        rows.get(id).cards.push(card);
      }
      const open = this.config.open_min;
      const span = this.span;
      const cells = Math.max(Math.ceil(span / CELL), 1);
      const out = [];
      for (const row of rows.values()) {
        const sorted = row.cards.slice().sort((a, b) => a.start - b.start || (a.key < b.key ? -1 : 1));
        const filled = new Array(cells).fill(0);
        const placed = [];
        for (const card of sorted) {
          const cell = Math.min(Math.max(Math.floor((card.start - open) / CELL), 0), cells - 1);
          placed.push({ card, cell, lane: filled[cell] });
          filled[cell] += 1;
        }
        const lanes = Math.max(...filled, 1);
        row.lanes = lanes;
        row.cards = placed.map((p) => ({
          card: p.card,
          left: ((p.cell * CELL) / span) * 100,
          width: (Math.min(CELL, span - p.cell * CELL) / span) * 100,
          top: (p.lane / lanes) * 100,
          height: 100 / lanes,
        }));
        out.push(row);
      }
      out.sort((a, b) => String(a.code || "~").localeCompare(String(b.code || "~")) || String(a.name).localeCompare(String(b.name)));
      return { rows: out, lanes: out.reduce((n, r) => n + r.lanes, 0) };
    },
    density() {
      // how many lines fit on a card: 3 on a normal day, 1 when an advisor has dozens of bookings
      const lane = this.bodyHeight / Math.max(this.layout.lanes, 1);
      return lane >= 74 ? "l" : lane >= 50 ? "m" : "s";
    },
    counts() {
      const out = { total: 0, booked: 0, confirmed: 0, arrived: 0, late: 0, no_show: 0, cancelled: 0 };
      for (const card of Object.values(this.items)) {
        out.total += 1;
        if (card.status in out) out[card.status] += 1;
      }
      return out;
    },
    site() {
      return siteClock(this.config, this.nowMs);
    },
    clockText() {
      return pad(Math.floor(this.site.minutes / 60)) + ":" + pad(this.site.minutes % 60);
    },
    nowPct() {
      const m = this.site.minutes;
      if (m < this.config.open_min || m > this.config.close_min) return null;
      return ((m - this.config.open_min) / this.span) * 100;
    },
  },
  methods: {
    upsert(card) {
      this.items[card.key] = card;
    },
    remove(key) {
      delete this.items[key];
    },
    upsertRow(row) {
      this.advisors[row.id] = row;
    },
    removeRow(id) {
      delete this.advisors[id];
    },
    // 京A·12345: the CJK font draws "·" a full em wide, too much on a narrow card
    plateHead(card) {
      return card.plate.slice(0, 2);
    },
    plateTail(card) {
      return card.plate.slice(2);
    },
    marked(status) {
      return MARKED.includes(status);
    },
    fill(text, params) {
      return String(text || "").replace(/\{(\w+)\}/g, (m, k) => (k in params ? params[k] : m));
    },
    tick() {
      this.nowMs = Date.now() + this.skew;
      // a wall screen runs for weeks: at the site's midnight, load the new day
      if (this.site.day !== this.config.day) window.location.reload();
    },
    measure() {
      const body = this.$refs.body;
      if (!body) return;
      this.bodyHeight = body.clientHeight || this.bodyHeight;
      this.trackWidth = Math.max(body.clientWidth - ROWHEAD, 100);
    },
  },
  mounted() {
    this.measure();
    this.resizer = new ResizeObserver(() => this.measure());
    this.resizer.observe(this.$refs.body);
    this.timer = setInterval(() => this.tick(), 5000);
  },
  unmounted() {
    clearInterval(this.timer);
    if (this.resizer) this.resizer.disconnect();
  },
};
