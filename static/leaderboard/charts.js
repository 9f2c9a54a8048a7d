// Draws the model page's history charts from the JSON view named by the container.
(function () {
  "use strict";
  var container = document.getElementById("history-charts");
  if (!container || typeof Plotly === "undefined") { return; }
  fetch(container.dataset.url, { headers: { "Accept": "application/json" } })
    .then(function (response) { return response.json(); })
    .then(function (data) {
      container.textContent = "";
      if (!data.charts.length) {
        container.textContent = "No measurements or claims to plot yet.";
        return;
      }
      data.charts.forEach(function (chart) {
        var box = document.createElement("div");
        box.className = "chart";
        var title = document.createElement("h3");
        title.textContent = chart.title;
        container.appendChild(title);
        container.appendChild(box);
        Plotly.newPlot(box, chart.figure.data, chart.figure.layout, { responsive: true, displaylogo: false });
      });
    })
    .catch(function () { container.textContent = "The charts could not be loaded."; });
})();
