// Inbox keys: j/k move the cursor, Enter opens, a takes, e escalates, x selects (never while
// typing in a field or with the help open). The list refreshes every few seconds (htmx); the
// cursor, the selection and the focus survive each refresh. SLA countdowns tick each second.
(function () {
  "use strict";
  const list = document.getElementById("inbox-list");
  if (!list) return;
  const CURSOR_KEY = "calma.inbox.cursor";
  const selected = new Set();
  let cursor = sessionStorage.getItem(CURSOR_KEY);
  let focusedId = null;

  const typing = (el) => el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  const rows = () => Array.from(list.querySelectorAll("tr[data-incident]"));
  const currentRow = () => (cursor && list.querySelector(`tr[data-incident="${CSS.escape(cursor)}"]`)) || null;

  function paint() {
    rows().forEach((row) => {
      const isCurrent = row.dataset.incident === cursor;
      row.classList.toggle("is-current", isCurrent);
      if (isCurrent) row.setAttribute("aria-current", "true"); else row.removeAttribute("aria-current");
    });
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const index = all.indexOf(currentRow());
    const next = all[Math.min(all.length - 1, Math.max(0, index < 0 ? 0 : index + step))];
    cursor = next.dataset.incident;
    sessionStorage.setItem(CURSOR_KEY, cursor);
    paint();
    next.scrollIntoView({ block: "nearest" });
  }

  function press(selector) {
    const row = currentRow();
    const control = row && row.querySelector(selector);
    if (control) control.click();
  }

  function toggleSelection() {
    const box = currentRow() && currentRow().querySelector("[data-select]");
    if (!box) return;
    box.checked = !box.checked;
    box.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function restoreAfterRefresh() {
    list.querySelectorAll("[data-select]").forEach((box) => { box.checked = selected.has(box.value); });
    paint();
    if (focusedId) {
      const again = document.getElementById(focusedId);
      if (again) again.focus({ preventScroll: true });
      focusedId = null;
    }
    tick();
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(document.activeElement)) return;
    if (document.querySelector("dialog[open]")) return;
    const actions = { j: () => move(1), k: () => move(-1), x: toggleSelection, a: () => press("[data-take]"), e: () => press("[data-escalate]") };
    if (event.key === "Enter") {
      // A focused link or button does its own thing on Enter.
      const active = document.activeElement;
      if (active && active !== document.body && active.matches("a, button, summary")) return;
      const link = currentRow() && currentRow().querySelector("[data-open]");
      if (link) { window.location.assign(link.href); event.preventDefault(); }
      return;
    }
    if (actions[event.key]) { actions[event.key](); event.preventDefault(); }
  });

  list.addEventListener("change", (event) => {
    const box = event.target.closest("[data-select]");
    if (!box) return;
    if (box.checked) selected.add(box.value); else selected.delete(box.value);
  });

  list.addEventListener("click", (event) => {
    const row = event.target.closest("tr[data-incident]");
    if (row) { cursor = row.dataset.incident; sessionStorage.setItem(CURSOR_KEY, cursor); paint(); }
  });

  // Remember which control had the focus before htmx replaces the list, to give it back.
  list.addEventListener("htmx:beforeSwap", () => {
    const active = document.activeElement;
    focusedId = active && list.contains(active) && active.id ? active.id : null;
  });
  list.addEventListener("htmx:afterSwap", restoreAfterRefresh);
  list.addEventListener("htmx:afterSettle", restoreAfterRefresh);

  function countdown(seconds) {
    const sign = seconds < 0 ? "-" : "";
    const left = Math.abs(seconds);
    const hours = Math.floor(left / 3600);
    const minutes = Math.floor((left % 3600) / 60);
    const secs = left % 60;
    return `${sign}${hours}:${String(minutes).padStart(2, "0")}:${String(secs).padStart(2, "0")}`;
  }

  function tick() {
    const now = Date.now();
    list.querySelectorAll("[data-due]").forEach((el) => {
      const seconds = Math.round((Date.parse(el.dataset.due) - now) / 1000);
      if (Number.isNaN(seconds)) return;
      el.textContent = countdown(seconds);
      if (seconds <= 0) el.classList.add("sla-breached");
    });
  }

  paint();
  tick();
  setInterval(tick, 1000);
})();
