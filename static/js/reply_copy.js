// Replies ready to copy: a button with data-copy-target="<textarea id>" copies the approved
// text to the clipboard and says so for a moment. Loaded by each send status partial (also
// when htmx swaps one in), so it installs its one document listener only once.
(function () {
  "use strict";
  if (window.calmaReplyCopy) return;
  window.calmaReplyCopy = true;
  const confirm = (button) => {
    const label = button.textContent;
    button.textContent = button.dataset.copiedLabel || label;
    setTimeout(() => { button.textContent = label; }, 2000);
  };
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-copy-target]");
    if (!button) return;
    const source = document.getElementById(button.dataset.copyTarget);
    if (!source) return;
    const text = source.value;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(() => confirm(button), () => {
        source.select();
      });
    } else {
      // Plain http: the text is selected so Ctrl+C copies it.
      source.focus();
      source.select();
      try { if (document.execCommand("copy")) confirm(button); } catch (error) { /* selected */ }
    }
  });
})();
