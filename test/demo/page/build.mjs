// test/demo/page/build.mjs DATA.json ECHARTS.js OUT.html -- the demo report as
// one self-contained page: Apache ECharts (pinned in package.json) embedded,
// so it opens offline, and the data test/demo/page.sql read through the views.
// The charts are ECharts options; each has the one-sentence reading page.sql
// computed from the data under it.
import { readFileSync, writeFileSync } from 'node:fs';

const [dataPath, echartsPath, outPath] = process.argv.slice(2);
const data = JSON.parse(readFileSync(dataPath, 'utf8'));
const echarts = readFileSync(echartsPath, 'utf8');
// the JSON goes inside a <script> element: keep '</' out of it
const json = JSON.stringify(data).replace(/</g, '\\u003c');

const charts = [
  ['funnel', 'Funnel by channel: leads that reached at least each stage', data.funnel],
  ['roi', 'Spend, cost per lead, CAC and ROAS by channel', data.roi],
  ['attribution', 'Conversions credited to each channel, under every attribution model', data.attribution],
  ['km', 'How long students stay, by grade: Kaplan-Meier curves with 95% bands', data.km],
  ['cohort', 'Retention by cohort: % of each month\'s new students in class N months later', data.cohort],
  ['routing', 'Cost per paid student: routing by tier against giving every lead to regular sales', data.routing],
  ['model', 'The conversion model: lift by score decile, and calibration on held-out leads', data.model],
];
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const sections = charts.map(([id, title, d]) => `
<section>
  <h2>${esc(title)}</h2>
  <div class="chart" id="chart-${id}"></div>
  <p class="reading" id="reading-${id}">${esc(d && d.reading)}</p>
</section>`).join('\n');

const page = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>leadmgmt demo report: ${esc(data.org)}</title>
<style>
  body { font-family: "Noto Sans", "WenQuanYi Micro Hei", sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
  h1 { font-size: 1.6em; margin-bottom: 0.2em; }
  .sub { color: #666; margin-top: 0; }
  section { margin: 2.5em 0; }
  h2 { font-size: 1.15em; }
  .chart { width: 100%; height: 420px; }
  .reading { font-size: 1.05em; background: #f4f7fb; border-left: 4px solid #5470c6; padding: 0.6em 1em; }
</style>
</head>
<body>
<h1>${esc(data.org)}: the marketing funnel at a glance</h1>
<p class="sub">leadmgmt demo report, as of ${esc(data.as_of)}, read through the public views of the extension</p>
${sections}
<script>${echarts}</script>
<script id="report-data" type="application/json">${json}</script>
<script>
(function () {
  var d = JSON.parse(document.getElementById('report-data').textContent);
  var charts = {};
  function chart(id, option) {
    var c = echarts.init(document.getElementById('chart-' + id), null, { renderer: 'canvas' });
    c.setOption(Object.assign({ animation: false, tooltip: { trigger: 'axis' }, legend: { top: 0, type: 'scroll' },
                                grid: { top: 50, left: 60, right: 60, bottom: 40 } }, option));
    charts[id] = c;
  }

  chart('funnel', {
    xAxis: { type: 'category', data: d.funnel.steps },
    yAxis: { type: 'value', name: 'leads' },
    series: d.funnel.series.map(function (s) { return { name: s.name, type: 'bar', data: s.data }; })
  });

  chart('roi', {
    xAxis: { type: 'category', data: d.roi.channels },
    grid: { top: 50, left: 70, right: 130, bottom: 40 },
    yAxis: [{ type: 'value', name: 'spend' }, { type: 'value', name: 'CPL, CAC' },
            { type: 'value', name: 'ROAS', offset: 65 }],
    series: [
      { name: 'spend', type: 'bar', data: d.roi.spend },
      { name: 'CPL', type: 'line', yAxisIndex: 1, data: d.roi.cpl },
      { name: 'CAC', type: 'line', yAxisIndex: 1, data: d.roi.cac },
      { name: 'ROAS', type: 'line', yAxisIndex: 2, data: d.roi.roas }
    ]
  });

  chart('attribution', {
    xAxis: { type: 'category', data: d.attribution.channels },
    yAxis: { type: 'value', name: 'conversions' },
    series: d.attribution.models.map(function (m, i) { return { name: m, type: 'bar', data: d.attribution.series[i] }; })
  });

  // each grade: its band (the lower bound, then the band's height stacked on it) and its curve
  var km = [];
  d.km.series.forEach(function (g) {
    var name = 'grade ' + g.grade;
    km.push({ name: name, type: 'line', step: 'end', showSymbol: false, stack: 'band ' + name, lineStyle: { opacity: 0 },
              data: g.points.map(function (p) { return [p[0], p[2]]; }), tooltip: { show: false } });
    km.push({ name: name, type: 'line', step: 'end', showSymbol: false, stack: 'band ' + name, lineStyle: { opacity: 0 },
              areaStyle: { opacity: 0.15 }, data: g.points.map(function (p) { return [p[0], p[3] - p[2]]; }), tooltip: { show: false } });
    km.push({ name: name, type: 'line', step: 'end', showSymbol: false, data: g.points.map(function (p) { return [p[0], p[1]]; }) });
  });
  chart('km', {
    xAxis: { type: 'value', name: 'days' },
    yAxis: { type: 'value', name: 'still enrolled', min: 0, max: 1 },
    series: km
  });

  chart('cohort', {
    tooltip: { position: 'top' },
    grid: { top: 30, left: 80, right: 40, bottom: 80 },
    xAxis: { type: 'category', name: 'months later', data: d.cohort.since },
    yAxis: { type: 'category', name: 'cohort', data: d.cohort.months },
    visualMap: { min: 0, max: 100, calculable: true, orient: 'horizontal', left: 'center', bottom: 0 },
    series: [{ name: 'retention %', type: 'heatmap', data: d.cohort.cells, label: { show: true, fontSize: 9 } }]
  });

  chart('routing', {
    xAxis: { type: 'category', data: d.routing.channels },
    yAxis: { type: 'value', name: 'cost per paid student' },
    series: [{ name: 'tiered', type: 'bar', data: d.routing.tiered }, { name: 'flat', type: 'bar', data: d.routing.flat }]
  });

  chart('model', {
    grid: [{ left: 60, right: '55%', top: 50, bottom: 40 }, { left: '55%', right: 40, top: 50, bottom: 40 }],
    xAxis: [{ type: 'category', name: 'decile', data: d.model.deciles, gridIndex: 0 },
            { type: 'value', name: 'predicted', min: 0, max: 1, gridIndex: 1 }],
    yAxis: [{ type: 'value', name: 'lift', gridIndex: 0 },
            { type: 'value', name: 'observed', min: 0, max: 1, gridIndex: 1 }],
    series: [
      { name: 'lift', type: 'bar', xAxisIndex: 0, yAxisIndex: 0, data: d.model.lift },
      { name: 'calibration', type: 'line', xAxisIndex: 1, yAxisIndex: 1, data: d.model.calibration },
      { name: 'perfect', type: 'line', xAxisIndex: 1, yAxisIndex: 1, showSymbol: false,
        lineStyle: { type: 'dashed' }, data: [[0, 0], [1, 1]] }
    ]
  });

  window.addEventListener('resize', function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  window.leadmgmtCharts = charts;
})();
</script>
</body>
</html>
`;
writeFileSync(outPath, page);
console.log(outPath);
