// The job control board (服务进程控制看板), drawn entirely in the browser.
// Props: init (JSON {cards: {key: repair-order card}, rows: {technicianId: row}}), labels, config (clock).
// The server then calls upsert(card) / remove(key) / upsertRow(row) / removeRow(id).
// Every card carries data-plate / data-status: stable hooks for browser tests.

import { wallBoard } from "wall_board";

const ROWHEAD = 250; // px
const COLUMNS = ["dispatched", "in_progress", "on_hold", "quality_check", "ready"];
const WAITING = "checked_in";
const PER_LINE = 2; // cards side by side in one technician's cell
const WAITING_CARD = 200; // px, card width in the waiting row

function byPromise(a, b) {
  return (a.promised_ms ?? Infinity) - (b.promised_ms ?? Infinity) || (a.number < b.number ? -1 : 1);
}

export default wallBoard({
  template: `
    <div class="sfb sfb-jcb" :class="'sfb-jcb-' + density" :style="{'--sfb-rowhead': rowhead + 'px', '--sfb-card-h': cardHeight + 'px'}">
      <board-head :site="config.site" :title="labels.title" :date="config.date_label" :clock="clockText"></board-head>
      <div class="sfb-jcb-grid">
        <div class="sfb-jcb-cols">
          <div class="sfb-jcb-corner">{{ labels.technician }}</div>
          <div v-for="s in columns" :key="s" class="sfb-jcb-col" :class="'sfb-col-' + s">
            {{ labels['status.' + s] }}<span class="sfb-count">{{ counts[s] || 0 }}</span>
          </div>
        </div>
        <div class="sfb-jcb-rows" ref="body">
          <div class="sfb-jcb-row is-waiting" :style="{flex: layout.waitingLines + ' 1 0'}">
            <div class="sfb-jcb-rowhead">
              <div class="sfb-jcb-rowhead-top"><span class="sfb-rowhead-name">{{ labels.waiting }}</span></div>
              <span class="sfb-rowhead-sub">{{ fill(labels.load, {count: layout.waiting.length, hours: hours(layout.waiting)}) }}</span>
            </div>
            <div class="sfb-jcb-cells">
              <div class="sfb-jcb-cell is-wide sfb-col-checked_in">
                <div v-for="c in layout.waiting" :key="c.key" class="sfb-ro-card" :data-plate="c.plate" :data-status="c.status" :data-key="c.key">
                  <div class="sfb-ro-top"><span class="sfb-plate" :class="{'is-nev': c.plate.length === 8}">{{ c.plate.slice(0, 2) }}<span class="sfb-dot">·</span>{{ c.plate.slice(2) }}</span><span class="sfb-ro-work-inline">{{ c.work }}</span></div>
                  <div class="sfb-ro-work">{{ c.work }}</div>
                  <div class="sfb-ro-bottom"><span v-if="c.promised" class="sfb-due" :class="{'is-overdue': overdue(c)}">{{ labels.promised }} <b>{{ due(c) }}</b></span><span v-if="c.advisor_code" class="sfb-adv">{{ c.advisor_code }}</span></div>
                </div>
              </div>
            </div>
          </div>
          <div v-for="row in layout.rows" :key="row.id" class="sfb-jcb-row" :style="{flex: row.lines + ' 1 0'}" :data-technician="row.name">
            <div class="sfb-jcb-rowhead">
              <div class="sfb-jcb-rowhead-top">
                <span class="sfb-rowhead-name">{{ row.name }}</span>
                <span v-if="row.skill" class="sfb-skill" :class="'is-' + row.skill">{{ labels['skill.' + row.skill] || row.skill }}</span>
              </div>
              <span class="sfb-rowhead-sub">{{ row.count ? fill(labels.load, {count: row.count, hours: row.hours}) : labels.empty_row }}</span>
            </div>
            <div class="sfb-jcb-cells">
              <div v-for="s in columns" :key="s" class="sfb-jcb-cell" :class="'sfb-col-' + s">
                <div v-for="c in row.cells[s]" :key="c.key" class="sfb-ro-card" :data-plate="c.plate" :data-status="c.status" :data-key="c.key">
                  <div class="sfb-ro-top"><span class="sfb-plate" :class="{'is-nev': c.plate.length === 8}">{{ c.plate.slice(0, 2) }}<span class="sfb-dot">·</span>{{ c.plate.slice(2) }}</span><span class="sfb-ro-work-inline">{{ c.work }}</span></div>
                  <div class="sfb-ro-work">{{ c.work }}</div>
                  <div class="sfb-ro-bottom">
                    <span v-if="c.status === 'on_hold' && c.hold" class="sfb-hold">{{ labels['hold.' + c.hold] || c.hold }}</span>
                    <span v-else-if="c.promised" class="sfb-due" :class="{'is-overdue': overdue(c)}">{{ labels.promised }} <b>{{ due(c) }}</b></span>
                    <span v-if="c.advisor_code" class="sfb-adv">{{ c.advisor_code }}</span>
                  </div>
                </div>
              </div>
            </div>
          </div>
        </div>
      </div>
      <footer class="sfb-foot">
        <span class="sfb-foot-item"><span class="sfb-due is-overdue">{{ labels.overdue }}</span></span>
        <span class="sfb-foot-item" v-for="r in holds" :key="r"><span class="sfb-hold">{{ labels['hold.' + r] }}</span> <b>{{ holdCounts[r] || 0 }}</b></span>
        <span class="sfb-foot-spacer"></span>
      </footer>
    </div>`,
  data() {
    return {
      rowsHeight: 860,
      rowsWidth: 1920,
      rowhead: ROWHEAD,
      columns: COLUMNS,
      holds: ["waiting_parts", "waiting_approval", "other"],
    };
  },
  computed: {
    layout() {
      const rows = new Map();
      for (const t of Object.values(this.rows)) {
        if (t.active) rows.set(t.id, { id: t.id, name: t.name, skill: t.skill, cards: [] });
      }
      const waiting = [];
      for (const card of Object.values(this.items)) {
        if (card.status === WAITING || !card.tech) {
          waiting.push(card);
          continue;
        }
        if (!rows.has(card.tech)) rows.set(card.tech, { id: card.tech, name: card.tech_name, skill: "", cards: [] });
        rows.get(card.tech).cards.push(card);
      }
      waiting.sort(byPromise);
      const perWaitingLine = Math.max(Math.floor((this.rowsWidth - ROWHEAD) / (WAITING_CARD + 6)), 1);
      const out = [];
      for (const row of rows.values()) {
        const cells = {};
        for (const s of COLUMNS) cells[s] = [];
        for (const card of row.cards) (cells[card.status] || cells.in_progress).push(card);
        for (const s of COLUMNS) cells[s].sort(byPromise);
        row.cells = cells;
        row.count = row.cards.length;
        row.hours = this.hours(row.cards);
        row.lines = Math.max(1, ...COLUMNS.map((s) => Math.ceil(cells[s].length / PER_LINE)));
        out.push(row);
      }
      out.sort((a, b) => (Number(a.id) || 0) - (Number(b.id) || 0) || String(a.name).localeCompare(String(b.name)));
      const waitingLines = Math.max(1, Math.ceil(waiting.length / perWaitingLine));
      const lines = waitingLines + out.reduce((n, r) => n + r.lines, 0);
      return { rows: out, waiting, waitingLines, lines };
    },
    lineHeight() {
      return this.rowsHeight / Math.max(this.layout.lines, 1);
    },
    cardHeight() {
      return Math.min(Math.floor(this.lineHeight - 8), 104);
    },
    density() {
      // how much a card says: plate, work, due time; plate and due; the plate alone
      return this.lineHeight >= 92 ? "full" : this.lineHeight >= 64 ? "compact" : "tiny";
    },
    counts() {
      const out = {};
      for (const card of Object.values(this.items)) out[card.status] = (out[card.status] || 0) + 1;
      return out;
    },
    holdCounts() {
      const out = {};
      for (const card of Object.values(this.items)) if (card.status === "on_hold") out[card.hold] = (out[card.hold] || 0) + 1;
      return out;
    },
  },
  methods: {
    hours(cards) {
      const h = cards.reduce((n, c) => n + (c.hours || 0), 0);
      return Math.round(h * 10) / 10;
    },
    overdue(card) {
      return card.promised_ms !== null && card.status !== "ready" && card.promised_ms < this.nowMs;
    },
    due(card) {
      // another day's promise says which day
      return card.promised_date && card.promised_date !== this.site.day ? card.promised_date.slice(5) + " " + card.promised : card.promised;
    },
    measure() {
      const rows = this.$refs.body;
      if (!rows) return;
      this.rowsHeight = rows.clientHeight || this.rowsHeight;
      this.rowsWidth = rows.clientWidth;
    },
  },
});
