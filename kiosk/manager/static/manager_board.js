// The manager's plan board (/manager/board): the appointment board with cards that can be dragged to another
// time or advisor. Pointer events (mouse, touch and pen alike), no library.
// Props: board {rows: [{id, code, name}], cards: [card]}, config {open_min, close_min, slot, day, is_today,
// now_ms, tz_offset_min}, labels {name: text}.
// Emits "move" {id, advisor_id, start_min} when a card is dropped somewhere new (the card waits there, marked
// pending, until the server calls settle(id): it then shows wherever the board says it is) and "select" {id}
// on a tap. Stable hooks for browser tests: rows carry data-advisor-id, tracks data-track, cards data-id /
// data-plate / data-status / data-advisor-id / data-start.

const ROWHEAD = 132; // px
// A card is 45 minutes wide, or MIN_CARD_PX if that is wider; cards closer in time than that take another lane
// of their advisor's row. The rows grow into the screen's height; when they do not fit, a card drops its work
// line, then goes compact (narrower, plate and time only: the rest is in its tooltip and on a tap).
const LANE = 72; // px: a card's height plus its gap, at least, for all four lines
const LANE_MAX = 104;
const MEDIUM_LANE = 58; // three lines: plate, time, customer
const MIN_CARD_PX = 120;
const CARD_MINUTES = 45;
const COMPACT_LANE = 42;
const COMPACT_LANE_MAX = 56;
const COMPACT_CARD_PX = 112;
const COMPACT_CARD_MINUTES = 30;
const DRAG_THRESHOLD = 5; // px before a press becomes a drag
const MARKED = ["arrived", "late", "no_show", "cancelled"];

function pad(n) {
  return String(n).padStart(2, "0");
}

function hhmm(minutes) {
  return pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
}

export default {
  template: `
    <div class="mgb" :class="{'is-roomy': !compact && lane >= 92 && ppm * cardMinutes >= 150, 'is-compact': compact}" :style="{'--mgb-rowhead': rowhead + 'px'}">
      <div class="mgb-axis">
        <div class="mgb-axis-head">{{ labels.advisor }}</div>
        <div class="mgb-axis-hours">
          <span v-for="(h, i) in hours" :key="h.m" class="mgb-hour" :class="{'is-first': i === 0, 'is-last': i === hours.length - 1}" :style="{left: h.pct + '%'}">{{ h.label }}</span>
        </div>
      </div>
      <div class="mgb-body" ref="body">
        <div v-for="row in layout" :key="row.id" class="mgb-row" :class="{'is-target': drag && drag.target && drag.target.advisor_id === row.id}"
             :data-advisor-id="row.id" :style="{height: row.height + 'px'}">
          <div class="mgb-rowhead">
            <span class="mgb-code">{{ row.code || "?" }}</span>
            <span class="mgb-rowhead-text">
              <span class="mgb-rowname">{{ row.name }}</span>
              <span class="mgb-rowsub">{{ fill(row.count === 1 ? labels.row_sum_one : labels.row_sum, {count: row.count, hours: h1(row.hours)}) }}</span>
            </span>
          </div>
          <div class="mgb-track" :data-track="row.id" :data-advisor-id="row.id">
            <div v-for="g in grid" :key="g.m" class="mgb-grid" :class="{'is-hour': g.hour}" :style="{left: g.pct + '%'}"></div>
            <div v-if="pastPct > 0" class="mgb-past" :style="{width: pastPct + '%'}"></div>
            <div v-if="nowPct !== null" class="mgb-now" :style="{left: nowPct + '%'}"></div>
            <div v-if="drag && drag.target && drag.target.advisor_id === row.id" class="mgb-drop"
                 :class="{'is-past': drag.target.past}" data-testid="drop-indicator"
                 :style="{left: pct(drag.target.start_min) + '%', width: cardPct + '%'}">
              <span>{{ hhmm(drag.target.start_min) }}</span>
            </div>
            <div v-for="c in row.cards" :key="c.card.id" class="mgb-card"
                 :class="['is-' + c.card.status, {'has-magnet': marked(c.card.status), 'is-movable': c.card.movable, 'is-pending': c.pending, 'is-dragged': drag && drag.moved && drag.id === c.card.id, 'is-flash': flash[c.card.id]}]"
                 :data-id="c.card.id" :data-plate="c.card.plate" :data-status="c.card.status" :data-advisor-id="c.card.advisor_id"
                 :data-start="c.card.time" :title="c.card.customer + ' · ' + c.card.work"
                 :style="{left: 'calc(' + c.left + '% + 2px)', width: 'calc(' + cardPct + '% - 5px)', top: (c.lane * lane + 4) + 'px', height: (lane - 6) + 'px'}"
                 @pointerdown="press($event, c.card)">
              <span v-if="marked(c.card.status)" class="mgb-magnet" :class="'is-' + c.card.status" :title="labels['status.' + c.card.status]"></span>
              <div class="mgb-l1"><span class="mgb-plate">{{ c.card.plate_display }}</span></div>
              <div class="mgb-l2"><span class="mgb-time">{{ c.card.time }}</span> · {{ h1(c.card.hours) }}{{ labels.h }}<span v-if="c.card.bay && !compact" class="mgb-bay" :title="labels.bay + c.card.bay">{{ c.card.bay }}</span></div>
              <template v-if="!compact">
                <div class="mgb-l3">{{ c.card.customer }}<span v-for="f in c.card.flags" :key="f" class="mgb-flag" :class="'is-' + f" :title="labels['flag.' + f]">{{ labels['flag_short.' + f] }}</span></div>
                <div v-if="!medium" class="mgb-l4">{{ c.card.work }}</div>
              </template>
            </div>
          </div>
        </div>
        <div v-if="!cardCount" class="mgb-empty">{{ labels.empty }}</div>
      </div>
      <div v-if="drag && drag.moved && dragCard" class="mgb-card mgb-ghost" :class="'is-' + dragCard.status"
           :style="{left: drag.x + 'px', top: drag.y + 'px', width: drag.w + 'px', height: drag.h + 'px'}">
        <div class="mgb-l1"><span class="mgb-plate">{{ dragCard.plate_display }}</span></div>
        <div class="mgb-l2"><span class="mgb-time">{{ drag.target ? hhmm(drag.target.start_min) : dragCard.time }}</span> · {{ h1(dragCard.hours) }}{{ labels.h }}</div>
        <div v-if="!compact" class="mgb-l3">{{ dragCard.customer }}</div>
      </div>
    </div>`,
  props: {
    board: Object,
    config: Object,
    labels: Object,
  },
  data() {
    return {
      drag: null,
      pending: {}, // id -> {advisor_id, start_min}: dropped, waiting for the server
      flash: {}, // id -> true: just snapped back
      skew: this.config.now_ms - Date.now(),
      nowMs: this.config.now_ms,
      trackWidth: 1600,
      rowhead: ROWHEAD,
      lane: LANE,
      compact: false,
      medium: false, // no room for the work line
    };
  },
  computed: {
    span() {
      return Math.max(this.config.close_min - this.config.open_min, 60);
    },
    ppm() {
      return this.trackWidth / this.span; // px per minute
    },
    cardMinutes() {
      return this.minutesFor(this.compact);
    },
    cardPct() {
      return (this.cardMinutes / this.span) * 100;
    },
    hours() {
      const out = [];
      for (let m = Math.ceil(this.config.open_min / 60) * 60; m <= this.config.close_min; m += 60) {
        out.push({ m, label: hhmm(m), pct: this.pct(m) });
      }
      return out;
    },
    grid() {
      const out = [];
      const step = this.config.slot || 15;
      for (let m = this.config.open_min + step; m < this.config.close_min; m += step) {
        out.push({ m, hour: m % 60 === 0, pct: this.pct(m) });
      }
      return out;
    },
    cardCount() {
      return (this.board.cards || []).length;
    },
    dragCard() {
      return this.drag ? (this.board.cards || []).find((c) => c.id === this.drag.id) || null : null;
    },
    layout() {
      return this.pack(this.cardMinutes);
    },
    siteMinutes() {
      const d = new Date(this.nowMs + this.config.tz_offset_min * 60000);
      return d.getUTCHours() * 60 + d.getUTCMinutes();
    },
    nowPct() {
      if (!this.config.is_today) return null;
      const m = this.siteMinutes;
      if (m < this.config.open_min || m > this.config.close_min) return null;
      return this.pct(m);
    },
    pastPct() {
      if (!this.config.is_today) return 0;
      return Math.min(Math.max(this.pct(this.siteMinutes), 0), 100);
    },
  },
  methods: {
    minutesFor(compact) {
      return compact ? Math.max(COMPACT_CARD_MINUTES, Math.ceil(COMPACT_CARD_PX / this.ppm))
        : Math.max(CARD_MINUTES, Math.ceil(MIN_CARD_PX / this.ppm));
    },
    pack(cardMinutes) {
      // rows: the advisors, plus anyone a card names who has no row; each card in the first lane free at its time
      const rows = new Map();
      for (const r of this.board.rows || []) rows.set(r.id, { ...r, items: [] });
      for (const card of this.board.cards || []) {
        const p = this.pending[card.id];
        const advisor = p ? p.advisor_id : card.advisor_id;
        const start = p ? p.start_min : card.start_min;
        if (!rows.has(advisor)) rows.set(advisor, { id: advisor, code: card.advisor_code, name: card.advisor_name, items: [] });
        rows.get(advisor).items.push({ card, start, pending: !!p });
      }
      const out = [];
      for (const row of rows.values()) {
        row.items.sort((a, b) => a.start - b.start || a.card.id - b.card.id);
        const ends = []; // per lane: the minute its last card ends on screen
        const cards = [];
        let hours = 0;
        let count = 0;
        for (const item of row.items) {
          let lane = ends.findIndex((end) => end <= item.start);
          if (lane < 0) {
            lane = ends.length;
            ends.push(0);
          }
          ends[lane] = item.start + cardMinutes;
          cards.push({ card: item.card, lane, pending: item.pending, left: this.pct(item.start) });
          if (item.card.status !== "cancelled" && item.card.status !== "no_show") {
            hours += item.card.hours;
            count += 1;
          }
        }
        const lanes = Math.max(ends.length, 1);
        out.push({ id: row.id, code: row.code, name: row.name, cards, count, hours, lanes, height: lanes * this.lane + 8 });
      }
      return out;
    },
    pct(minutes) {
      return ((minutes - this.config.open_min) / this.span) * 100;
    },
    hhmm,
    h1(hours) {
      return (Math.round((Number(hours) || 0) * 10) / 10).toString();
    },
    marked(status) {
      return MARKED.includes(status);
    },
    fill(text, params) {
      return String(text || "").replace(/\{(\w+)\}/g, (m, k) => (k in params ? params[k] : m));
    },
    // -- dragging ------------------------------------------------------------------------------------------
    press(ev, card) {
      if (ev.button !== undefined && ev.button !== 0) return;
      const rect = ev.currentTarget.getBoundingClientRect();
      this.drag = {
        id: card.id, movable: card.movable, pointer: ev.pointerId, x0: ev.clientX, y0: ev.clientY,
        dx: ev.clientX - rect.left, dy: ev.clientY - rect.top, w: rect.width, h: rect.height,
        x: rect.left, y: rect.top, moved: false, target: null,
      };
      window.addEventListener("pointermove", this.onMove);
      window.addEventListener("pointerup", this.onUp);
      window.addEventListener("pointercancel", this.onCancel);
      if (card.movable) ev.preventDefault(); // no text selection while dragging
    },
    onMove(ev) {
      const d = this.drag;
      if (!d || ev.pointerId !== d.pointer) return;
      if (!d.moved) {
        if (!d.movable || Math.hypot(ev.clientX - d.x0, ev.clientY - d.y0) < DRAG_THRESHOLD) return;
        d.moved = true;
      }
      d.x = ev.clientX - d.dx;
      d.y = ev.clientY - d.dy;
      d.target = this.targetAt(ev.clientX, ev.clientY, d.x);
    },
    targetAt(px, py, left) {
      // the row under the pointer; the time under the card's left edge, snapped to the slot
      for (const track of this.$el.querySelectorAll(".mgb-track")) {
        const r = track.getBoundingClientRect();
        const row = track.parentElement.getBoundingClientRect();
        if (py < row.top || py >= row.bottom || px < row.left || px > r.right) continue;
        const slot = this.config.slot || 15;
        const raw = this.config.open_min + (left - r.left) / (r.width / this.span);
        let start = this.config.open_min + Math.round((raw - this.config.open_min) / slot) * slot;
        start = Math.min(Math.max(start, this.config.open_min), this.config.close_min - slot);
        const advisor = (this.layout.find((x) => String(x.id) === track.dataset.track) || {}).id;
        const past = this.config.is_today && start < this.siteMinutes;
        return { advisor_id: advisor, start_min: start, past };
      }
      return null;
    },
    onUp(ev) {
      const d = this.drag;
      if (!d || ev.pointerId !== d.pointer) return;
      this.stop();
      if (!d.moved) {
        this.$emit("select", { id: d.id });
        return;
      }
      const card = (this.board.cards || []).find((c) => c.id === d.id);
      const t = d.target;
      if (!card || !t || t.advisor_id === undefined) return;
      if (t.advisor_id === card.advisor_id && t.start_min === card.start_min) return;
      this.pending[d.id] = { advisor_id: t.advisor_id, start_min: t.start_min };
      this.$emit("move", { id: d.id, advisor_id: t.advisor_id, start_min: t.start_min });
    },
    onCancel() {
      this.stop();
    },
    stop() {
      window.removeEventListener("pointermove", this.onMove);
      window.removeEventListener("pointerup", this.onUp);
      window.removeEventListener("pointercancel", this.onCancel);
      this.drag = null;
    },
    // -- called by the server ------------------------------------------------------------------------------
    settle(id, moved) {
      // the server has answered: show the card where the board says it is (refused: back where it was)
      delete this.pending[id];
      if (!moved) {
        this.flash[id] = true;
        setTimeout(() => delete this.flash[id], 1600);
      }
    },
    tick() {
      this.nowMs = Date.now() + this.skew;
    },
    measure() {
      const body = this.$refs.body;
      if (!body) return;
      this.trackWidth = Math.max(body.clientWidth - ROWHEAD, 200);
      // the room the rows have: the screen less everything on the page that is not the rows
      const page = this.$el.closest(".nicegui-content") || document.body;
      const used = page.getBoundingClientRect().top + window.scrollY + page.offsetHeight + 12;
      const room = window.innerHeight - (used - body.offsetHeight);
      const lanesOf = (compact) => this.pack(this.minutesFor(compact)).reduce((n, r) => n + r.lanes + 0.12, 0) || 1;
      const fit = Math.floor(room / lanesOf(false));
      const compact = fit < MEDIUM_LANE;
      const lane = compact ? Math.min(Math.max(Math.floor(room / lanesOf(true)), COMPACT_LANE), COMPACT_LANE_MAX)
        : Math.min(fit, LANE_MAX);
      this.compact = compact;
      this.medium = !compact && lane < LANE;
      if (Math.abs(lane - this.lane) > 1) this.lane = lane;
    },
  },
  watch: {
    board() {
      this.$nextTick(() => this.measure());
    },
    "config.now_ms"(value) {
      this.skew = value - Date.now();
      this.tick();
    },
  },
  mounted() {
    this.measure();
    this.resizer = new ResizeObserver(() => this.measure());
    this.resizer.observe(this.$refs.body);
    // the strip under the board arrives later and changes the page's height
    this.resizer.observe(this.$el.closest(".nicegui-content") || document.body);
    window.addEventListener("resize", this.measure);
    this.timer = setInterval(() => this.tick(), 20000);
  },
  unmounted() {
    this.stop();
    window.removeEventListener("resize", this.measure);
    clearInterval(this.timer);
    if (this.resizer) this.resizer.disconnect();
  },
};
