// golens serve's page in real Debian chromium (headless) through
// playwright-core, on a store the agent filled with two deploys of one
// service (v2's main.heavy does twice the work): the timeline shows the
// deploy, a drag on it chooses a range, the flame graph and top table load,
// and comparing the two deploys shows main.heavy grown, in red in the
// differential flame graph and at the top of the regression table.
// usage: node serve_browser_test.js URL OUT_DIR V1_BUILD V2_BUILD
"use strict";
const assert = require("assert");
const fs = require("fs");
const path = require("path");
let chromium;
try {
  ({ chromium } = require("playwright-core"));
} catch (err) {
  console.error("FAIL: playwright-core is not installed: run `npm ci` in tests/browser (make deps does)");
  process.exit(1);
}
const [url, outDir, v1, v2] = process.argv.slice(2);
if (!url || !outDir || !v1 || !v2) {
  console.error("usage: node serve_browser_test.js URL OUT_DIR V1_BUILD V2_BUILD");
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });

async function ready(page, after) {
  await page.waitForFunction((n) => Number(document.body.dataset.ready || 0) > n, after, { timeout: 30000 });
  return Number(await page.evaluate(() => document.body.dataset.ready));
}

(async () => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  const errors = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    const t0 = Date.now();
    await page.goto(url);
    let n = await ready(page, 0);
    console.log("page ready in " + (Date.now() - t0) + " ms");
    assert.strictEqual(await page.locator("#status").textContent(), "", "no error on load");
    await page.selectOption("#service", "checkout");
    n = await ready(page, n);

    // The timeline has a marker for each deploy, the second one is v2.
    const markers = page.locator(".deploy-marker");
    assert.ok(await markers.count() >= 2, "two deploy markers");
    assert.strictEqual(await markers.nth(1).getAttribute("data-build"), v2);
    // The top table's hottest function is main.heavy.
    assert.strictEqual(await page.locator("#top tbody tr:first-child td.fn").textContent(), "main.heavy");
    const flame = page.frameLocator("#flame");
    await flame.locator("g#frames").waitFor({ timeout: 30000 });
    assert.ok(await flame.locator("g#frames title", { hasText: "main.heavy" }).count() >= 1, "flame graph has main.heavy");
    await page.screenshot({ path: path.join(outDir, "serve-flame.png") });

    // Dragging across the timeline chooses that range.
    const over = page.locator("#timeline .u-over");
    const box = await over.boundingBox();
    await page.mouse.move(box.x + box.width * 0.1, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    n = await ready(page, n);
    const hash = await page.evaluate(() => location.hash);
    assert.match(hash, /from=\d{4}-/, "the drag set a from time: " + hash);
    assert.match(hash, /to=\d{4}-/, "the drag set a to time: " + hash);
    await page.click(".presets button[data-range='']");
    n = await ready(page, n);

    // Compare the two deploys.
    await page.click("#tab-compare");
    n = await ready(page, n);
    await page.selectOption("#base-build", v1);
    await page.selectOption("#new-build", v2);
    await page.click("#compare");
    n = await ready(page, n);
    const first = page.locator("#regressions tbody tr:first-child");
    assert.strictEqual(await first.locator("td.fn").textContent(), "main.heavy", "main.heavy tops the regression table");
    assert.strictEqual(await first.getAttribute("class"), "grew", "and it grew significantly");
    const diff = page.frameLocator("#diff");
    await diff.locator("g#frames").waitFor({ timeout: 30000 });
    // The widest main.heavy frame: where its samples are. (CI once saw the
    // first main.heavy frame in the document light blue; a sliver of a few
    // samples under another caller can shrink while main.heavy grows.)
    const heavy = diff.locator("g#frames g", { has: page.locator("title", { hasText: /^main\.heavy / }) });
    let fill = null, widest = -1;
    for (let i = 0; i < await heavy.count(); i++) {
      const rect = heavy.nth(i).locator("rect").first();
      const width = parseFloat(await rect.getAttribute("width"));
      if (width > widest) { widest = width; fill = await rect.getAttribute("fill"); }
    }
    assert.match(fill, /^rgb\(255,\d+,\d+\)$/, "main.heavy is red (grew) in the differential flame graph, got " +
      fill + " (" + await heavy.count() + " main.heavy frames)");
    await page.screenshot({ path: path.join(outDir, "serve-compare.png") });
    assert.deepStrictEqual(errors, [], "no errors in the page");
    console.log("PASS: serve page (screenshots in " + outDir + ")");
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error("FAIL: " + (e && e.stack ? e.stack : e));
  process.exit(1);
});
