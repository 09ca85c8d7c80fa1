// Flame graph SVGs in real Debian chromium (headless), driven by
// playwright-core: hover tooltip, click zoom, regex search with matched
// percent, reset, and the differential graph. Screenshots of each step are
// kept in OUT_DIR as test output.
// usage: node flame_browser_test.js GOLENS OUT_DIR
"use strict";
const assert = require("assert");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync } = require("child_process");
let chromium;
try {
  ({ chromium } = require("playwright-core"));
} catch (err) {
  console.error("FAIL: playwright-core is not installed: run `npm ci` in tests/browser (make deps does)");
  process.exit(1);
}

const [golens, outDir] = process.argv.slice(2);
if (!golens || !outDir) {
  console.error("usage: node flame_browser_test.js GOLENS OUT_DIR");
  process.exit(2);
}
const CHROMIUM = "/usr/bin/chromium";
if (!fs.existsSync(CHROMIUM)) {
  console.error("FAIL: " + CHROMIUM + " is missing (apt-get install chromium)");
  process.exit(1);
}
fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });

// 1,000 samples: main.serve 700 (hashWork 500, map lookup 200), sortWork 250, gc 50.
const folded = [
  "main.main;main.serve;main.hashWork;crypto/sha256.block 400",
  "main.main;main.serve;main.hashWork 100",
  "main.main;main.serve;runtime.mapaccess1_fast64 200",
  "main.main;main.sortWork;sort.Ints 250",
  "runtime.gcBgMarkWorker;runtime.gcDrain 50",
].join("\n") + "\n";
const baseFolded = [
  "main.main;main.serve;main.hashWork;crypto/sha256.block 100",
  "main.main;main.serve;runtime.mapaccess1_fast64 300",
  "main.main;main.sortWork;sort.Ints 250",
  "main.main;main.oldPath;encoding/json.Marshal 300",
  "runtime.gcBgMarkWorker;runtime.gcDrain 50",
].join("\n") + "\n";
fs.writeFileSync(path.join(outDir, "new.folded"), folded);
fs.writeFileSync(path.join(outDir, "base.folded"), baseFolded);
const flameSvg = path.join(outDir, "flame.svg");
const diffSvg = path.join(outDir, "diff.svg");
execFileSync(golens, ["flame", path.join(outDir, "new.folded"), "-o", flameSvg, "--title", "browser test"]);
const icicleSvg = path.join(outDir, "icicle.svg");
execFileSync(golens, ["flame", path.join(outDir, "new.folded"), "-o", icicleSvg, "--inverted", "--palette", "hot"]);
execFileSync(golens, ["diff", path.join(outDir, "base.folded"), path.join(outDir, "new.folded"), "-o", diffSvg,
                      "--no-normalize"]);

function frame(page, name) {
  return page.locator("#frames > g").filter({ has: page.locator("title", { hasText: new RegExp("^" + name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + " \\(") }) });
}
async function rectAttr(page, name, attr) {
  return frame(page, name).locator("rect").getAttribute(attr);
}

let failures = 0;
async function step(name, fn) {
  try {
    await fn();
    console.log("ok: " + name);
  } catch (err) {
    failures++;
    console.log("FAIL: " + name + ": " + (err && err.stack || err));
  }
}

(async () => {
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), "golens-chromium-"));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1240, height: 420 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(10000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("request", (r) => { if (!r.url().startsWith("file:")) errors.push("network request: " + r.url()); });
  try {
    await page.goto("file://" + flameSvg);
    await page.waitForFunction(() => typeof F !== "undefined" && F.length > 0);

    await step("loads with all frames and no script errors", async () => {
      assert.strictEqual(await page.locator("#frames > g").count(), 10);
      assert.deepStrictEqual(errors, []);
    });

    await step("hover shows name, samples and percent", async () => {
      const box = await frame(page, "main.hashWork").locator("rect").boundingBox();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.waitForFunction(() => !document.getElementById("tip").classList.contains("hide"));
      assert.strictEqual(await page.locator("#tip text").textContent(), "main.hashWork (500 samples, 50.00%)");
      assert.strictEqual(await page.locator("#details").textContent(),
                         "Function: main.hashWork (500 samples, 50.00%)");
      assert.ok(await page.locator("#tip").isVisible());
      await page.screenshot({ path: path.join(outDir, "1-hover.png") });
    });

    await step("click zooms: frame full width, siblings hidden, ancestors dimmed", async () => {
      const before = parseFloat(await rectAttr(page, "main.serve", "width"));
      assert.ok(Math.abs(before - 826) < 0.01, "main.serve starts at 700/1000 of 1180 px: " + before);
      await frame(page, "main.serve").locator("rect").click();
      assert.strictEqual(await rectAttr(page, "main.serve", "width"), "1180.00");
      assert.strictEqual(await rectAttr(page, "main.serve", "x"), "10.00");
      assert.ok(await frame(page, "main.sortWork").isHidden(), "sibling main.sortWork hidden");
      assert.ok(await frame(page, "runtime.gcBgMarkWorker").isHidden(), "unrelated frame hidden");
      assert.match(await frame(page, "main.main").getAttribute("class"), /\bparent\b/);
      const child = parseFloat(await rectAttr(page, "main.hashWork", "width"));
      assert.ok(Math.abs(child - 1180 * 500 / 700) < 0.02, "child rescaled: " + child);
      assert.ok(await page.locator("#unzoom").isVisible(), "Reset Zoom shown");
      await page.mouse.move(5, 5);
      await page.screenshot({ path: path.join(outDir, "2-zoom.png") });
    });

    await step("regex search highlights matches and shows the matched percent", async () => {
      page.once("dialog", (d) => d.accept("^main\\.(hash|sort)Work$"));
      await page.locator("#search").click();
      await page.waitForFunction(() => document.getElementById("matched").textContent.startsWith("Matched"));
      assert.strictEqual(await page.locator("#matched").textContent(), "Matched: 75.00%");
      assert.strictEqual(await rectAttr(page, "main.hashWork", "fill"), "rgb(230,0,230)");
      assert.notStrictEqual(await rectAttr(page, "main.serve", "fill"), "rgb(230,0,230)");
      assert.strictEqual(await page.locator("#search").textContent(), "Reset Search");
      await page.screenshot({ path: path.join(outDir, "3-search.png") });
    });

    await step("reset zoom and reset search restore the graph", async () => {
      await page.locator("#unzoom").click();
      assert.strictEqual(await rectAttr(page, "main.serve", "width"), "826.00");
      assert.ok(await frame(page, "main.sortWork").isVisible(), "sibling visible again");
      assert.ok(await page.locator("#unzoom").isHidden(), "Reset Zoom hidden");
      assert.doesNotMatch(await frame(page, "main.main").getAttribute("class"), /\bparent\b/);
      await page.locator("#search").click();  // "Reset Search"
      assert.notStrictEqual(await rectAttr(page, "main.hashWork", "fill"), "rgb(230,0,230)");
      assert.strictEqual((await page.locator("#matched").textContent()).trim(), "");
      await page.screenshot({ path: path.join(outDir, "4-reset.png") });
    });

    await step("zoom and search state survive a reload through the URL", async () => {
      await frame(page, "main.sortWork").locator("rect").click();
      const url = page.url();
      assert.match(url, /[?&]x=/);
      await page.goto(url);
      await page.waitForFunction(() => typeof F !== "undefined" && F.length > 0);
      assert.strictEqual(await rectAttr(page, "main.sortWork", "width"), "1180.00");
    });

    await step("icicle graph (--inverted): root on top, click zoom works", async () => {
      await page.goto("file://" + icicleSvg);
      await page.waitForFunction(() => typeof F !== "undefined" && F.length > 0);
      const rootY = parseFloat(await rectAttr(page, "all", "y"));
      const leafY = parseFloat(await rectAttr(page, "crypto/sha256.block", "y"));
      assert.ok(rootY < leafY, "root above its descendants: " + rootY + " vs " + leafY);
      await frame(page, "main.hashWork").locator("rect").click();
      assert.strictEqual(await rectAttr(page, "main.hashWork", "width"), "1180.00");
      assert.strictEqual(await rectAttr(page, "crypto/sha256.block", "width"), (1180 * 400 / 500).toFixed(2));
      assert.ok(await frame(page, "runtime.mapaccess1_fast64").isHidden(), "sibling hidden");
      assert.match(await frame(page, "main.serve").getAttribute("class"), /\bparent\b/);
      await page.mouse.move(5, 5);
      await page.screenshot({ path: path.join(outDir, "6-icicle-zoom.png") });
    });

    await step("differential flame graph loads, colors and explains changes", async () => {
      await page.goto("file://" + diffSvg);
      await page.waitForFunction(() => typeof F !== "undefined" && F.length > 0);
      const grown = await rectAttr(page, "main.hashWork", "fill");
      assert.match(grown, /^rgb\(255,\d+,\d+\)$/, "hashWork grew: red, got " + grown);
      const shrunk = await rectAttr(page, "runtime.mapaccess1_fast64", "fill");
      assert.match(shrunk, /^rgb\(\d+,\d+,255\)$/, "map lookup shrank: blue, got " + shrunk);
      const gone = frame(page, "main.oldPath \\[gone\\]".replace(/\\/g, ""));
      assert.strictEqual(await gone.count(), 1, "vanished frame still drawn");
      const box = await gone.locator("rect").boundingBox();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.waitForFunction(() => !document.getElementById("tip").classList.contains("hide"));
      assert.strictEqual(await page.locator("#tip text").textContent(),
                         "main.oldPath [gone] (0 samples, 0.00%; base 300 samples; -300 samples, -30.00%)");
      await page.screenshot({ path: path.join(outDir, "5-diff.png") });
      assert.deepStrictEqual(errors, []);
    });
  } finally {
    await context.close();
    fs.rmSync(profileDir, { recursive: true, force: true });
  }
  console.log("screenshots in " + outDir);
  console.log("failures: " + failures);
  process.exit(failures === 0 ? 0 : 1);
})().catch((err) => {
  console.log("FAIL: " + (err && err.stack || err));
  process.exit(1);
});
