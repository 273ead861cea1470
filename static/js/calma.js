// Keyboard shortcuts: "?" opens the help, "g" then a letter follows a navigation link,
// "/" focuses the page's search box. Ignored while typing in a field.
(function () {
  "use strict";
  let awaitingGo = false;
  const typing = (el) => el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(document.activeElement)) return;
    const help = document.getElementById("shortcuts-help");
    if (event.key === "?") { help && help.showModal(); event.preventDefault(); return; }
    if (event.key === "/") {
      const search = document.querySelector("[data-search]");
      if (search) { search.focus(); event.preventDefault(); }
      return;
    }
    if (awaitingGo) {
      awaitingGo = false;
      const link = document.querySelector(`[data-shortcut="${CSS.escape(event.key)}"]`);
      if (link) { window.location.assign(link.href); event.preventDefault(); }
      return;
    }
    if (event.key === "g") { awaitingGo = true; setTimeout(() => { awaitingGo = false; }, 1500); }
  });
  document.addEventListener("click", (event) => {
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) closer.closest("dialog").close();
  });
})();
