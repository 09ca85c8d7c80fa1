// golens flame graph interaction: hover tooltip and details line, click to
// zoom (ancestors stay at 50% opacity, everything else hides), Reset Zoom,
// regex search (Search button, Ctrl-F or F3; "ic" or Ctrl-I toggles case)
// with the matched percent, and the zoom/search state in the URL (?x=&d=&s=).
// Expects a global `fg` with the geometry constants written by the renderer.
"use strict";
var svgns = "http://www.w3.org/2000/svg";
var svg, details, matchedtext, unzoombtn, searchbtn, icbtn, tip, tiprect, tiptext;
var F = [];
var searching = null, ignorecase = false, zoomed = -1;
var charw = fg.fontsize * fg.fontwidth;

function init(evt) {
  var started = performance.now();
  svg = document.documentElement;
  details = document.getElementById("details");
  matchedtext = document.getElementById("matched");
  unzoombtn = document.getElementById("unzoom");
  searchbtn = document.getElementById("search");
  icbtn = document.getElementById("ignorecase");
  tip = document.getElementById("tip");
  tiprect = tip.firstElementChild;
  tiptext = tiprect.nextElementSibling;
  var frames = document.getElementById("frames");
  var gs = frames.children;
  for (var i = 0; i < gs.length; i++) {
    var g = gs[i];
    var title = g.firstElementChild;
    var rect = title.nextElementSibling;
    var text = rect.nextElementSibling;
    var t = title.textContent;
    var cut = t.lastIndexOf(" (");
    var name = cut > 0 ? t.substring(0, cut) : t;
    if (name.slice(-10) === " [inlined]") name = name.slice(0, -10);
    if (name.slice(-9) === " [gone]") name = name.slice(0, -9);
    var x = parseFloat(rect.getAttribute("x"));
    var w = parseFloat(rect.getAttribute("width"));
    var y = parseFloat(rect.getAttribute("y"));
    var depth = fg.inverted ? Math.round((y - fg.ypad1) / fg.fh)
                            : Math.round((fg.height - fg.ypad2 - y) / fg.fh) - 1;
    g._i = i;
    F.push({g: g, rect: rect, text: text, x: x, w: w, depth: depth, name: name, title: t,
            fill: rect.getAttribute("fill"), cx: x, cw: w, matched: false});
  }
  frames.addEventListener("click", function (e) {
    var g = frameOf(e.target);
    if (g) zoom(g._i);
  });
  frames.addEventListener("mouseover", function (e) {
    var g = frameOf(e.target);
    if (g) showDetails(F[g._i], e);
  });
  frames.addEventListener("mousemove", function (e) {
    var g = frameOf(e.target);
    if (g) moveTip(e);
  });
  frames.addEventListener("mouseout", function (e) {
    var g = frameOf(e.target);
    if (g && !g.contains(e.relatedTarget)) hideDetails();
  });
  unzoombtn.addEventListener("click", function () { unzoom(); });
  searchbtn.addEventListener("click", function () { searchPrompt(); });
  icbtn.addEventListener("click", function () { toggleIgnoreCase(); });
  window.addEventListener("keydown", function (e) {
    if (e.keyCode === 114 || (e.ctrlKey && e.keyCode === 70)) { e.preventDefault(); searchPrompt(); }
    else if (e.ctrlKey && e.keyCode === 73) { e.preventDefault(); toggleIgnoreCase(); }
    else if (e.keyCode === 27) { unzoom(); }
  });
  restoreState();
  fg.initMs = performance.now() - started;  // read by bench/flame/browser_timing.js
}

function frameOf(node) {
  while (node && node.parentNode && node.parentNode.id !== "frames") node = node.parentNode;
  return node && node.parentNode ? node : null;
}

// Tooltip and details line.
function showDetails(f, e) {
  details.textContent = fg.nametype + " " + f.title;
  tiptext.textContent = f.title;
  tip.classList.remove("hide");
  var w = tiptext.getComputedTextLength ? tiptext.getComputedTextLength() : f.title.length * charw;
  tiprect.setAttribute("width", (w + 12).toFixed(1));
  moveTip(e);
}
function moveTip(e) {
  if (!e || tip.classList.contains("hide")) return;
  var p = svg.createSVGPoint();
  p.x = e.clientX; p.y = e.clientY;
  var m = svg.getScreenCTM();
  if (m) p = p.matrixTransform(m.inverse());
  var w = parseFloat(tiprect.getAttribute("width"));
  var x = p.x + 12, y = p.y + 14;
  if (x + w > fg.width - 2) x = Math.max(2, p.x - w - 8);
  if (y + 22 > fg.height) y = p.y - 30;
  tip.setAttribute("transform", "translate(" + x.toFixed(1) + "," + y.toFixed(1) + ")");
}
function hideDetails() {
  details.textContent = " ";
  tip.classList.add("hide");
}

// Labels: as many characters as fit, the last two replaced by "..".
function label(f) {
  var chars = Math.floor((f.cw - 3) / charw);
  if (chars < 3) return "";
  if (f.name.length <= chars) return f.name;
  return f.name.substring(0, chars - 2) + "..";
}
function place(f, x, w) {
  f.cx = x; f.cw = w;
  f.rect.setAttribute("x", x.toFixed(2));
  f.rect.setAttribute("width", w.toFixed(2));
  var s = label(f);
  if (!f.text) {
    if (s === "") return;
    f.text = document.createElementNS(svgns, "text");
    f.text.setAttribute("y", (parseFloat(f.rect.getAttribute("y")) + fg.texty).toFixed(1));
    f.g.appendChild(f.text);
  }
  f.text.setAttribute("x", (x + 3).toFixed(2));
  f.text.textContent = s;
}

// Zoom: frame i spans the full width; its subtree scales with it.
function zoom(i) {
  var z = F[i];
  var full = fg.width - 2 * fg.xpad;
  var ratio = full / z.w;
  var zmid = z.x + z.w / 2;
  for (var j = 0; j < F.length; j++) {
    var f = F[j], mid = f.x + f.w / 2;
    var cl = f.g.classList;
    if (j === i || (f.depth > z.depth && mid > z.x && mid < z.x + z.w)) {
      cl.remove("hide"); cl.remove("parent");
      place(f, fg.xpad + (f.x - z.x) * ratio, f.w * ratio);
    } else if (f.depth < z.depth && zmid > f.x && zmid < f.x + f.w) {
      cl.remove("hide"); cl.add("parent");
      place(f, fg.xpad, full);
    } else {
      cl.add("hide"); cl.remove("parent");
    }
  }
  zoomed = i;
  unzoombtn.classList.remove("hide");
  if (searching !== null) search(searching);
  saveState();
}
function unzoom() {
  if (zoomed < 0) return;
  for (var j = 0; j < F.length; j++) {
    var f = F[j];
    f.g.classList.remove("hide"); f.g.classList.remove("parent");
    place(f, f.x, f.w);
  }
  zoomed = -1;
  unzoombtn.classList.add("hide");
  saveState();
}

// Search: fills matches, reports the share of the graph they cover (nested
// matches counted once).
function searchPrompt() {
  if (searching !== null) { resetSearch(); return; }
  var term = prompt("Enter a search term (regexp allowed, eg: ^runtime\\.)" +
                    (ignorecase ? ", ignoring case" : "") + "\nPress Ctrl-i to toggle case sensitivity", "");
  if (term !== null && term !== "") search(term);
}
function search(term) {
  var re;
  try { re = new RegExp(term, ignorecase ? "i" : ""); }
  catch (err) { matchedtext.textContent = "Invalid regexp: " + term; return; }
  var ranges = [];
  for (var i = 0; i < F.length; i++) {
    var f = F[i];
    if (re.test(f.name)) {
      f.matched = true;
      f.rect.setAttribute("fill", fg.searchcolor);
      ranges.push([f.x, f.x + f.w]);
    } else if (f.matched) {
      f.matched = false;
      f.rect.setAttribute("fill", f.fill);
    }
  }
  ranges.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
  var covered = 0, end = -Infinity;
  for (var k = 0; k < ranges.length; k++) {
    var r = ranges[k];
    if (r[0] >= end) { covered += r[1] - r[0]; end = r[1]; }
    else if (r[1] > end) { covered += r[1] - end; end = r[1]; }
  }
  var pct = 100 * covered / (fg.width - 2 * fg.xpad);
  searching = term;
  matchedtext.textContent = "Matched: " + (pct > 99.995 ? "100" : pct.toFixed(2)) + "%";
  searchbtn.classList.add("show");
  searchbtn.textContent = "Reset Search";
  saveState();
}
function resetSearch() {
  for (var i = 0; i < F.length; i++) {
    if (F[i].matched) { F[i].matched = false; F[i].rect.setAttribute("fill", F[i].fill); }
  }
  searching = null;
  matchedtext.textContent = " ";
  searchbtn.classList.remove("show");
  searchbtn.textContent = "Search";
  saveState();
}
function toggleIgnoreCase() {
  ignorecase = !ignorecase;
  icbtn.classList.toggle("show", ignorecase);
  if (searching !== null) search(searching);
}

// URL state, so a zoomed/searched view can be shared as a link.
function saveState() {
  try {
    var q = [];
    if (zoomed >= 0) q.push("x=" + F[zoomed].x.toFixed(2), "d=" + F[zoomed].depth);
    if (searching !== null) q.push("s=" + encodeURIComponent(searching));
    history.replaceState(null, "", q.length ? "?" + q.join("&") : location.pathname);
  } catch (err) { /* file: URLs may refuse; the view still works */ }
}
function restoreState() {
  var params = {};
  location.search.substring(1).split("&").forEach(function (kv) {
    var p = kv.split("=");
    if (p[0]) params[p[0]] = decodeURIComponent(p[1] || "");
  });
  if (params.x !== undefined && params.d !== undefined) {
    var x = parseFloat(params.x), d = parseInt(params.d, 10);
    for (var i = 0; i < F.length; i++) {
      if (F[i].depth === d && Math.abs(F[i].x - x) < 0.01) { zoom(i); break; }
    }
  }
  if (params.s) search(params.s);
}
