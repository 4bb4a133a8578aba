// test/demo/page/check.mjs PAGE.html SCREENSHOT.png CHARTS.json -- open the
// demo report page in Debian's Chromium, headless (playwright-core drives
// it), and print TAP lines: the page loads without a console error, every
// chart has drawn data, and its reading is there.  Writes a full-page
// screenshot, and the data every chart holds (ECharts' getOption) for the
// caller to compare with SQL.
import { chromium } from 'playwright-core';
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [pagePath, shotPath, chartsPath] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
const errors = [];
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
page.on('pageerror', (e) => errors.push(String(e)));
page.on('requestfailed', (r) => errors.push('request failed: ' + r.url()));
// the page must work offline: nothing but itself may load
page.on('request', (r) => { if (!r.url().startsWith('file:')) errors.push('network request: ' + r.url()); });
await page.goto(pathToFileURL(pagePath).href, { waitUntil: 'load' });
await page.waitForFunction(() => window.leadmgmtCharts !== undefined, null, { timeout: 20000 });

const charts = await page.evaluate(() => {
  const out = {};
  for (const [id, c] of Object.entries(window.leadmgmtCharts)) {
    const o = c.getOption();
    const el = document.getElementById('chart-' + id);
    const canvas = el.querySelector('canvas');
    out[id] = {
      series: o.series.map((s) => ({ name: s.name, type: s.type, data: s.data })),
      xAxis: (o.xAxis || []).map((a) => a.data || null),
      yAxis: (o.yAxis || []).map((a) => a.data || null),
      canvas: canvas ? [canvas.width, canvas.height] : null,
      reading: document.getElementById('reading-' + id).textContent.trim(),
    };
  }
  return out;
});
let failed = 0;
const say = (ok, text) => { console.log(`${ok ? 'ok' : 'not ok'} - ${text}`); if (!ok) failed++; };
say(errors.length === 0, `the page loads in headless Chromium without a console error${errors.length ? ': ' + errors.slice(0, 3).join('; ') : ''}`);
const expected = ['funnel', 'roi', 'attribution', 'km', 'cohort', 'routing', 'model'];
for (const id of expected) {
  const c = charts[id];
  const points = c ? c.series.reduce((n, s) => n + (Array.isArray(s.data) ? s.data.filter((v) => v !== null).length : 0), 0) : 0;
  say(c && c.canvas && c.canvas[0] > 0 && points > 0 && c.series.every((s) => Array.isArray(s.data) && s.data.length > 0),
      `chart ${id} is drawn with data (${c ? c.series.length : 0} series, ${points} points)`);
  say(c && c.reading.length > 20 && /\d/.test(c.reading), `chart ${id} has its reading: ${c ? c.reading : ''}`);
}
await page.screenshot({ path: shotPath, fullPage: true });
await browser.close();
writeFileSync(chartsPath, JSON.stringify(charts));
say(true, `screenshot: ${shotPath}`);
process.exit(failed ? 1 : 0);
