// Draws the claimed-vs-measured scatter from the figure embedded in the page; a click on a
// point opens that model's page (its URL is the point's customdata).
(function () {
  "use strict";
  var container = document.getElementById("scatter-chart");
  var source = document.getElementById("scatter-figure");
  if (!container || !source || typeof Plotly === "undefined") { return; }
  var figure;
  try {
    figure = JSON.parse(source.textContent);
  } catch (error) {
    container.textContent = "The chart could not be drawn; every point is in the table below.";
    return;
  }
  container.textContent = "";
  Plotly.newPlot(container, figure.data, figure.layout, { responsive: true, displaylogo: false })
    .then(function () {
      container.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        if (point && typeof point.customdata === "string" && point.customdata.charAt(0) === "/") {
          window.location.href = point.customdata;
        }
      });
    });
})();
