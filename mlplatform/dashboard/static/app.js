// The dashboard's one script: hash routing for kfp.Client's links, the DAG (dagre) with live states, the charts (ECharts).
(function () {
  "use strict";
  const BASE = document.getElementById("app-script").dataset.base || "";
  const SVG = "http://www.w3.org/2000/svg";

  // kfp.Client prints <host>/#/runs/details/<id>; KFP's UI has the same routes for experiments and pipelines.
  const ROUTES = [
    [/^#\/runs\/details\/([\w-]+)/, (id) => `/runs/${id}`],
    [/^#\/experiments\/details\/([\w-]+)/, (id) => `/runs?experiment_id=${id}`],
    [/^#\/pipelines\/details\/([\w-]+)/, (id) => `/pipelines/${id}`],
  ];
  function route() {
    for (const [pattern, target] of ROUTES) {
      const match = location.hash.match(pattern);
      if (match) return location.replace(BASE + target(match[1]));
    }
    location.replace(BASE + "/runs");
  }

  // --- the DAG ------------------------------------------------------------------------------------
  const NODE_W = 180, NODE_H = 40;
  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const key in attrs) node.setAttribute(key, attrs[key]);
    if (parent) parent.appendChild(node);
    return node;
  }

  function Dag(container, graph) {
    this.container = container;
    this.graph = graph;
    this.expanded = new Set();
    this.selected = null;
  }

  // The leaf nodes an edge into (first) or out of (last) a node attaches to, given what is expanded.
  Dag.prototype.ends = function (node, first) {
    if (!node.children || !this.expanded.has(node.id) || !node.children.nodes.length) return [node.id];
    const level = node.children;
    const linked = new Set(level.edges.map((e) => (first ? e[1] : e[0])));
    return level.nodes.filter((n) => !linked.has(n.id)).flatMap((n) => this.ends(n, first));
  };

  Dag.prototype.addLevel = function (g, level, parent, byId) {
    for (const node of level.nodes) {
      byId[node.id] = node;
      const open = node.children && this.expanded.has(node.id);
      g.setNode(node.id, open ? { label: node.name, cluster: true } : { label: node.name, width: NODE_W, height: NODE_H });
      if (parent) g.setParent(node.id, parent);
      if (open) this.addLevel(g, node.children, node.id, byId);
    }
    for (const [from, to] of level.edges) {
      for (const a of this.ends(byId[from], false)) for (const b of this.ends(byId[to], true)) g.setEdge(a, b);
    }
  };

  Dag.prototype.draw = function () {
    const g = new dagre.graphlib.Graph({ compound: true });
    g.setGraph({ rankdir: "TB", nodesep: 24, ranksep: 36, marginx: 12, marginy: 12 });
    g.setDefaultEdgeLabel(() => ({}));
    const byId = {};
    this.addLevel(g, this.graph, null, byId);
    dagre.layout(g);
    const size = g.graph();
    const svg = el("svg", { width: size.width, height: size.height, viewBox: `0 0 ${size.width} ${size.height}`,
                            role: "group", "aria-label": "pipeline graph", class: "dag" });
    const clusters = el("g", {}, svg), edges = el("g", { class: "edges" }, svg), nodes = el("g", {}, svg);
    for (const id of g.nodes()) {
      const box = g.node(id), node = byId[id];
      if (box.cluster) {
        const group = el("g", { class: "cluster", "data-id": id }, clusters);
        el("rect", { x: box.x - box.width / 2, y: box.y - box.height / 2, width: box.width, height: box.height, rx: 6 }, group);
        const label = el("text", { x: box.x - box.width / 2 + 8, y: box.y - box.height / 2 + 14, class: "cluster-label" }, group);
        label.textContent = `▾ ${node.name} (${node.kind})`;
        this.interactive(group, node, `${node.name}, ${node.kind}, expanded: ${node.state}`);
        continue;
      }
      const group = el("g", { class: `node k-${node.kind} s-${node.state}`, "data-id": id, "data-state": node.state,
                              "data-name": node.name, transform: `translate(${box.x - NODE_W / 2},${box.y - NODE_H / 2})` }, nodes);
      el("rect", { width: NODE_W, height: NODE_H, rx: 6 }, group);
      const text = el("text", { x: 10, y: 17 }, group);
      text.textContent = (node.children ? "▸ " : "") + (node.name.length > 22 ? node.name.slice(0, 21) + "…" : node.name);
      const state = el("text", { x: 10, y: 32, class: "node-state" }, group);
      state.textContent = node.state.toLowerCase().replace("_", " ") + (node.children ? ` · ${node.kind}` : "");
      if (node.id === this.selected) group.classList.add("selected");
      this.interactive(group, node, `${node.name}: ${node.state}` + (node.children ? `, ${node.kind}, collapsed` : ""));
    }
    for (const edge of g.edges()) {
      const points = g.edge(edge).points;
      el("path", { d: "M" + points.map((p) => `${p.x},${p.y}`).join("L"), "marker-end": "url(#arrow)" }, edges);
    }
    const defs = el("defs", {}, svg);
    const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" }, defs);
    el("path", { d: "M0,0L10,5L0,10z" }, marker);
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.id : null;
    const { scrollLeft, scrollTop } = this.container;
    this.container.replaceChildren(svg);
    this.container.scrollLeft = scrollLeft;
    this.container.scrollTop = scrollTop;
    if (focused) { const again = svg.querySelector(`[data-id="${CSS.escape(focused)}"]`); if (again) again.focus({ preventScroll: true }); }
  };

  Dag.prototype.interactive = function (group, node, label) {
    group.setAttribute("tabindex", "0");
    group.setAttribute("role", "button");
    group.setAttribute("aria-label", label);
    const act = (event) => { event.stopPropagation(); this.activate(node); };
    group.addEventListener("click", act);
    group.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); act(event); } });
  };

  Dag.prototype.activate = function (node) {
    if (node.children) {
      if (this.expanded.has(node.id)) this.expanded.delete(node.id); else this.expanded.add(node.id);
      return this.draw();
    }
    this.selected = node.id;
    this.selectedState = node.state;
    this.draw();
    this.showTask(node);
  };

  Dag.prototype.showTask = function (node) {
    const panel = document.getElementById("task-panel");
    const url = this.container.dataset.taskUrl;
    if (!panel || !url) return;
    if (!node.task_id) { panel.innerHTML = `<h2>${escapeHtml(node.name)}</h2><p class="hint">Not started yet.</p>`; return; }
    fetch(url + node.task_id, { credentials: "same-origin" }).then((r) => r.text()).then((html) => {
      panel.innerHTML = html;
      drawCharts(panel);
    });
  };

  Dag.prototype.expandAll = function (level) {
    for (const node of level.nodes) if (node.children) { this.expanded.add(node.id); this.expandAll(node.children); }
  };

  Dag.prototype.find = function (id, level) {
    for (const node of (level || this.graph).nodes) {
      if (node.id === id) return node;
      const inner = node.children && this.find(id, node.children);
      if (inner) return inner;
    }
    return null;
  };

  Dag.prototype.poll = function () {
    const url = this.container.dataset.graphUrl;
    if (!url || this.container.dataset.finished === "true") return;
    const tick = () => fetch(url, { credentials: "same-origin" }).then((r) => r.json()).then((data) => {
      this.graph = data.graph;
      this.draw();
      updateRunHeader(data);
      const selected = this.selected && this.find(this.selected);
      if (selected && selected.state !== this.selectedState) { this.selectedState = selected.state; this.showTask(selected); }
      if (!data.finished) setTimeout(tick, 1500);
    }).catch(() => setTimeout(tick, 3000));
    setTimeout(tick, 1500);
  };

  function updateRunHeader(data) {
    const state = document.getElementById("run-state");
    if (state) { state.textContent = data.state; state.className = `state s-${data.state}`; }
    const counts = document.getElementById("counts");
    if (counts) counts.innerHTML = Object.keys(data.counts).sort().map(
      (s) => `<span class="state s-${s}">${data.counts[s]} ${s}</span>`).join(" ");
  }

  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  // --- charts -------------------------------------------------------------------------------------
  const PALETTE = ["#1d4ed8", "#b91c1c", "#047857", "#6b7280"];   // readable on white (WCAG AA)
  let echartsLoading = null;
  function withECharts(then) {
    if (window.echarts) return then();
    echartsLoading = echartsLoading || new Promise((resolve) => {
      const script = document.createElement("script");
      script.src = BASE + "/static/vendor/echarts.min.js";
      script.onload = resolve;
      document.head.appendChild(script);
    });
    echartsLoading.then(then);
  }

  function chart(element, option) {
    withECharts(() => {
      const instance = echarts.init(element, null, { renderer: "svg" });
      instance.setOption(Object.assign({ animation: false, textStyle: { fontSize: 13 }, color: PALETTE }, option));
      new ResizeObserver(() => instance.resize()).observe(element);
    });
  }

  function drawCharts(root) {
    root.querySelectorAll(".chart.roc").forEach((element) => {
      const points = JSON.parse(element.dataset.roc);
      chart(element, {
        tooltip: { trigger: "axis" }, grid: { left: 50, right: 20, top: 20, bottom: 40 },
        xAxis: { type: "value", name: "false positive rate", nameLocation: "middle", nameGap: 25, min: 0, max: 1 },
        yAxis: { type: "value", name: "true positive rate", min: 0, max: 1 },
        series: [{ type: "line", name: "ROC", showSymbol: false, data: points.map((p) => [p.fpr, p.tpr]) },
                 { type: "line", name: "chance", lineStyle: { type: "dashed", color: "#6b7280" }, showSymbol: false, data: [[0, 0], [1, 1]] }],
      });
    });
    const plot = root.querySelector("#plot-data");
    if (!plot) return;
    const data = JSON.parse(plot.textContent);
    objectiveChart(document.getElementById("objective-chart"), data);
    parallelChart(document.getElementById("parallel-chart"), data);
  }

  // Early-stopped trials are their own series (orange triangles, named in the legend), drawn only when there are some.
  function objectiveChart(element, data) {
    const better = data.goal === "minimize" ? Math.min : Math.max;
    let best = null;
    const points = [], stopped = [], bestLine = [];
    data.trials.forEach((trial, index) => {
      if (trial.objective === null || trial.objective === undefined) return;
      best = best === null ? trial.objective : better(best, trial.objective);
      const point = { value: [index + 1, trial.objective], name: trial.name };
      if (trial.state === "EarlyStopped") stopped.push(point);
      else points.push(trial.state === "Failed" ? Object.assign(point, { symbol: "diamond" }) : point);
      bestLine.push([index + 1, best]);
    });
    const series = [{ type: "scatter", name: "trial", symbolSize: 11, data: points },
                    { type: "line", name: "best so far", step: "end", showSymbol: false, data: bestLine }];
    if (stopped.length) series.push({ type: "scatter", name: "early-stopped", symbol: "triangle", symbolSize: 13,
                                      itemStyle: { color: "#b45309" }, data: stopped });
    chart(element, {
      tooltip: { formatter: (p) => `${p.name || "best so far"}: ${p.value[1]}` },
      legend: { data: series.map((s) => s.name), bottom: 0 }, grid: { left: 55, right: 20, top: 20, bottom: 60 },
      xAxis: { type: "value", name: "trial", nameLocation: "middle", nameGap: 25, minInterval: 1 },
      yAxis: { type: "value", name: data.metric, scale: true },
      series,
    });
    element.dataset.points = String(points.length + stopped.length);
  }

  function parallelChart(element, data) {
    const axes = data.parameters.concat([data.metric]);
    const numeric = axes.map((name, i) => i === axes.length - 1 ||
      data.trials.every((t) => t.parameters[name] === undefined || !isNaN(parseFloat(t.parameters[name]))));
    const parallelAxis = axes.map((name, i) => numeric[i] ? { dim: i, name, scale: true }
      : { dim: i, name, type: "category", data: [...new Set(data.trials.map((t) => t.parameters[name]))] });
    const rows = data.trials.filter((t) => t.objective !== null && t.objective !== undefined).map((t) => ({
      name: t.name,
      value: axes.map((name, i) => i === axes.length - 1 ? t.objective : numeric[i] ? parseFloat(t.parameters[name]) : t.parameters[name]),
      lineStyle: t.state === "EarlyStopped" ? { type: "dashed" } : undefined,
    }));
    chart(element, {
      parallel: { left: 40, right: 60, top: 40, bottom: 30 }, parallelAxis,
      visualMap: { show: false, dimension: axes.length - 1, min: Math.min(...rows.map((r) => r.value[axes.length - 1])),
                   max: Math.max(...rows.map((r) => r.value[axes.length - 1])), inRange: { color: ["#9ca3af", "#1d4ed8"] } },
      series: [{ type: "parallel", lineStyle: { width: 2, opacity: 0.8 }, data: rows }],
    });
    element.dataset.lines = String(rows.length);
  }

  // --- start --------------------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", () => {
    if (document.getElementById("routing")) return route();
    const container = document.getElementById("dag");
    if (container) {
      const dag = new Dag(container, JSON.parse(document.getElementById("dag-data").textContent));
      window.mlpDag = dag;
      if (window.dagre) { dag.draw(); performance.mark("dag-drawn"); dag.poll(); }
      const expandAll = document.getElementById("expand-all"), collapseAll = document.getElementById("collapse-all");
      if (expandAll) expandAll.addEventListener("click", () => { dag.expandAll(dag.graph); dag.draw(); });
      if (collapseAll) collapseAll.addEventListener("click", () => { dag.expanded.clear(); dag.draw(); });
    }
    drawCharts(document);
  });
})();
