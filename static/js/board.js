// The crisis board: its blocks poll every 30 s (htmx, hx-trigger on each block). Polls pause
// while the tab is hidden and every block refreshes once when it shows again; choosing a
// date in the filters selects the period "Dates".
(function () {
  "use strict";
  document.addEventListener("htmx:beforeRequest", function (event) {
    const source = event.detail && event.detail.elt;
    if (document.hidden && source && source.matches && source.matches("[data-board-poll]")) {
      event.preventDefault();
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) return;
    document.querySelectorAll("[data-board-poll]").forEach(function (block) {
      window.htmx.trigger(block, "board:refresh");
    });
  });
  document.addEventListener("change", function (event) {
    const input = event.target;
    if (!input.matches || !input.matches(".board-filters input[type=date]") || !input.value) return;
    const period = input.form && input.form.elements.namedItem("range");
    if (period) period.value = "custom";
  });
})();
