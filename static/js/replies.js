// Replies (drafts slice): the draft editor counts characters as you type (the server counts
// again on every save), and the approval queue's live refresh waits while an approver is
// editing or writing a comment in it; its SLA countdowns tick each second.
(function () {
  "use strict";
  if (window.calmaRepliesLoaded) return;
  window.calmaRepliesLoaded = true;

  // Characters as the server counts them (code points, not UTF-16 units).
  const length = (text) => Array.from(text.replace(/\r\n/g, "\n")).length;

  function count(area) {
    const target = document.getElementById(area.dataset.countTarget || "");
    if (target) target.textContent = String(length(area.value));
    const limit = parseInt(area.dataset.limit || "", 10);
    const status = area.form && area.form.querySelector("[data-over-limit]");
    if (status && !Number.isNaN(limit)) status.hidden = length(area.value) <= limit;
  }

  document.addEventListener("input", (event) => {
    if (event.target.matches && event.target.matches("textarea[data-reply-text]")) count(event.target);
  });
  // After an autosave swapped the status in, count what is in the box now.
  document.addEventListener("htmx:afterSwap", () => {
    document.querySelectorAll("textarea[data-reply-text]").forEach(count);
  });

  const queue = document.getElementById("approval-list");
  if (!queue) return;
  const typing = (el) => el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));

  // Never replace the list under someone's hands: an open "edit and approve" or "send back",
  // or a focused field, holds the refresh until they are done.
  queue.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.elt !== queue) return;
    const busy = queue.querySelector("details[open]") || (queue.contains(document.activeElement) && typing(document.activeElement));
    if (busy) event.preventDefault();
  });

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
    queue.querySelectorAll("[data-due]").forEach((el) => {
      const seconds = Math.round((Date.parse(el.dataset.due) - now) / 1000);
      if (Number.isNaN(seconds)) return;
      el.textContent = countdown(seconds);
      if (seconds <= 0) el.classList.add("sla-breached");
    });
  }

  queue.addEventListener("htmx:afterSettle", tick);
  tick();
  setInterval(tick, 1000);
})();
