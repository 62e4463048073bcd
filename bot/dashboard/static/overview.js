// The Overview's charts, drawn by Chart.js (vendor/, MIT licence) from the page's own figures.
(function () {
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  function line(label, values, color, extra) {
    return Object.assign({ label: label, data: values, borderColor: color, backgroundColor: color }, extra || {});
  }
  function flat(value) { return data.labels.map(function () { return value; }); }
  new Chart(document.getElementById("growth"), {
    type: "bar",
    data: { labels: data.labels, datasets: [
      line("joined", data.joined, "#2e7d32"),
      line("left", data.left.map(function (n) { return -n; }), "#c62828"),
      line("net", data.net, "#1d2733", { type: "line" })
    ] },
    options: { scales: { x: { stacked: true } } }
  });
  new Chart(document.getElementById("opt-outs"), {
    type: "line",
    data: { labels: data.labels, datasets: [
      line("opt-out rate %", data.opt_out, "#1d2733", { spanGaps: true }),
      line("watch (0.5%)", flat(data.watch), "#f9a825", { borderDash: [6, 4], pointRadius: 0 }),
      line("at risk (2%)", flat(data.risk), "#c62828", { borderDash: [6, 4], pointRadius: 0 })
    ] },
    options: { scales: { y: { beginAtZero: true } } }
  });
  new Chart(document.getElementById("messages"), {
    type: "line",
    data: { labels: data.labels, datasets: [
      line("sent", data.sent, "#1565c0"),
      line("delivered", data.delivered, "#2e7d32"),
      line("clicks", data.clicks, "#8e24aa")
    ] },
    options: { scales: { y: { beginAtZero: true } } }
  });
})();
