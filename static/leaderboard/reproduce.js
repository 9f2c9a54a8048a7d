// A "Copy" button on each command of the "Reproduce these numbers" boxes. Without
// JavaScript (or a clipboard) the commands stay plain selectable text.
(function () {
  "use strict";
  if (window.reproduceCopyReady || !navigator.clipboard) {
    return;
  }
  window.reproduceCopyReady = true;

  function addButton(block) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = "Copy";
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(block.textContent.trim()).then(
        function () { button.textContent = "Copied"; },
        function () { button.textContent = "Select and copy by hand"; }
      );
    });
    block.before(button);
  }

  function init() {
    document.querySelectorAll("pre[data-copy]").forEach(addButton);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
