// Opens a flame graph SVG in headless Debian chromium and times what a user
// feels: load until the script is ready, a click zoom, a regex search and
// Reset Zoom. Uses playwright-core installed in tests/browser.
// usage: node browser_timing.js FILE.svg
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require(path.join(__dirname, "../../tests/browser/node_modules/playwright-core"));

(async () => {
  const svg = path.resolve(process.argv[2]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "golens-bench-chromium-"));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: "/usr/bin/chromium", headless: true, viewport: { width: 1240, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(60000);
  let t = Date.now();
  await page.goto("file://" + svg);
  await page.waitForFunction(() => typeof F !== "undefined" && F.length > 0);
  const load = Date.now() - t;
  const frames = await page.evaluate(() => F.length);
  const initMs = await page.evaluate(() => Math.round(fg.initMs));
  // Zoom into the widest frame at depth 3 (a large subtree).
  const timing = await page.evaluate(() => {
    let best = -1;
    for (let i = 0; i < F.length; i++) if (F[i].depth === 3 && (best < 0 || F[i].w > F[best].w)) best = i;
    let t0 = performance.now();
    zoom(best);
    const zoomMs = performance.now() - t0;
    t0 = performance.now();
    search("Method1[0-9]$");
    const searchMs = performance.now() - t0;
    t0 = performance.now();
    unzoom();
    const unzoomMs = performance.now() - t0;
    return { zoomMs, searchMs, unzoomMs };
  });
  // Let the browser lay out and paint once more, as the user would wait for it.
  t = Date.now();
  await page.screenshot({ path: path.join(os.tmpdir(), "golens-bench-flame.png") });
  const paint = Date.now() - t;
  console.log(JSON.stringify({ svg_bytes: fs.statSync(svg).size, frames, load_ms: load, init_ms: initMs,
    zoom_ms: Math.round(timing.zoomMs), search_ms: Math.round(timing.searchMs),
    unzoom_ms: Math.round(timing.unzoomMs), screenshot_ms: paint }));
  await ctx.close();
  fs.rmSync(dir, { recursive: true, force: true });
})().catch((e) => { console.error(e); process.exit(1); });
