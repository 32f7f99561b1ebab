/* immunoprecise dashboard: htmx settings and plotly charts (no inline scripts: strict CSP). */
(function () {
  "use strict";

  function renderFigures(root) {
    if (typeof window.Plotly === "undefined") {
      return;
    }
    root.querySelectorAll("[data-plotly-figure]").forEach(function (el) {
      if (el.dataset.rendered === "1") {
        return;
      }
      var figure = JSON.parse(el.dataset.plotlyFigure);
      el.dataset.rendered = "1";
      window.Plotly.newPlot(el, figure.data, figure.layout, {
        responsive: true,
        displaylogo: false,
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx) {
      /* figures travel as JSON in data attributes: htmx drops <script> elements
         (allowScriptTags is off) and the CSP allows no inline script */
      /* show error fragments (4xx/5xx) in the target instead of dropping them */
      window.htmx.config.responseHandling = [
        { code: "204", swap: false },
        { code: "[23]..", swap: true },
        { code: "[45]..", swap: true, error: true },
      ];
      window.htmx.config.allowEval = false;
      window.htmx.config.allowScriptTags = false;
    }
    renderFigures(document);
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    renderFigures(event.target);
  });
})();
