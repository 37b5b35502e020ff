// The bay station's running clock: an element with data-elapsed (seconds clocked on when the server drew it)
// counts on every second in the browser, so a station does not wake the server each second. Counted from when
// this page saw the value, not from the browser's wall clock, which may be wrong on a wall screen.
(function () {
  const seen = new WeakMap();
  function format(total) {
    const s = Math.max(0, Math.floor(total));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const x = s % 60;
    return h + ":" + String(m).padStart(2, "0") + ":" + String(x).padStart(2, "0");
  }
  setInterval(function () {
    const now = performance.now();
    document.querySelectorAll("[data-elapsed]").forEach(function (el) {
      const base = Number(el.getAttribute("data-elapsed"));
      if (!Number.isFinite(base)) return;
      let start = seen.get(el);
      if (!start || start.base !== base) {
        start = { base: base, at: now };
        seen.set(el, start);
      }
      el.textContent = format(base + (now - start.at) / 1000);
    });
  }, 1000);
})();
