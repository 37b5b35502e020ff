// Keyboard-wedge QR scanners "type" the code and press Enter, a few milliseconds per key, into whatever
// has focus. This listener recognises such a burst anywhere on the page, takes the scanned text back out of
// a focused field, and hands it to the server as a `tag_scanned` event: no field to tap first.
(function () {
  // a vehicle's tag (SFT-) or a technician's badge (SFB-): a scan even from a scanner slower than SCAN_GAP_MS
  const TAG = /SF[TB]-[A-Z2-7]{24}/i;
  const SCAN_GAP_MS = 60; // people type slower than this between keys; scanners much faster
  const RESET_MS = 400;
  let buffer = "";
  let fast = true;
  let last = 0;

  function takeBackFromField(text) {
    const el = document.activeElement;
    if (!el || !("value" in el) || typeof el.value !== "string") return;
    const at = el.value.lastIndexOf(text);
    if (at < 0) return;
    el.value = el.value.slice(0, at) + el.value.slice(at + text.length);
    el.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener(
    "keydown",
    (e) => {
      if (e.isComposing || e.key === "Process") return; // Chinese IME input is never a scan
      const now = performance.now();
      const gap = now - last;
      last = now;
      if (gap > RESET_MS) {
        buffer = "";
        fast = true;
      }
      if (e.key === "Enter") {
        const text = buffer;
        buffer = "";
        const isScan = TAG.test(text) || (fast && text.length >= 6);
        fast = true;
        if (!isScan) return;
        e.preventDefault();
        e.stopPropagation();
        takeBackFromField(text);
        emitEvent("tag_scanned", text);
        return;
      }
      if (e.key.length !== 1 || e.ctrlKey || e.metaKey || e.altKey) return;
      if (buffer.length > 0 && gap > SCAN_GAP_MS) fast = false;
      buffer += e.key;
      if (buffer.length > 200) buffer = buffer.slice(-200);
    },
    true,
  );
})();
