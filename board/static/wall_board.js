// What the wall screens' Vue components share (appointment_board.js, progress_board.js, lounge_board.js): the
// props the server sets (board/components.py BoardView), the cards and rows it then upserts and removes one at a
// time, the site's wall clock, loading the new day at the site's midnight, and measuring the screen again when
// it changes size. A library of BoardView (its `dependencies`): NiceGUI puts it in the page's import map, and
// each component imports it by name ("wall_board").

export function pad(n) {
  return String(n).padStart(2, "0");
}

export function siteClock(config, ms) {
  // the site's wall clock, whatever zone the screen's own OS is set to
  const d = new Date(ms + config.tz_offset_min * 60000);
  return { day: d.toISOString().slice(0, 10), minutes: d.getUTCHours() * 60 + d.getUTCMinutes() };
}

// The header every board has: the site and the board's name, today's date (and what `slot` adds after it), the
// site's clock.
const BoardHead = {
  props: { site: String, title: String, date: String, clock: String },
  template: `
      <header class="sfb-head">
        <div class="sfb-head-title">
          <span class="sfb-site">{{ site }}</span>
          <span class="sfb-name">{{ title }}</span>
        </div>
        <div class="sfb-head-mid">
          <span class="sfb-date">{{ date }}</span>
          <slot></slot>
        </div>
        <span class="sfb-clock">{{ clock }}</span>
      </header>`,
};

// A board component from its own parts: `data(init)` gets the initial lists as parsed; the component's
// `measure()` runs once mounted and whenever the element with ref="body" changes size; its template draws the
// header as <board-head :site="config.site" :title="labels.title" :date="config.date_label" :clock="clockText">.
export function wallBoard({ data, computed, methods, mounted, unmounted, ...component }) {
  return {
    ...component,
    components: { BoardHead, ...(component.components || {}) },
    props: {
      init: String, // JSON {cards, rows, …}: read once; the server drops it after delivering the page
      labels: Object,
      config: Object,
    },
    data() {
      const init = this.init ? JSON.parse(this.init) : {};
      return {
        items: init.cards || {},
        rows: init.rows || {},
        skew: this.config.now_ms - Date.now(),
        nowMs: this.config.now_ms,
        ...(data ? data.call(this, init) : {}),
      };
    },
    computed: {
      site() {
        return siteClock(this.config, this.nowMs);
      },
      clockText() {
        return pad(Math.floor(this.site.minutes / 60)) + ":" + pad(this.site.minutes % 60);
      },
      ...computed,
    },
    methods: {
      upsert(card) {
        this.items[card.key] = card;
      },
      remove(key) {
        delete this.items[key];
      },
      upsertRow(row) {
        this.rows[row.id] = row;
      },
      removeRow(id) {
        delete this.rows[id];
      },
      fill(text, params) {
        return String(text || "").replace(/\{(\w+)\}/g, (m, k) => (k in params ? params[k] : m));
      },
      tick() {
        this.nowMs = Date.now() + this.skew;
        // a wall screen runs for weeks: at the site's midnight, load the new day
        if (this.site.day !== this.config.day) window.location.reload();
      },
      ...methods,
    },
    mounted() {
      this.measure();
      this.resizer = new ResizeObserver(() => this.measure());
      this.resizer.observe(this.$refs.body);
      this.timer = setInterval(() => this.tick(), 5000);
      if (mounted) mounted.call(this);
    },
    unmounted() {
      clearInterval(this.timer);
      if (this.resizer) this.resizer.disconnect();
      if (unmounted) unmounted.call(this);
    },
  };
}
