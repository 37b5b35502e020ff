// The customer lounge TV: each car's step towards pick-up, drawn entirely in the browser.
// Props: init (JSON {cards: {key: lounge card (masked plate, 王先生, status, step, waiting, promised)}}), labels,
// config. `promised` is the projected finish (the promise without one); once past it reads "soon" (cards.lounge_line).
// The server then calls upsert(card) / remove(key). Cards carry data-plate (the masked plate) / data-status.
// More cars than fit turn into pages that change every few seconds.

import { wallBoard } from "wall_board";

const STEPS = ["checked_in", "in_workshop", "quality_check", "ready"];
const ROW_H = 104; // px per car, gap included
const PAGE_SECONDS = 12;

export default wallBoard({
  template: `
    <div class="sfb sfb-lounge" :style="{'--sfb-row-h': (rowH - 14) + 'px'}">
      <board-head :site="config.site" :title="labels.title" :date="config.date_label" :clock="clockText"></board-head>
      <div class="sfb-lounge-body" ref="body">
        <div v-for="c in shown" :key="c.key" class="sfb-lounge-card" :data-plate="c.plate_masked" :data-status="c.status" :data-key="c.key">
          <div class="sfb-lounge-id">
            <span class="sfb-plate" :class="{'is-nev': c.plate_masked.length === 9}">{{ c.plate_masked.slice(0, 2) }}<span class="sfb-dot">·</span>{{ c.plate_masked.slice(3) }}</span>
            <span class="sfb-lounge-name">{{ c.customer_masked }}</span>
          </div>
          <div class="sfb-steps">
            <div v-for="(s, i) in steps" :key="s" class="sfb-step" :class="{'is-done': i < c.step, 'is-current': i === c.step}">
              <span class="sfb-step-dot"></span>
              <span class="sfb-step-label">{{ labels['step.' + (i === 0 && c.waiting ? 'waiting' : s)] }}</span>
            </div>
          </div>
          <div v-if="c.status === 'ready'" class="sfb-lounge-when is-ready">{{ labels.ready_call }}</div>
          <div v-else-if="c.needs_customer" class="sfb-lounge-when is-needed">{{ labels.see_advisor }}</div>
          <div v-else-if="c.promised && c.promised_ms <= nowMs" class="sfb-lounge-when is-soon">{{ labels.soon }}</div>
          <div v-else class="sfb-lounge-when" :class="{'is-dated': isOtherDay(c)}"><template v-if="c.promised"><span>{{ labels.expected }}</span><b>{{ due(c) }}</b></template></div>
        </div>
        <div v-if="!ordered.length" class="sfb-empty">{{ labels.empty }}</div>
      </div>
      <footer class="sfb-foot">
        <span>{{ labels.hint }}</span>
        <span class="sfb-foot-spacer"></span>
        <span v-if="pages > 1" class="sfb-pages">
          <span v-for="p in pages" :key="p" class="sfb-page-dot" :class="{'is-on': p - 1 === page}"></span>
        </span>
      </footer>
    </div>`,
  data() {
    return {
      bodyHeight: 860,
      rowH: ROW_H,
      page: 0,
      steps: STEPS,
    };
  },
  computed: {
    ordered() {
      // cars ready for pick-up first (their owners are the ones to act), then by promised time
      return Object.values(this.items).sort(
        (a, b) =>
          (b.status === "ready") - (a.status === "ready") ||
          (a.promised_ms ?? Infinity) - (b.promised_ms ?? Infinity) ||
          (a.key < b.key ? -1 : 1),
      );
    },
    perPage() {
      return Math.max(Math.floor((this.bodyHeight - 44 + 14) / this.rowH), 1) * 2;
    },
    pages() {
      return Math.max(Math.ceil(this.ordered.length / this.perPage), 1);
    },
    shown() {
      const page = Math.min(this.page, this.pages - 1);
      return this.ordered.slice(page * this.perPage, (page + 1) * this.perPage);
    },
  },
  methods: {
    isOtherDay(card) {
      return Boolean(card.promised_date && card.promised_date !== this.site.day);
    },
    due(card) {
      if (!this.isOtherDay(card)) return card.promised;
      const next = new Date(Date.parse(this.site.day + "T00:00:00Z") + 86400000).toISOString().slice(0, 10);
      return (card.promised_date === next ? this.labels.tomorrow : card.promised_date.slice(5)) + " " + card.promised;
    },
    turnPage() {
      this.page = this.pages > 1 ? (this.page + 1) % this.pages : 0;
    },
    measure() {
      const body = this.$refs.body;
      if (body) this.bodyHeight = body.clientHeight || this.bodyHeight;
    },
  },
  mounted() {
    this.pager = setInterval(() => this.turnPage(), PAGE_SECONDS * 1000);
  },
  unmounted() {
    clearInterval(this.pager);
  },
});
