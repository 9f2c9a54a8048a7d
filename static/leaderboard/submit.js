// Changing the suite reloads the form with that suite's benchmarks, keeping what was typed.
(function () {
  "use strict";
  var suite = document.getElementById("id_suite");
  if (!suite) { return; }
  suite.addEventListener("change", function () {
    var params = new URLSearchParams();
    params.set("suite", suite.value);
    ["repo_id", "ref"].forEach(function (name) {
      var field = document.getElementById("id_" + name);
      if (field && field.value) { params.set(name, field.value); }
    });
    window.location.search = params.toString();
  });
})();
