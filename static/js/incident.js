// The incident page: "a" takes the incident (the button marked data-key="a"), and the
// first-response countdown ticks each second. Ignored while typing in a field, and when
// another handler already used the key.
(function () {
  "use strict";
  const typing = (el) => el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(document.activeElement) || document.querySelector("dialog[open]")) return;
    const button = document.querySelector(`button[data-key="${CSS.escape(event.key)}"]`);
    if (button && !button.disabled) { event.preventDefault(); button.disabled = true; button.form.requestSubmit(); }
  });
  const pad = (n) => String(n).padStart(2, "0");
  const tick = () => {
    document.querySelectorAll("[data-sla-due]").forEach((el) => {
      const due = Date.parse(el.dataset.slaDue);
      if (Number.isNaN(due)) return;
      const seconds = Math.round((due - Date.now()) / 1000);
      const left = Math.abs(seconds);
      el.querySelector("[data-sla-clock]").textContent = `${Math.floor(left / 3600)}:${pad(Math.floor(left % 3600 / 60))}:${pad(left % 60)}`;
      el.querySelector("[data-sla-left]").hidden = seconds < 0;
      el.querySelector("[data-sla-over]").hidden = seconds >= 0;
    });
  };
  tick();
  setInterval(tick, 1000);
})();
