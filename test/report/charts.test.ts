import { test } from 'node:test';
import assert from 'node:assert/strict';
import { barChart } from '../../src/report/charts/bar-chart.js';
import { heatmap } from '../../src/report/charts/heatmap.js';
import { lineChart } from '../../src/report/charts/line-chart.js';
import { escapeXml, niceTicks } from '../../src/report/charts/svg.js';
import { formatCell, tableToCsv } from '../../src/report/table.js';

test('round ticks cover the range in steps of 1, 2 or 5 times a power of ten', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 0.3, 6), [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]);
  assert.deepEqual(niceTicks(2, 2), [2]);
});

test('a line chart draws one marker per data point, carrying its values, inside the plot', () => {
  const svg = lineChart({
    title: 'robust <accuracy>',
    xLabel: 'ε',
    yLabel: 'acc',
    yDomain: [0, 1],
    series: [
      { name: 'a', color: '#000000', points: [{ x: 0, y: 1 }, { x: 0.1, y: 0.5 }, { x: 0.2, y: 0 }] },
      { name: 'b & c', color: '#E69F00', dashed: true, points: [{ x: 0.1, y: 0.25 }] },
    ],
  });
  assert.equal((svg.match(/<circle class="point"/g) ?? []).length, 4);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 1);
  assert.match(svg, /data-x="0\.1" data-y="0\.25"/);
  assert.match(svg, /robust &lt;accuracy&gt;/);
  assert.match(svg, /data-series="b &amp; c"/);
  assert.match(svg, /stroke-dasharray/);
  const ys = [...svg.matchAll(/class="point" cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => Number(m[2]));
  // y = 1 at the top of the plot, y = 0 at the bottom (SVG y grows downwards)
  assert.ok(ys[0]! < ys[1]! && ys[1]! < ys[2]!);
});

test('a heat map has one cell per pair, grey where nothing was measured', () => {
  const svg = heatmap({ title: 't', rowLabel: 'r', columnLabel: 'c', rows: ['x', 'y'], columns: ['u', 'v', 'w'], values: [[0, 0.5, 1], [null, 0.25, null]] });
  assert.equal((svg.match(/<rect class="cell"/g) ?? []).length, 4);
  assert.equal((svg.match(/<rect class="cell empty"/g) ?? []).length, 2);
  assert.match(svg, /data-row="x" data-column="v" data-value="0\.5"/);
  assert.match(svg, />50%</);
});

test('a bar chart draws one bar per non-null value', () => {
  const svg = barChart({ title: 't', yLabel: 'y', categories: ['l1', 'l2'], series: [{ name: 's', color: '#000', values: [0.5, null] }, { name: 'z', color: '#111', values: [1, 2] }], reference: 1 });
  assert.equal((svg.match(/<rect class="bar"/g) ?? []).length, 3);
  assert.match(svg, /class="reference"/);
});

test('CSV quotes what needs quoting and keeps numbers unrounded; cells format by column', () => {
  const csv = tableToCsv({
    id: 't',
    title: 't',
    columns: [
      { key: 'a', label: 'name' },
      { key: 'b', label: 'value, %' },
    ],
    rows: [
      { a: 'say "hi"', b: 0.123456789 },
      { a: 'x', b: null },
    ],
  });
  assert.equal(csv, 'name,"value, %"\r\n"say ""hi""",0.123456789\r\nx,\r\n');
  assert.equal(formatCell(0.123456, 'percent'), '12.3%');
  assert.equal(formatCell(null, 'percent'), '–');
  assert.equal(formatCell(12.6, 'integer'), '13');
  assert.equal(escapeXml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});
