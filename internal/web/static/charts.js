// Draws the console's charts with Apache ECharts. Each chart is a
// <figure class="chart" data-chart="{…}"> that the server wrote with the
// chart's description (internal/web/charts.go) and a table of the same
// figures; this script loads ECharts (served by cxloop) only on pages that
// have a chart, draws each into its .chart-area as SVG, and marks the
// figure "drawn", after which the table is kept for screen readers only.
(function () {
  "use strict";
  const me = document.currentScript;
  const colors = ["#2459d6", "#12b76a", "#f79009", "#7a5af8", "#d92d20", "#0e9384"];

  function esc(s) {
    return String(s).replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }
  function fmt(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "—";
    return Math.abs(v) >= 100 ? Math.round(v).toLocaleString("en") : (Math.round(v * 10) / 10).toLocaleString("en");
  }
  const narrow = () => window.innerWidth < 600;
  // The grid with everything (axis labels and names) inside the chart.
  const bounds = top => ({ left: 4, right: 16, top: top, bottom: 4, outerBoundsMode: "same", outerBoundsContain: "all" });
  const axisName = (name, vertical) => ({
    name: name || "", nameLocation: "middle", nameGap: vertical ? 38 : 28,
    nameTextStyle: { color: "#667085", fontSize: 12 },
  });

  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  // dayMonth is a time axis value as "8 Sep" (UTC, as the server dates points).
  function dayMonth(v) {
    const d = new Date(v);
    return d.getUTCDate() + " " + months[d.getUTCMonth()];
  }

  function trend(s) {
    const pts = s.points || [];
    const lo = pts.map(p => [p.t, p.lo ?? p.y]);
    const width = pts.map(p => [p.t, (p.hi ?? p.y) - (p.lo ?? p.y)]);
    const small = s.smallN || 0;
    const step = Math.max(1, Math.ceil(pts.length / (narrow() ? 4 : 9)));
    const ticks = pts.filter((_, i) => (pts.length - 1 - i) % step === 0).map(p => Date.parse(p.t));
    return {
      color: colors,
      grid: bounds(16),
      tooltip: {
        trigger: "axis",
        formatter: items => {
          const it = items.find(i => i.seriesIndex === 2);
          if (!it) return "";
          const p = pts[it.dataIndex];
          let h = "<b>" + esc(p.name || p.t) + "</b><br>" + esc(s.yName || "") + " " + esc(fmt(p.y));
          if (p.lo !== undefined && p.hi !== undefined) h += "<br>95% CI " + esc(fmt(p.lo)) + " to " + esc(fmt(p.hi));
          h += "<br>n = " + esc(p.n) + (small && p.n < small ? " (small sample)" : "");
          return h;
        },
      },
      // Ticks and labels on the points' own dates (every few, as room
      // allows), each a day and month ("8 Sep"): what a label names is a
      // point's period, never a date between two.
      // The first and last labels stay inside the grid's width, and the
      // lowest value's label above the axis: none meets another at a corner.
      xAxis: { type: "time", axisTick: { customValues: ticks }, axisLabel: { customValues: ticks, hideOverlap: true, fontSize: 11, formatter: dayMonth, alignMinLabel: "left", alignMaxLabel: "right" } },
      yAxis: Object.assign({ type: "value", min: s.yMin, max: s.yMax, axisLabel: { fontSize: 11, verticalAlignMinLabel: "bottom" } }, axisName(s.yName, true)),
      series: [
        { type: "line", data: lo, stack: "band", stackStrategy: "all", symbol: "none", lineStyle: { opacity: 0 }, silent: true, tooltip: { show: false } },
        { type: "line", data: width, stack: "band", stackStrategy: "all", symbol: "none", lineStyle: { opacity: 0 }, areaStyle: { color: colors[0], opacity: 0.14 }, silent: true, tooltip: { show: false } },
        {
          type: "line", name: s.yName, color: colors[0], symbolSize: 7,
          data: pts.map(p => ({ value: [p.t, p.y], symbol: small && p.n < small ? "emptyCircle" : "circle" })),
          markLine: s.zero ? { silent: true, symbol: "none", label: { show: false }, lineStyle: { color: "#98a2b3", type: "dashed" }, data: [{ yAxis: 0 }] } : undefined,
        },
      ],
    };
  }

  function bars(s) {
    return {
      color: colors,
      grid: bounds((s.series || []).length > 1 ? 40 : 16),
      legend: (s.series || []).length > 1 ? { type: "scroll", top: 0, textStyle: { fontSize: 12 } } : undefined,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: v => fmt(v) + (s.unit || "") },
      xAxis: Object.assign({ type: "category", data: s.categories, axisLabel: { interval: 0, fontSize: 11, hideOverlap: true } }, axisName(s.xName, false)),
      yAxis: Object.assign({ type: "value", min: s.yMin, max: s.yMax, axisLabel: { fontSize: 11 } }, axisName(s.yName, true)),
      series: (s.series || []).map(x => ({ type: "bar", name: x.name, data: x.values, barMaxWidth: 28 })),
    };
  }

  function scatter(s) {
    const cat = (cats, name, vertical, min, max) => cats
      ? Object.assign({ type: "category", data: cats, axisLabel: { fontSize: 11 }, splitLine: { show: true, lineStyle: { color: "#e4e7ec" } } }, axisName(name, vertical))
      : Object.assign({ type: "value", min: min, max: max, axisLabel: vertical ? { fontSize: 11, verticalAlignMinLabel: "bottom" } : { fontSize: 11, alignMinLabel: "left", alignMaxLabel: "right" }, scale: min === undefined }, axisName(name, vertical));
    const biggest = Math.max(1, ...(s.points || []).map(p => p.size || 0));
    const labelled = (s.points || []).some(p => p.label);
    const xs = (s.points || []).map(p => p.x), mid = (Math.min(...xs) + Math.max(...xs)) / 2;
    return {
      color: colors,
      grid: bounds(24),
      tooltip: {
        trigger: "item",
        formatter: it => {
          const p = s.points[it.dataIndex];
          const x = s.xCats ? p.xCat : fmt(p.x), y = s.yCats ? p.yCat : fmt(p.y);
          return "<b>" + esc(p.name) + "</b><br>" + esc(s.xName || "x") + ": " + esc(x) + "<br>" + esc(s.yName || "y") + ": " + esc(y) +
            (p.n ? "<br>n = " + esc(p.n) : "");
        },
      },
      xAxis: cat(s.xCats, s.xName, false, s.xMin, s.xMax),
      yAxis: cat(s.yCats, s.yName, true, s.yMin, s.yMax),
      series: [{
        type: "scatter",
        // Labels of points in the right half go on their left, inside the chart.
        data: (s.points || []).map(p => ({
          value: [s.xCats ? p.xCat : p.x, s.yCats ? p.yCat : p.y],
          label: s.xCats || p.label ? undefined : { position: p.x > mid ? "left" : "right" },
        })),
        symbolSize: (v, it) => {
          const p = s.points[it.dataIndex];
          return p.size ? 10 + 50 * Math.sqrt(p.size / biggest) : p.label ? 20 : 12;
        },
        itemStyle: { opacity: 0.75 },
        label: {
          show: true, position: s.xCats || labelled ? "inside" : "right", fontSize: 11, color: s.xCats || labelled ? "#fff" : "#1d2330",
          fontWeight: labelled ? "bold" : "normal",
          formatter: it => {
            const p = s.points[it.dataIndex];
            return s.xCats ? fmt(p.n || 0) : p.label || p.name;
          },
        },
        labelLayout: { moveOverlap: "shiftY", hideOverlap: true },
      }],
    };
  }

  const kinds = { trend, bars, scatter };

  function draw() {
    for (const fig of document.querySelectorAll("figure.chart[data-chart]")) {
      let spec;
      try { spec = JSON.parse(fig.dataset.chart); } catch (e) { continue; }
      const make = kinds[spec.kind];
      const area = fig.querySelector(".chart-area");
      if (!make || !area) continue;
      fig.classList.add("drawn"); // the area shows, so ECharts measures it
      const chart = window.echarts.init(area, null, { renderer: "svg" });
      chart.setOption(Object.assign({ animation: false }, make(spec)));
      if (narrow()) chart.setOption({ textStyle: { fontSize: 11 } });
      new ResizeObserver(() => chart.resize()).observe(area);
    }
  }

  function start() {
    if (!document.querySelector("figure.chart[data-chart]")) return;
    if (window.echarts) return draw();
    const s = document.createElement("script");
    s.src = me.dataset.echarts;
    s.onload = draw;
    document.head.appendChild(s);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
