// Polls the run's small JSON view while it is active and updates the page in place.
(function () {
  "use strict";
  var root = document.getElementById("run");
  if (!root || root.dataset.final === "true") { return; }
  var url = root.dataset.statusUrl;

  function text(id, value) {
    var node = document.getElementById(id);
    if (node) { node.textContent = value; }
  }

  function formatDuration(seconds) {
    if (seconds === null || seconds === undefined) { return "–"; }
    seconds = Math.floor(seconds);
    var minutes = Math.floor(seconds / 60), rest = seconds % 60;
    return minutes ? minutes + " min " + String(rest).padStart(2, "0") + " s" : rest + " s";
  }

  function update(status) {
    var state = document.querySelector("#run-state .state");
    if (state) {
      // The class and label the server renders (run_state.html): "refused" and "duplicate"
      // are failed and finished runs that evaluated nothing.
      state.className = "state state-" + status.shown_state;
      state.textContent = status.state_label;
    }
    var bar = document.getElementById("progress-bar");
    if (bar) { bar.style.width = status.progress_percent + "%"; }
    if (status.progress_total) {
      text("progress-text", status.progress_done + " of " + status.progress_total + " requests evaluated");
    } else if (status.state === "fetching") {
      text("progress-text", "Fetching the repository and checking its files…");
    }
    text("queue-position", status.queue_position ? "position " + status.queue_position + " in the queue" : "taken by a worker");
    text("run-duration", formatDuration(status.duration_seconds));
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (status) {
        update(status);
        if (status.final) { window.location.reload(); } else { setTimeout(poll, 1500); }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
