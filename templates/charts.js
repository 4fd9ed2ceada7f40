  // Self-check for viewers and tests: errors and drawn charts are recorded on <html>.
  var root = document.documentElement;
  var errors = [];
  window.addEventListener("error", function (e) { errors.push(String(e.message)); root.setAttribute("data-errors", errors.join(" | ")); });
  if (typeof Plotly === "undefined") { root.setAttribute("data-charts", "no plotly"); return; }
  // Corpus strings reach plotly as text, never as markup.
  function esc(s) { return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }
  var pending = [];
  var config = { displaylogo: false, responsive: true, displayModeBar: false };
  function plot(id, traces, layout) {
    if (!document.getElementById(id)) { return; }
    pending.push(Plotly.newPlot(id, traces, layout, config));
  }
  // Records the number of charts drawn once every plot has settled.
  function finish() {
    Promise.all(pending).then(function () {
      root.setAttribute("data-charts", String(pending.length));
      // benches/report/load.py opens the page as file.html#timing and reads this line.
      if (location.hash === "#timing") { console.log("embedscope-ready-ms " + Math.round(performance.now())); }
    }, function (e) { errors.push(String(e)); root.setAttribute("data-errors", errors.join(" | ")); });
  }
