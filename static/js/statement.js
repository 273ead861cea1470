// Crisis statement (statement slice): the editor counts characters of the statement and of
// each channel's short text against its limit as you type (the server checks again on every
// save); "Insert into the reply" on the incident page puts the approved statement at the cursor
// of the reply being drafted and lets its autosave run; the next update's countdown ticks.
// Loaded by each partial that needs it (also when htmx swaps one in): installs once.
(function () {
  "use strict";
  if (window.calmaStatementLoaded) return;
  window.calmaStatementLoaded = true;

  // Characters as the server counts them (code points, not UTF-16 units).
  const length = (text) => Array.from(text.replace(/\r\n/g, "\n")).length;

  function countEditor(form) {
    const main = form.querySelector("textarea[data-statement-main]");
    if (!main) return;
    const mainCount = form.querySelector('[data-count-for="main"]');
    if (mainCount) mainCount.textContent = String(length(main.value));
    form.querySelectorAll("textarea[data-statement-channel]").forEach((area) => {
      const key = area.dataset.statementChannel;
      const own = area.value.trim();
      const count = length(own ? area.value : main.value);
      const target = form.querySelector(`[data-count-for="${CSS.escape(key)}"]`);
      if (target) target.textContent = String(count);
      const limit = parseInt(area.dataset.limit || "", 10);
      const over = form.querySelector(`[data-over-for="${CSS.escape(key)}"]`);
      const tooLong = !Number.isNaN(limit) && count > limit;
      if (over) over.hidden = !tooLong;
      // A channel the statement no longer fits needs its own text: show the channels' texts.
      const folded = area.closest("details");
      if (tooLong && folded) folded.open = true;
    });
  }

  function countAll() {
    document.querySelectorAll("form[data-statement-editor]").forEach(countEditor);
  }

  document.addEventListener("input", (event) => {
    const form = event.target.closest && event.target.closest("form[data-statement-editor]");
    if (form) countEditor(form);
  });
  document.addEventListener("htmx:afterSwap", countAll);

  // --- Insert the approved statement into the reply being drafted ---
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("[data-insert-statement]");
    if (!button) return;
    const text = button.dataset.insertStatement || "";
    const area = document.querySelector("textarea[data-reply-text]");
    if (!area) {
      const panel = button.closest(".crisis-panel");
      const missing = panel && panel.querySelector("[data-insert-missing]");
      if (missing) missing.hidden = false;
      return;
    }
    const start = area.selectionStart ?? area.value.length;
    const end = area.selectionEnd ?? start;
    const before = area.value.slice(0, start);
    const after = area.value.slice(end);
    const gapBefore = before && !/\s$/.test(before) ? " " : "";
    const gapAfter = after && !/^\s/.test(after) ? " " : "";
    const inserted = gapBefore + text + gapAfter;
    area.value = before + inserted + after;
    const cursor = before.length + inserted.length;
    area.focus();
    area.setSelectionRange(cursor, cursor);
    // The reply editor counts on "input" and saves on "change" (its htmx trigger).
    area.dispatchEvent(new Event("input", { bubbles: true }));
    area.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // --- The next update's countdown ---
  function countdown(seconds) {
    const left = Math.abs(seconds);
    const hours = Math.floor(left / 3600);
    const minutes = Math.floor((left % 3600) / 60);
    const secs = left % 60;
    return `${hours}:${String(minutes).padStart(2, "0")}:${String(secs).padStart(2, "0")}`;
  }

  function tick() {
    const now = Date.now();
    document.querySelectorAll("[data-statement-due]").forEach((el) => {
      const seconds = Math.round((Date.parse(el.dataset.statementDue) - now) / 1000);
      if (Number.isNaN(seconds)) return;
      const overdue = seconds <= 0;
      const label = overdue ? el.dataset.overdueLabel : el.dataset.leftLabel;
      el.textContent = `(${label || ""} ${countdown(seconds)})`;
      const line = el.closest(".statement-due");
      if (line) line.classList.toggle("statement-overdue", overdue);
    });
  }

  countAll();
  tick();
  setInterval(tick, 1000);
})();
