// golens serve's page: service picker, CPU timeline with deploy markers
// (uPlot, bundled), merged flame graph beside a sortable top-functions table,
// label filters offered from the data, and deploy comparison (differential
// flame graph + regression table). State lives in the URL hash, so a view
// can be shared. Talks only to this server's /api.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const state = { service: "", from: "", to: "", tag: "", base: "", cur: "", tab: "flame" };
  let services = [];
  let chart = null;
  let timeline = null;
  let topRows = [];
  let topTotal = 0;
  let topUnit = "";
  let topSort = { key: "flat", desc: true };

  function readHash() {
    const q = new URLSearchParams(location.hash.slice(1));
    for (const k of Object.keys(state)) if (q.has(k)) state[k] = q.get(k);
  }
  function writeHash() {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(state)) if (v) q.set(k, v);
    history.replaceState(null, "", "#" + q.toString());
  }
  function status(msg) { $("status").textContent = msg || ""; }
  function selection(extra) {
    const q = new URLSearchParams();
    q.set("service", state.service);
    if (state.from) q.set("from", state.from);
    if (state.to) q.set("to", state.to);
    if (state.tag) q.set("tag", state.tag);
    for (const [k, v] of Object.entries(extra || {})) if (v !== "" && v !== undefined) q.set(k, v);
    return q.toString();
  }
  async function api(path, query) {
    const res = await fetch(path + (query ? "?" + query : ""));
    const text = await res.text();
    let body;
    try { body = JSON.parse(text); } catch (e) { body = { error: text }; }
    if (!res.ok) throw new Error(body.error || res.statusText);
    return body;
  }
  function iso(unix) { return new Date(unix * 1000).toISOString().replace(".000Z", "Z"); }
  function short(build) { return build ? build.slice(0, 12) : "(no build id)"; }
  function text(el, s) { el.textContent = s; return el; }
  function cell(tr, s, cls) { const td = text(document.createElement("td"), s); if (cls) td.className = cls; tr.appendChild(td); return td; }

  async function loadServices() {
    services = await api("/api/services");
    const sel = $("service");
    sel.replaceChildren();
    for (const s of services) {
      const o = document.createElement("option");
      o.value = s.service;
      text(o, s.service + " (" + s.builds.length + (s.builds.length === 1 ? " build)" : " builds)"));
      sel.appendChild(o);
    }
    if (!services.some((s) => s.service === state.service)) state.service = services.length ? services[0].service : "";
    sel.value = state.service;
    if (!services.length) status("the store holds no profiles yet: run golens agent --store DIR");
  }
  function currentService() { return services.find((s) => s.service === state.service); }

  async function loadLabels() {
    const keySel = $("label-key"), valSel = $("label-value");
    const labels = await api("/api/labels", selection({ tag: "" }).replace(/&?tag=[^&]*/, ""));
    const [tk, tv] = state.tag ? [state.tag.slice(0, state.tag.indexOf("=")), state.tag.slice(state.tag.indexOf("=") + 1)] : ["", ""];
    keySel.replaceChildren(new Option("(any)", ""));
    for (const l of labels) keySel.appendChild(new Option(l.key + " (" + l.values.length + ")", l.key));
    keySel.value = tk;
    const fillValues = () => {
      valSel.replaceChildren(new Option("(any)", ""));
      const l = labels.find((x) => x.key === keySel.value);
      valSel.disabled = !l;
      if (l) for (const v of l.values) valSel.appendChild(new Option(v, v));
    };
    fillValues();
    valSel.value = tv;
    keySel.onchange = () => { fillValues(); state.tag = ""; refresh(); };
    valSel.onchange = () => { state.tag = valSel.value ? keySel.value + "=" + valSel.value : ""; refresh(); };
  }

  // "now-1h" / "2026-12-02T07:00:00Z" / Unix seconds -> Unix seconds (NaN if unreadable).
  function toUnix(t) {
    const rel = /^now(?:-(\d+(?:\.\d+)?)(s|m|h|d))?$/.exec(t);
    if (rel) return Date.now() / 1000 - (rel[1] ? rel[1] * { s: 1, m: 60, h: 3600, d: 86400 }[rel[2]] : 0);
    if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
    return Date.parse(t) / 1000;
  }

  function rangeSeconds() {
    const svc = currentService();
    if (!svc || !svc.builds.length) return [0, 0];
    let lo = Math.min(...svc.builds.map((b) => b.first_seen)), hi = Math.max(...svc.builds.map((b) => b.last_seen));
    if (state.from) lo = Math.floor(toUnix(state.from)) || lo;
    if (state.to) hi = Math.ceil(toUnix(state.to)) || hi;
    return [lo, hi];
  }

  async function loadTimeline() {
    const [lo, hi] = rangeSeconds();
    const step = Math.max(1, Math.ceil((hi - lo) / 240));
    timeline = await api("/api/timeline", selection({ step: String(step) }).replace(/&?tag=[^&]*/, ""));
    const xs = timeline.points.map((p) => p.t);
    const cores = timeline.points.map((p) => p.cpu_seconds / timeline.step);
    $("timeline-title").textContent = "CPU of " + state.service + " (cores, " + timeline.step + " s steps)";
    const box = $("timeline");
    const width = Math.max(400, box.clientWidth || 1000);
    const opts = {
      width, height: 180,
      scales: { x: { time: true } },
      series: [{}, { label: "CPU cores", stroke: "#1971c2", fill: "rgba(25,113,194,0.15)", width: 1.5 }],
      axes: [{}, { label: "cores" }],
      cursor: { drag: { x: true, y: false } },
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 3) return;
          const a = u.posToVal(u.select.left, "x"), b = u.posToVal(u.select.left + u.select.width, "x");
          state.from = iso(Math.floor(a));
          state.to = iso(Math.ceil(b));
          u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
          refresh();
        }],
        draw: [(u) => drawDeploys(u)],
      },
    };
    if (chart) chart.destroy();
    chart = new uPlot(opts, [xs, cores], box);
  }

  function drawDeploys(u) {
    const layer = $("deploys");
    layer.replaceChildren();
    if (!timeline) return;
    const plot = u.over.getBoundingClientRect(), outer = $("timeline-box").getBoundingClientRect();
    for (const d of timeline.deploys) {
      const x = u.valToPos(d.t, "x");
      if (x < 0 || x > u.over.clientWidth) continue;
      const m = document.createElement("div");
      m.className = "deploy-marker";
      m.dataset.build = d.build_id;
      m.title = "deploy: build " + d.build_id + " from " + iso(d.t);
      m.style.left = (plot.left - outer.left + x) + "px";
      m.style.top = (plot.top - outer.top) + "px";
      m.style.height = plot.height + "px";
      m.appendChild(text(document.createElement("span"), short(d.build_id)));
      layer.appendChild(m);
    }
  }

  // The SVG is drawn for the frame it goes in (no horizontal scrolling).
  function frameWidth(frame) { return Math.max(400, Math.min(4000, (frame.clientWidth || 1000) - 24)); }
  // Values in the profile's unit: CPU nanoseconds read as seconds.
  function value(v, unit) { return unit === "nanoseconds" ? (v / 1e9).toFixed(2) + " s" : String(v); }

  function renderTop() {
    const tbody = $("top").querySelector("tbody");
    tbody.replaceChildren();
    const key = topSort.key.replace("_pct", "");
    const rows = topRows.slice().sort((a, b) => {
      const x = key === "function" ? a.function.localeCompare(b.function) : a[key] - b[key];
      return topSort.desc ? -x : x;
    });
    for (const r of rows) {
      const tr = document.createElement("tr");
      cell(tr, r.function, "fn");
      cell(tr, value(r.flat, topUnit), "num");
      cell(tr, (100 * r.flat / (topTotal || 1)).toFixed(2) + "%", "num");
      cell(tr, value(r.cum, topUnit), "num");
      cell(tr, (100 * r.cum / (topTotal || 1)).toFixed(2) + "%", "num");
      tbody.appendChild(tr);
    }
    for (const th of $("top").querySelectorAll("th")) th.classList.toggle("sorted", th.dataset.key === topSort.key);
  }

  async function loadFlame() {
    const q = selection();
    $("flame").src = "/api/flame?" + q + "&width=" + frameWidth($("flame"));
    $("download").href = "/api/profile?" + q;
    $("pprof-url").textContent = location.origin + "/api/profile?" + q;
    const top = await api("/api/top", q + "&limit=200");
    topRows = top.functions;
    topTotal = top.total;
    topUnit = top.unit;
    renderTop();
  }

  function fillBuildSelects() {
    const svc = currentService();
    for (const [id, key, fallback] of [["base-build", "base", 0], ["new-build", "cur", 1]]) {
      const sel = $(id);
      sel.replaceChildren(new Option("range", ""));
      if (svc) svc.builds.forEach((b, i) => sel.appendChild(new Option(short(b.build_id) + " " + b.go_version + " (from " + iso(b.first_seen) + ")", b.build_id)));
      if (!state[key] && svc && svc.builds.length >= 2) {
        state[key] = svc.builds[fallback === 0 ? svc.builds.length - 2 : svc.builds.length - 1].build_id;
      }
      sel.value = state[key];
    }
  }

  async function loadCompare() {
    const extra = {};
    if (state.base) extra.base_build_id = state.base;
    if (state.cur) extra.build_id = state.cur;
    if (!state.base) {
      // The chosen range (new) against the same length just before it (base).
      const [lo, hi] = rangeSeconds();
      extra.base_from = iso(lo - (hi - lo));
      extra.base_to = iso(lo);
      if (!state.cur) { extra.from = iso(lo); extra.to = iso(hi); }
    }
    const q = selection(extra);
    $("diff").src = "/api/diff?" + q + "&width=" + frameWidth($("diff"));
    const table = await api("/api/diff", q + "&format=json");
    $("regression-note").textContent = table.test + " (alpha " + table.alpha + "), " + table.functions_compared +
      " functions; base " + table.base_samples + " samples, new " + table.new_samples + ". Grey rows are within noise.";
    const tbody = $("regressions").querySelector("tbody");
    tbody.replaceChildren();
    for (const r of table.rows) {
      const tr = document.createElement("tr");
      tr.className = r.significant ? (r.delta_points > 0 ? "grew" : "shrank") : "noise";
      cell(tr, r.function, "fn");
      cell(tr, r.base_percent.toFixed(2), "num");
      cell(tr, r.new_percent.toFixed(2), "num");
      cell(tr, (r.delta_points > 0 ? "+" : "") + r.delta_points.toFixed(2) + " pts", "num delta");
      cell(tr, r.p_value < 1e-4 ? r.p_value.toExponential(1) : r.p_value.toFixed(4), "num");
      tbody.appendChild(tr);
    }
  }

  let refreshing = 0;
  async function refresh() {
    const mine = ++refreshing;
    writeHash();
    $("from").value = state.from;
    $("to").value = state.to;
    status("");
    if (!state.service) return;
    try {
      await loadTimeline();
      if (mine !== refreshing) return;
      if (state.tab === "flame") await loadFlame();
      else await loadCompare();
      document.body.dataset.ready = String(mine);
    } catch (e) {
      status(e.message);
      document.body.dataset.ready = String(mine);
    }
  }

  function showTab(tab) {
    state.tab = tab;
    $("tab-flame").classList.toggle("active", tab === "flame");
    $("tab-compare").classList.toggle("active", tab === "compare");
    $("flame-view").hidden = tab !== "flame";
    $("compare-view").hidden = tab !== "compare";
    if (tab === "compare") fillBuildSelects();
    refresh();
  }

  async function start() {
    readHash();
    try {
      await loadServices();
      if (state.service) await loadLabels();
    } catch (e) { status(e.message); return; }
    $("service").onchange = async () => {
      state.service = $("service").value; state.tag = ""; state.base = ""; state.cur = "";
      await loadLabels();
      if (state.tab === "compare") fillBuildSelects();
      refresh();
    };
    $("from").onchange = () => { state.from = $("from").value.trim(); refresh(); };
    $("to").onchange = () => { state.to = $("to").value.trim(); refresh(); };
    for (const b of document.querySelectorAll(".presets button")) {
      b.onclick = () => { state.from = b.dataset.range ? "now-" + b.dataset.range : ""; state.to = ""; refresh(); };
    }
    for (const th of $("top").querySelectorAll("th")) {
      th.onclick = () => {
        topSort = { key: th.dataset.key, desc: topSort.key === th.dataset.key ? !topSort.desc : th.dataset.key !== "function" };
        renderTop();
      };
    }
    $("tab-flame").onclick = () => showTab("flame");
    $("tab-compare").onclick = () => showTab("compare");
    $("base-build").onchange = () => { state.base = $("base-build").value; };
    $("new-build").onchange = () => { state.cur = $("new-build").value; };
    $("compare").onclick = () => refresh();
    window.addEventListener("resize", () => { if (chart) chart.setSize({ width: Math.max(400, $("timeline").clientWidth), height: 180 }); });
    showTab(state.tab === "compare" ? "compare" : "flame");
  }
  start();
})();
