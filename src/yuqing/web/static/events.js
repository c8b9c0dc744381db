// Draws the event page's volume chart and propagation graph with ECharts when it is installed.
// Data comes from the page's <script type="application/json" id="event-data"> block; crawled
// text is only ever used as data (canvas labels, rich-text tooltips), never as HTML or code.
(function () {
  "use strict";
  var holder = document.getElementById("event-data");
  if (!holder || typeof window.echarts === "undefined") {
    return;
  }
  var data = JSON.parse(holder.textContent);
  var labels = data.labels;

  function show(id) {
    var element = document.getElementById(id);
    element.hidden = false;
    return window.echarts.init(element, null, { renderer: "canvas" });
  }

  var points = data.volume.points;
  if (points.length) {
    var volume = show("volume-chart");
    var metric = function (name) {
      return { name: labels[name], type: "line", yAxisIndex: 1, showSymbol: false,
               data: points.map(function (p) { return [p.at, p[name]]; }) };
    };
    volume.setOption({
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0 },
      grid: { left: 50, right: 70, top: 40, bottom: 30 },
      xAxis: { type: "time" },
      yAxis: [{ type: "value", name: labels.items, minInterval: 1 }, { type: "value" }],
      series: [
        { name: labels.items, type: "bar", data: points.map(function (p) { return [p.at, p.items]; }) },
        metric("views"), metric("reposts"), metric("comments"), metric("likes")
      ]
    });
    window.addEventListener("resize", function () { volume.resize(); });
  }

  var graph = data.graph;
  if (graph.nodes.length) {
    var chart = show("propagation-graph");
    var styles = {
      copy: { type: "solid", width: 2, opacity: 0.9 },
      story: { type: "dashed", width: 1.5, opacity: 0.8 },
      event: { type: "dotted", width: 1, opacity: 0.5 }
    };
    chart.setOption({
      tooltip: {
        renderMode: "richText",
        formatter: function (params) {
          if (params.dataType === "edge") {
            return labels[params.data.kind] || "";
          }
          var node = params.data;
          return [node.name, node.site, node.at ? node.at.slice(0, 16).replace("T", " ") : "", node.grade]
            .filter(Boolean).join("\n");
        }
      },
      legend: { data: graph.categories, top: 0 },
      series: [{
        type: "graph",
        layout: "force",
        roam: true,
        draggable: true,
        force: { repulsion: 120, edgeLength: [40, 120] },
        edgeSymbol: ["none", "arrow"],
        edgeSymbolSize: 6,
        categories: graph.categories.map(function (name) { return { name: name }; }),
        data: graph.nodes.map(function (node) {
          return {
            id: node.id, name: node.name, site: node.site, at: node.at, grade: node.grade,
            category: node.category,
            symbolSize: (node.origin ? 26 : 10) + Math.min(24, Math.log10(1 + node.value) * 4),
            label: { show: node.origin, formatter: "{b}", width: 160, overflow: "truncate" }
          };
        }),
        links: graph.edges.map(function (edge) {
          return { source: edge.source, target: edge.target, kind: edge.kind, lineStyle: styles[edge.kind] };
        })
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
})();
