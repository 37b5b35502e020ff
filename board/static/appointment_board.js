// The appointment management board (预约管理板), drawn entirely in the browser.
// Props: init (JSON {cards: {key: card}, rows: {advisorId: row}, capacity: {day: day}}), labels {name: text},
// config (clock, hours, the week's days). The server then calls upsert(card) / remove(key) / upsertRow(row) /
// removeRow(id) / upsertCapacity(day) / removeCapacity(day) as the bus changes.
// Stable hooks for browser tests: every card carries data-plate / data-status; the capacity strip is
// data-testid="capacity-strip", each technician data-technician / data-free, each class total data-skill /
// data-free / data-allocated, each week bar data-day / data-load ("" on a closed day, which has data-closed).

import { pad, wallBoard } from "wall_board";

const ROWHEAD = 230; // px
// As on the whiteboard, a magnet card sits in the hour column its appointment starts in, one hour wide, and
// the cards of one hour stack downwards in time order; the card itself says the minute.
const CELL = 60; // minutes
const MARKED = ["arrived", "late", "no_show", "cancelled"]; // statuses that get a magnet
const SKILLS = ["maintenance", "repair"]; // PM, GR: the strip's order
const WEEK_TOP = 1.25; // a week bar's full height is 125 % load, so overbooking still shows
// The capacity strip's height (px): full, or compact when the cards would get too thin (a lane below
// COMPACT_BELOW px with the full strip); the cards always keep the rest of the screen.
const STRIP = 176;
const STRIP_COMPACT = 128;
const COMPACT_BELOW = 28;

export default wallBoard({
  template: `
    <div class="sfb sfb-appt" :class="'sfb-density-' + density" :style="{'--sfb-rowhead': rowhead + 'px', '--sfb-hour': hourWidth + 'px'}">
      <board-head :site="config.site" :title="labels.title" :date="config.date_label" :clock="clockText">
        <span class="sfb-total">{{ fill(labels.count, {count: counts.total}) }}</span>
      </board-head>
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
              <span v-if="(c.card.flags || []).length" class="sfb-flags"><span v-for="f in c.card.flags" :key="f" class="sfb-flag" :class="'is-' + f" :data-flag="f">{{ labels['flag.' + f] }}</span></span>
              <div class="sfb-line1" :class="{'is-long': c.card.plate.length > 7}">{{ plateHead(c.card) }}<span class="sfb-dot">·</span>{{ plateTail(c.card) }}</div>
              <div v-if="density !== 's'" class="sfb-line2"><span class="sfb-time">{{ c.card.time }}</span>{{ c.card.customer }}</div>
              <div v-if="density === 'l'" class="sfb-line3">{{ c.card.work }}<span v-if="c.card.hours" class="sfb-bay">{{ fill(labels.hours_short, {hours: c.card.hours}) }}</span><span v-if="c.card.bay" class="sfb-bay">{{ labels.bay }}{{ c.card.bay }}</span></div>
            </div>
          </div>
        </div>
        <div v-if="nowPct !== null" class="sfb-now-layer">
          <div class="sfb-now-line" :style="{left: nowPct + '%'}"></div>
        </div>
        <div v-if="!counts.total" class="sfb-empty">{{ labels.empty }}</div>
      </div>
      <section v-if="hasCapacity" ref="strip" class="sfb-cap" :class="{'is-compact': compact}" data-testid="capacity-strip"
               :data-day="config.day" :style="{'flex-basis': (compact ? STRIP_COMPACT : STRIP) + 'px'}">
        <div class="sfb-cap-techs">
          <div class="sfb-cap-title">{{ labels['cap.technicians'] }}
            <span class="sfb-cap-legend">{{ narrow ? labels['cap.legend_narrow'] : labels['cap.legend'] }}</span>
            <template v-if="narrow"><span v-for="s in skills" :key="s" class="sfb-cap-skill" :class="'is-' + s">{{ labels['cap.skill.' + s] }}</span></template>
          </div>
          <div v-if="today && techs.length" class="sfb-cap-tech-grid" :class="{'is-dense': techRows > 2, 'is-narrow': narrow}"
               :style="{'grid-template-columns': 'repeat(' + techCols + ', minmax(0, 1fr))', 'grid-template-rows': 'repeat(' + techRows + ', minmax(0, 1fr))'}">
            <div v-for="t in techs" :key="t.id" class="sfb-cap-tech"
                 :class="['is-' + t.skill, {'is-over': t.free < 0, 'is-off': t.available <= 0 && t.allocated <= 0}]"
                 :data-technician="t.name" :data-free="t.free" :data-allocated="t.allocated" :data-available="t.available">
              <div class="sfb-cap-tech-top">
                <span v-if="!narrow" class="sfb-cap-skill" :class="'is-' + t.skill">{{ labels['cap.skill.' + t.skill] || t.skill }}</span>
                <span class="sfb-cap-tech-name">{{ t.name }}</span>
                <span class="sfb-cap-tech-free">{{ techFree(t) }}</span>
              </div>
              <div class="sfb-cap-tech-bottom">
                <div class="sfb-cap-bar">
                  <div class="sfb-cap-bar-fill" :style="{width: share(t.allocated, t.available, 1) * 100 + '%'}"></div>
                  <div v-if="t.available > 0" class="sfb-cap-bar-reserve" :style="{left: (1 - today.reserve_share) * 100 + '%'}"></div>
                </div>
                <span class="sfb-cap-tech-nums">{{ h(t.allocated) }}/{{ h(t.available) }}</span>
              </div>
            </div>
          </div>
          <div v-else class="sfb-cap-none">{{ labels['cap.no_data'] }}</div>
        </div>
        <div class="sfb-cap-totals">
          <div class="sfb-cap-title">{{ labels['cap.totals'] }}</div>
          <div class="sfb-cap-table">
            <span></span>
            <span class="sfb-cap-th">{{ labels['cap.available'] }}</span>
            <span class="sfb-cap-th">{{ labels['cap.allocated'] }}</span>
            <span class="sfb-cap-th">{{ labels['cap.bookable'] }}</span>
            <span class="sfb-cap-th">{{ labels['cap.reserved'] }}</span>
            <template v-for="s in skills" :key="s">
              <span class="sfb-cap-class" :class="'is-' + s" :data-skill="s" :data-free="total(s).free" :data-allocated="total(s).allocated"
                    :data-available="total(s).available" :data-reserved="total(s).reserved">{{ labels['cap.class.' + s] }}</span>
              <span class="sfb-cap-td">{{ today ? h(total(s).available) : labels['cap.no_day'] }}</span>
              <span class="sfb-cap-td">{{ today ? h(total(s).allocated) : labels['cap.no_day'] }}</span>
              <span class="sfb-cap-td is-free" :class="{'is-none': today && total(s).free <= 0}">{{ today ? h(total(s).free) : labels['cap.no_day'] }}</span>
              <span class="sfb-cap-td is-muted">{{ today ? h(total(s).reserved) : labels['cap.no_day'] }}</span>
            </template>
          </div>
          <div v-if="today" class="sfb-cap-held">
            <span class="sfb-cap-carried" :class="{'is-some': today.carried_over.cars > 0}" :data-cars="today.carried_over.cars" :data-hours="today.carried_over.hours">{{ fill(labels['cap.carried_over'], {count: today.carried_over.cars, hours: h(today.carried_over.hours)}) }}</span>
            <span class="sfb-cap-walkin" :data-cars="today.walk_in.cars" :data-hours="today.walk_in.hours">{{ fill(labels['cap.walk_in'], {count: today.walk_in.cars, hours: h(today.walk_in.hours)}) }}</span>
          </div>
        </div>
        <div class="sfb-cap-week">
          <div class="sfb-cap-title">{{ labels['cap.week'] }}</div>
          <div class="sfb-cap-days">
            <div v-for="d in week" :key="d.day" class="sfb-cap-day" :class="['is-' + d.level, {'is-today': d.day === config.day}]"
                 :data-day="d.day" :data-load="d.load === null ? '' : d.load" :data-closed="d.closed ? 'true' : null">
              <span class="sfb-cap-day-pct">{{ d.text }}</span>
              <div class="sfb-cap-day-bar">
                <div v-if="!d.closed" class="sfb-cap-day-fill" :style="{height: d.height + '%'}"></div>
                <div v-if="d.load !== null" class="sfb-cap-day-full" :style="{bottom: 100 / WEEK_TOP + '%'}"></div>
                <div v-if="d.reserveAt !== null" class="sfb-cap-day-reserve" :style="{bottom: d.reserveAt + '%'}"></div>
              </div>
              <span class="sfb-cap-day-label">{{ d.label }}</span>
              <span class="sfb-cap-day-date">{{ d.date }}</span>
            </div>
          </div>
        </div>
      </section>
      <footer class="sfb-foot">
        <span class="sfb-foot-item"><span class="sfb-swatch" style="background: var(--sfb-booked)"></span>{{ labels['status.booked'] }} <b>{{ counts.booked }}</b></span>
        <span class="sfb-foot-item"><span class="sfb-swatch" style="background: var(--sfb-confirmed)"></span>{{ labels['status.confirmed'] }} <b>{{ counts.confirmed }}</b></span>
        <span v-for="s in marks" :key="s" class="sfb-foot-item"><span class="sfb-magnet" :class="'is-' + s"></span>{{ labels['status.' + s] }} <b>{{ counts[s] }}</b></span>
        <span v-for="f in flagNames" :key="f" class="sfb-foot-item"><span class="sfb-flag" :class="'is-' + f">{{ labels['flag.' + f] }}</span>{{ labels['flag_name.' + f] }}</span>
        <span class="sfb-foot-spacer"></span>
      </footer>
    </div>`,
  data(init) {
    return {
      capacity: init.capacity || {},
      skills: SKILLS,
      WEEK_TOP,
      STRIP,
      STRIP_COMPACT,
      space: 880, // the body's height plus the strip's: what the two share
      bodyHeight: 880,
      rowhead: ROWHEAD,
      trackWidth: 1920 - ROWHEAD,
      marks: MARKED,
      flagNames: ["repeat_repair", "complaining_customer", "waiting_customer", "road_test"],
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
      for (const a of Object.values(this.rows)) {
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
    hasCapacity() {
      return Object.keys(this.capacity).length > 0;
    },
    compact() {
      // judged on the shared space, not on the body (whose height the decision itself changes)
      return (this.space - STRIP) / Math.max(this.layout.lanes, 1) < COMPACT_BELOW;
    },
    today() {
      return this.capacity[this.config.day] || null;
    },
    techs() {
      // semi-skilled (PM) first, then skilled (GR), each in the server's order: the grid reads like the totals
      const order = (t) => (SKILLS.includes(t.skill) ? SKILLS.indexOf(t.skill) : SKILLS.length);
      const list = this.today ? this.today.technicians.slice() : [];
      return list.map((t, i) => ({ t, i })).sort((a, b) => order(a.t) - order(b.t) || a.i - b.i).map((x) => x.t);
    },
    techRows() {
      const n = this.techs.length;
      return n <= 5 ? 1 : n <= 14 ? 2 : 3;
    },
    techCols() {
      return Math.max(Math.ceil(this.techs.length / this.techRows), 1);
    },
    narrow() {
      // more than four tiles a row leave no room for the class tag and the words: the tile's colour says the
      // class (legend in the title) and the free hours are a bare number, negative when overbooked
      return this.techCols > 4;
    },
    week() {
      return (this.config.week || []).map((w) => {
        const d = this.capacity[w.day];
        const out = { ...w, load: null, closed: false, height: 0, reserveAt: null, level: "none", text: this.labels["cap.no_day"] };
        if (!d) return out;
        out.closed = d.closed;
        out.load = d.load;
        if (d.closed) {
          out.level = "closed";
          out.text = d.holiday && d.holiday !== "holiday" ? d.holiday : this.labels["cap.closed"];
          return out;
        }
        const load = d.load || 0;
        out.height = (Math.min(load, WEEK_TOP) / WEEK_TOP) * 100;
        out.reserveAt = ((1 - (d.reserve_share || 0)) / WEEK_TOP) * 100;
        // past the sellable hours the walk-in reserve is being used; past 100 % the day is overbooked
        out.level = load > 1 ? "over" : load > 1 - (d.reserve_share || 0) ? "high" : "ok";
        out.text = Math.round(load * 100) + "%";
        return out;
      });
    },
    nowPct() {
      const m = this.site.minutes;
      if (m < this.config.open_min || m > this.config.close_min) return null;
      return ((m - this.config.open_min) / this.span) * 100;
    },
  },
  methods: {
    upsertCapacity(day) {
      this.capacity[day.day] = day;
    },
    removeCapacity(day) {
      delete this.capacity[day];
    },
    total(skill) {
      const zero = { available: 0, allocated: 0, free: 0, reserved: 0 };
      return (this.today && this.today.skills[skill]) || zero;
    },
    techFree(t) {
      if (t.available <= 0 && t.allocated <= 0) return this.labels["cap.off"];
      if (this.narrow) return t.free < 0 ? "−" + this.h(-t.free) : this.h(t.free);
      return t.free < 0 ? this.fill(this.labels["cap.over"], { hours: this.h(-t.free) }) : this.fill(this.labels["cap.free"], { hours: this.h(t.free) });
    },
    share(part, whole, cap) {
      if (whole <= 0) return part > 0 ? cap : 0;
      return Math.min(Math.max(part / whole, 0), cap);
    },
    h(hours) {
      // hours to one decimal, as on the whiteboard ("5.5"); 0.25 h shows as 0.3
      return (Math.round((Number(hours) || 0) * 10) / 10).toFixed(1);
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
    measure() {
      const body = this.$refs.body;
      if (!body) return;
      this.bodyHeight = body.clientHeight || this.bodyHeight;
      this.space = this.bodyHeight + (this.$refs.strip ? this.$refs.strip.offsetHeight : 0);
      this.trackWidth = Math.max(body.clientWidth - ROWHEAD, 100);
    },
  },
});
