// Draws the model page's history: one figure, a panel per benchmark, from the JSON view named
// by the container; as many columns of panels as the container's width leaves room for.
(function () {
  "use strict";
  var container = document.getElementById("history-charts");
  if (!container || typeof Plotly === "undefined") { return; }
  var width = container.clientWidth;
  var columns = width >= 1400 ? 4 : width >= 900 ? 3 : width >= 560 ? 2 : 1;
  var url = container.dataset.url + "?columns=" + columns;
  fetch(url, { headers: { "Accept": "application/json" } })
    .then(function (response) { return response.json(); })
    .then(function (data) {
      container.textContent = "";
      if (!data.figure) {
        container.textContent = "No measurements or claims to plot yet.";
        return;
      }
      var box = document.createElement("div");
      box.className = "chart";
      box.dataset.benchmarks = data.benchmarks.map(function (panel) { return panel.benchmark; }).join(" ");
      container.appendChild(box);
      Plotly.newPlot(box, data.figure.data, data.figure.layout, { responsive: true, displaylogo: false });
    })
    .catch(function () { container.textContent = "The charts could not be loaded."; });
})();
