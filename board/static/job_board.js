// The job progress control board (服务进程控制看板), drawn entirely in the browser; shared by the workshop wall
// (/board/progress, read-only) and the foreman's desk (/workshop/dispatch, config.editable).
// Props: init (JSON {cards: {number: order card}, rows: {technicianId: row}}, board/job_board.py), labels, config
// (the clock, start_min/end_min of the hours shown, editable). The server then calls upsert / remove / upsertRow /
// removeRow. Editable, it emits assign {number, technician}, propose {number}, confirm {clocking}.
// Hooks for tests: [data-number] on queue cards and bars, [data-technician] on rows, .sfj-actual[data-clocking].

import { wallBoard, pad } from "wall_board";
import { STYLE } from "job_board_style";

const FLAGS = ["carried_over", "waiting_customer", "repeat_repair", "complaint"];
const SUMMARY = ["checked_in", "dispatched", "in_progress", "on_hold", "quality_check", "ready"];
const HOUR = 3600000;
const EFFICIENCY_CAP = 3; // above 300% the efficiency is shown capped: a clocking missed or made late, not a fast hand
const BUSY_MIN_WIDTH = 8; // % of the day (about an hour): a car in work keeps its plate readable, even planned before the day

function installStyle() {
  if (document.getElementById("sfj-style")) return;
  const el = document.createElement("style");
  el.id = "sfj-style";
  el.textContent = STYLE;
  document.head.appendChild(el);
}

function overlap(a, b, c, d) {
  return Math.max(0, Math.min(b, d) - Math.max(a, c));
}

function byQueue(a, b) {
  const ca = a.flags.includes("carried_over") ? 0 : 1;
  const cb = b.flags.includes("carried_over") ? 0 : 1;
  return ca - cb || (a.promised_ms ?? Infinity) - (b.promised_ms ?? Infinity) || (a.number < b.number ? -1 : 1);
}

function num(h) {
  return (Math.round(h * 10) / 10).toFixed(1);
}

// an order's parts on its card and bars: "缺件 11-27" (the parts counter's status and the latest ETA)
function partsText(labels, c) {
  return (labels["parts." + c.parts] || "") + (c.parts_eta ? " " + c.parts_eta : "");
}

function pct(x) {
  return x === null || x === undefined ? "—" : Math.round(x * 100) + "%";
}

function fillIn(text, params) {
  return String(text || "").replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

// Overlapping planned bars on one row share its height in lanes, so a finished job never covers the car in work.
// The live bars take the first lanes (the car in work on top), the finished ones what is left; returns how many lanes
// the row needs.
function lanes(bars) {
  const taken = []; // per lane, the [left, right] spans in it
  const order = [...bars].sort((a, b) => (a.done ? 1 : 0) - (b.done ? 1 : 0) || (b.busy ? 1 : 0) - (a.busy ? 1 : 0) || a.left - b.left);
  for (const bar of order) {
    const right = bar.left + bar.width;
    let lane = taken.findIndex((spans) => spans.every(([l, r]) => r <= bar.left + 0.01 || l >= right - 0.01));
    if (lane < 0) lane = taken.push([]) - 1;
    taken[lane].push([bar.left, right]);
    bar.lane = lane;
  }
  return Math.max(taken.length, 1);
}

// One technician's row. The board hands every row the same object as before when nothing in it changed, so a
// clocking redraws one row, not thirty.
const JobRow = {
  props: { row: Object, marks: Array, labels: Object, editable: Boolean, selected: String },
  emits: ["tap-row", "tap-card", "tap-actual", "drag-card", "drop-row"],
  methods: {
    num,
    pct,
    capped(x) {
      return x !== null && x !== undefined && x > EFFICIENCY_CAP;
    },
    efficiencyText(x) {
      return this.capped(x) ? ">" + Math.round(EFFICIENCY_CAP * 100) + "%" : pct(x);
    },
    efficiencyTitle(row) {
      const x = row.fig.efficiency;
      if (!this.capped(x)) return this.labels.efficiency;
      const minutes = (row.f.finished / x) * 60; // the time worked on the finished lines, which rounds to 0.0 h
      return fillIn(this.labels.efficiency_capped, { pct: pct(x), finished: num(row.f.finished), minutes: minutes < 1 ? "<1" : Math.round(minutes) });
    },
  },
  template: `
    <div class="sfj-row" :class="{'is-target': selected && editable, 'is-laned': row.lanes > 1}" :data-technician="row.name" :data-technician-id="row.id"
         @dragover="editable && $event.preventDefault()" @drop="$emit('drop-row', $event, row)" @click="$emit('tap-row', row)">
      <div class="sfj-rowhead">
        <span class="sfj-name"><b>{{ row.name }}</b><i v-if="row.skill" class="sfj-skill" :class="'is-' + row.skill" :title="labels['skill.' + row.skill] || row.skill"><span class="sfj-skill-long">{{ labels['skill.' + row.skill] || row.skill }}</span><span class="sfj-skill-short">{{ labels['skill_short.' + row.skill] || row.skill }}</span></i><i v-if="row.current" class="sfj-on" :title="labels.clocked_on">●</i></span>
        <span class="sfj-fig" data-fig="sold">{{ num(row.fig.sold) }}</span>
        <span class="sfj-fig" data-fig="worked">{{ num(row.fig.worked) }}</span>
        <span class="sfj-fig" data-fig="attended">{{ num(row.fig.attended) }}</span>
        <span class="sfj-pct" data-fig="productivity">{{ pct(row.fig.productivity) }}</span>
        <span class="sfj-pct" :class="{'is-capped': capped(row.fig.efficiency)}" data-fig="efficiency"
              :data-value="row.fig.efficiency ?? ''" :title="efficiencyTitle(row)">{{ efficiencyText(row.fig.efficiency) }}</span>
      </div>
      <div class="sfj-track">
        <span v-for="(g, i) in row.grey" :key="'g' + i" class="sfj-grey" :class="'is-' + g.kind" :style="{left: g.left + '%', width: g.width + '%'}" :title="labels[g.kind]"></span>
        <span v-for="h in marks" :key="'l' + h.m" class="sfj-gridline" :style="{left: h.left + '%'}"></span>
        <span v-for="b in row.planned" :key="b.key" class="sfj-plan"
              :class="['is-' + b.risk, {'is-selected': b.number === selected, 'is-done': b.done, 'is-busy': b.busy, 'is-current': b.current}]"
              :style="{left: b.left + '%', width: b.width + '%', '--lane': b.lane, '--lanes': row.lanes}" :data-number="b.number"
              :data-state="b.current ? 'current' : b.busy ? 'in_work' : b.done ? 'done' : 'planned'" :title="b.title"
              :draggable="editable" @dragstart="$emit('drag-card', $event, b.number)" @click.stop="$emit('tap-card', b.number)"><i v-if="b.done" class="sfj-check">✓</i><i v-if="b.current" class="sfj-cur">▶</i>{{ b.plate }}<small v-if="b.parts" class="sfj-bar-parts" data-testid="parts-bar"> · {{ b.parts }}</small></span>
        <span v-for="b in row.actual" :key="b.key" class="sfj-actual" :class="{'is-assumed': b.assumed, 'is-open': b.open}"
              :style="{left: b.left + '%', width: b.width + '%'}" :data-number="b.number" :data-clocking="b.clocking"
              :title="b.title" @click.stop="$emit('tap-actual', b)"></span>
      </div>
    </div>`,
};

export default wallBoard({
  components: { JobRow },
  template: `
    <div class="sfb sfj" :class="['sfj-' + density, {'is-editable': config.editable}]">
      <board-head :site="config.site" :title="labels.title" :date="config.date_label" :clock="clockText"></board-head>
      <div class="sfj-main">
        <div class="sfj-board">
          <div class="sfj-axis">
            <div class="sfj-rowhead sfj-colhead">
              <span class="sfj-name">{{ labels.technician }}</span>
              <span class="sfj-fig" :title="labels.sold">{{ labels.sold }}</span>
              <span class="sfj-fig" :title="labels.worked">{{ labels.worked }}</span>
              <span class="sfj-fig" :title="labels.attended">{{ labels.attended }}</span>
              <span class="sfj-pct"><b>{{ labels.productivity }}</b><small data-testid="productivity-formula">{{ labels.productivity_formula }}</small></span>
              <span class="sfj-pct"><b>{{ labels.efficiency }}</b><small data-testid="efficiency-formula">{{ labels.efficiency_formula }}</small></span>
            </div>
            <div class="sfj-hours">
              <span v-for="h in hourMarks" :key="h.m" class="sfj-hour" :style="{left: h.left + '%'}">{{ h.text }}</span>
            </div>
          </div>
          <div class="sfj-rows" ref="body">
            <job-row v-for="row in layout.rows" :key="row.id" :row="row" :marks="hourMarks" :labels="labels"
                     :editable="config.editable" :selected="selected" @tap-row="tapRow" @tap-card="tapCard"
                     @tap-actual="tapActual" @drag-card="drag" @drop-row="drop"></job-row>
            <div class="sfj-now" v-if="nowLeft !== null" :style="{left: 'calc(var(--sfj-head) + (100% - var(--sfj-head)) * ' + nowLeft / 100 + ')'}"><span>{{ clockText }}</span></div>
          </div>
        </div>
        <aside class="sfj-queue">
          <div class="sfj-queue-head">{{ labels.queue }} <b>{{ layout.queue.length }}</b></div>
          <div v-if="config.editable" class="sfj-hint">{{ selected ? fill(labels.selected, {number: selected}) : labels.tap_hint }}</div>
          <div class="sfj-queue-list">
            <div v-if="!layout.queue.length" class="sfj-empty">{{ labels.queue_empty }}</div>
            <div v-for="c in layout.queue" :key="c.key" class="sfj-card" :class="['is-' + c.risk, {'is-selected': c.number === selected}]"
                 data-testid="queue-card" :data-number="c.number" :data-plate="c.plate" :data-status="c.status"
                 :draggable="config.editable" @dragstart="drag($event, c.number)" @click="tapCard(c.number)">
              <div class="sfj-card-top"><span class="sfj-plate">{{ c.plate }}</span><span class="sfj-card-h">{{ num(c.waiting) }}{{ labels.hours }}</span></div>
              <div class="sfj-card-work">{{ c.work }}</div>
              <div class="sfj-card-bottom">
                <span v-if="c.promised" class="sfj-due">{{ labels.promised }} <b>{{ due(c) }}</b></span>
                <span v-for="f in c.flags" :key="f" class="sfj-flag" :class="'is-' + f" :title="labels['flag.' + f]">{{ labels['flag_short.' + f] }}</span>
                <span v-if="c.risk !== 'on_time'" class="sfj-risk" :class="'is-' + c.risk">{{ labels['risk.' + c.risk] }}</span>
                <span v-if="c.parts" class="sfj-flag" data-testid="parts-chip" :data-parts="c.parts"
                      :style="{background: c.parts === 'back_order' ? '#c2410c' : '#1d4ed8'}">{{ labels['parts.' + c.parts] }}{{ c.parts_eta ? ' ' + c.parts_eta : '' }}</span>
              </div>
              <button v-if="config.editable && c.number === selected" class="sfj-propose" data-testid="propose"
                      @click.stop="$emit('propose', {number: c.number})">{{ labels.propose }}</button>
            </div>
          </div>
        </aside>
      </div>
      <footer class="sfb-foot sfj-foot" data-testid="status-summary">
        <span class="sfj-foot-title">{{ labels.summary }}</span>
        <span v-for="s in summary" :key="s" class="sfj-foot-item" :data-status="s">{{ labels['status.' + s] }} <b>{{ counts[s] || 0 }}</b></span>
        <span v-for="r in ['at_risk', 'late']" :key="r" class="sfj-foot-item"><span class="sfj-risk" :class="'is-' + r">{{ labels['risk.' + r] }}</span> <b>{{ riskCounts[r] || 0 }}</b></span>
        <span class="sfb-foot-spacer"></span>
        <span class="sfj-legend"><i class="sfj-key-plan"></i>{{ labels.planned }}</span>
        <span class="sfj-legend"><i class="sfj-key-done">✓</i>{{ labels.line_done }}</span>
        <span class="sfj-legend"><i class="sfj-key-actual"></i>{{ labels.actual }}</span>
        <span class="sfj-legend"><i class="sfj-key-assumed"></i>{{ labels.assumed }}</span>
        <span class="sfj-legend"><i class="sfj-key-break"></i>{{ labels.break }}</span>
        <span class="sfj-legend"><i class="sfj-key-leave"></i>{{ labels.leave }}</span>
      </footer>
    </div>`,
  emits: ["assign", "propose", "confirm"],
  data() {
    return { rowsHeight: 900, selected: null, summary: SUMMARY };
  },
  computed: {
    dayStart() {
      // the site's midnight as epoch ms, whatever zone the screen's OS is set to
      return Date.parse(this.config.day + "T00:00:00Z") - this.config.tz_offset_min * 60000;
    },
    span() {
      return [this.dayStart + this.config.start_min * 60000, this.dayStart + this.config.end_min * 60000];
    },
    hourMarks() {
      const out = [];
      for (let m = this.config.start_min; m < this.config.end_min; m += 60) {
        out.push({ m, left: this.pos(this.dayStart + m * 60000), text: pad(Math.floor(m / 60)) + ":00" });
      }
      return out;
    },
    nowLeft() {
      const [a, b] = this.span;
      return this.nowMs >= a && this.nowMs <= b ? this.pos(this.nowMs) : null;
    },
    layout() {
      const rows = new Map();
      for (const t of Object.values(this.rows)) {
        if (!t.active) continue;
        rows.set(t.id, { ...t, fig: this.figures(t), grey: this.grey(t), planned: new Map(), actual: new Map() });
      }
      const queue = [];
      for (const c of Object.values(this.items)) {
        const waiting = c.lines.filter((l) => l.status === "waiting");
        if (c.status === "checked_in" || waiting.length) {
          queue.push({ ...c, waiting: waiting.length ? waiting.reduce((n, l) => n + l.h, 0) : c.hours });
        }
        for (const line of c.lines) {
          for (const [tech, s, e] of line.planned) {
            const row = rows.get(tech);
            if (!row || s === null || e === null) continue;
            const bar = this.planBar(row, c, s, e);
            bar.h += line.h / Math.max(line.techs.length, 1);
            bar.work.push(line.d);
            // a bar is done only when every line in it is: one line still to do keeps the order's bar live
            bar.done = bar.done && line.status === "done";
          }
          for (const [tech, s, e, clocking, assumed] of line.clocked) {
            const row = rows.get(tech);
            if (!row || s === null) continue;
            row.actual.set(clocking, { clocking, number: c.number, plate: c.plate, s, e: e ?? this.nowMs, open: e === null, assumed });
            if (e === null && line.status === "in_progress") {
              // in work: drawn from its clocking up to now whatever its plan says (a plan laid before today's
              // first hour, or on an earlier day, would otherwise leave the car off the row)
              const bar = this.planBar(row, c, s, this.nowMs);
              if (!bar.work.includes(line.d)) {
                bar.work.push(line.d);
                bar.h += line.h / Math.max(line.techs.length, 1);
              }
              bar.busy = true;
              bar.done = false;
            }
          }
        }
      }
      for (const row of rows.values()) {
        // the job the technician is clocked on (TechnicianState.current_job), even if no line of it reached the row
        if (!row.current) continue;
        const c = Object.values(this.items).find((x) => x.number === row.current);
        let bar = row.planned.get(row.current);
        if (!bar && row.since_ms !== null) bar = this.planBar(row, c || { number: row.current, plate: row.current, risk: "on_time" }, row.since_ms, this.nowMs);
        if (!bar) continue;
        bar.busy = true;
        bar.current = true;
        bar.done = false;
      }
      const out = [];
      const kept = new Map();
      for (const row of rows.values()) {
        row.planned = this.place([...row.planned.values()], (b) => this.planTitle(b));
        row.lanes = lanes(row.planned);
        row.actual = this.place([...row.actual.values()], (b) => `${b.number} ${this.time(b.s)}–${b.open ? "" : this.time(b.e)}`);
        const sig = JSON.stringify(row);
        const before = this.shownRows.get(row.id);
        const same = before && before.sig === sig ? before.row : row;
        kept.set(row.id, { sig, row: same });
        out.push(same);
      }
      this.shownRows = kept;
      out.sort((a, b) => (Number(a.id) || 0) - (Number(b.id) || 0));
      queue.sort(byQueue);
      return { rows: out, queue };
    },
    density() {
      const h = this.rowsHeight / Math.max(this.layout.rows.length, 1);
      return h >= 52 ? "roomy" : h >= 34 ? "normal" : "tight";
    },
    counts() {
      const out = {};
      for (const c of Object.values(this.items)) out[c.status] = (out[c.status] || 0) + 1;
      return out;
    },
    riskCounts() {
      const out = {};
      for (const c of Object.values(this.items)) if (c.status !== "ready") out[c.risk] = (out[c.risk] || 0) + 1;
      return out;
    },
  },
  methods: {
    pos(ms) {
      const [a, b] = this.span;
      return ((Math.min(Math.max(ms, a), b) - a) / (b - a)) * 100;
    },
    planBar(row, c, s, e) {
      // the order's one planned bar on this row, widened to [s, e]
      const bar = row.planned.get(c.number) || { number: c.number, plate: c.plate, risk: c.risk, s, e, h: 0, work: [],
        parts: c.parts === "back_order" ? partsText(this.labels, c) : "", done: true, busy: false, current: false };
      bar.s = Math.min(bar.s, s);
      bar.e = Math.max(bar.e, e);
      row.planned.set(c.number, bar);
      return bar;
    },
    planTitle(b) {
      const state = b.current ? this.labels.current_job : b.busy ? this.labels.in_work : b.done ? this.labels.line_done : "";
      return `${b.number} ${b.work.join(" · ")} · ${num(b.h)}${this.labels.hours}${state ? " · " + state : ""}`;
    },
    place(bars, title) {
      // a car in work is never left off: before the day's hours it is a stub at the start of the day
      const [a, b] = this.span;
      return bars.filter((x) => overlap(x.s, x.e, a, b) > 0 || ((x.open || x.busy) && x.s <= b))
        .map((x) => ({ ...x, key: x.clocking ?? x.number, left: Math.min(this.pos(x.s), x.busy ? 100 - BUSY_MIN_WIDTH : 100),
          width: Math.max(this.pos(x.e) - this.pos(x.s), x.busy ? BUSY_MIN_WIDTH : 0.25), title: title(x) }));
    },
    grey(t) {
      // outside the shift, the break and leave: greyed as on the paper board
      const [a, b] = this.span;
      const out = [];
      const add = (s, e, kind) => { if (e > s && overlap(s, e, a, b) > 0) out.push({ kind, left: this.pos(s), width: this.pos(e) - this.pos(s) }); };
      if (t.day !== this.config.day || !t.shift) {
        add(a, b, "off");
        return out;
      }
      add(a, t.shift[0], "off");
      add(t.shift[1], b, "off");
      for (const [s, e] of t.breaks) add(s, e, "break");
      for (const [s, e] of t.leave) add(s, e, "leave");
      return out;
    },
    figures(t) {
      // as of the state's as_of, plus the time since: clocked-on time counts as worked and attended, the
      // shift's working time as attended
      if (t.day !== this.config.day || t.as_ms === null) return { sold: 0, worked: 0, attended: 0, productivity: null, efficiency: null };
      const since = Math.max(this.nowMs - t.as_ms, 0);
      let worked = t.f.worked;
      let attended = t.f.attended;
      if (t.current && t.since_ms !== null) {
        const on = Math.max(this.nowMs - Math.max(t.as_ms, t.since_ms), 0);
        worked += on / HOUR;
        attended += Math.max(on, t.working.reduce((n, [s, e]) => n + overlap(s, e, t.as_ms, this.nowMs), 0)) / HOUR;
      } else if (since > 0) {
        attended += t.working.reduce((n, [s, e]) => n + overlap(s, e, t.as_ms, this.nowMs), 0) / HOUR;
      }
      const round = (x, step) => Math.round(x / step) * step;
      return {
        sold: t.f.sold, worked: round(worked, 0.1), attended: round(attended, 0.1),
        productivity: attended > 0 ? round(worked / attended, 0.01) : null,
        efficiency: t.f.efficiency ?? (t.f.fworked > 0 ? round(t.f.finished / t.f.fworked, 0.01) : null),
      };
    },
    num,
    pct,
    time(ms) {
      const d = new Date(ms + this.config.tz_offset_min * 60000);
      return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
    },
    due(c) {
      return c.promised_date && c.promised_date !== this.config.day ? c.promised_date.slice(5) + " " + c.promised : c.promised;
    },
    tapCard(number) {
      if (!this.config.editable) return;
      this.selected = this.selected === number ? null : number;
    },
    tapRow(row) {
      if (!this.config.editable || !this.selected) return;
      this.$emit("assign", { number: this.selected, technician: row.id });
      this.selected = null;
    },
    tapActual(bar) {
      if (this.config.editable && bar.assumed) this.$emit("confirm", { clocking: bar.clocking });
    },
    drag(e, number) {
      if (!this.config.editable) return;
      e.dataTransfer.setData("text/plain", number);
      e.dataTransfer.effectAllowed = "move";
      this.selected = number;
    },
    drop(e, row) {
      if (!this.config.editable) return;
      e.preventDefault();
      const number = e.dataTransfer.getData("text/plain") || this.selected;
      if (number) this.$emit("assign", { number, technician: row.id });
      this.selected = null;
    },
    measure() {
      const body = this.$refs.body;
      if (body) this.rowsHeight = body.clientHeight || this.rowsHeight;
    },
  },
  created() {
    this.shownRows = new Map(); // not reactive: what each row last drew, by technician
  },
  mounted() {
    installStyle();
  },
});
