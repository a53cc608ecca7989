/**
 * Opens a report in headless Chromium: the parsed DOM must hold every chart with its data points, and a
 * screenshot must show the charts painted (pixels of a series colour and of a heat-map cell). Skipped, with the
 * reason, only when no Chromium binary exists (.ci/run installs Debian's `chromium` when it can).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { writeReport } from '../../src/report/report.js';
import { tempDir } from '../experiments/fixtures.js';
import { writeSyntheticExperiment } from './fixtures.js';
import { decodePng } from './png-decode.js';

const run = promisify(execFile);
const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

function findChromium(): string | null {
  const explicit = process.env['QROBUST_CHROMIUM'];
  if (explicit) return explicit;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    for (const name of NAMES) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        /* not here */
      }
    }
  }
  return null;
}

const CHROMIUM = findChromium();
const SKIP = CHROMIUM ? false : `no Chromium binary found (looked for ${NAMES.join(', ')} on PATH, and $QROBUST_CHROMIUM)`;

function flags(profile: string): string[] {
  return ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--hide-scrollbars', '--no-first-run', `--user-data-dir=${profile}`];
}

/** Pixels within `tol` of an RGB colour. */
function countColour(png: ReturnType<typeof decodePng>, rgb: readonly [number, number, number], tol = 3): number {
  let n = 0;
  for (let i = 0; i < png.width * png.height; i++) {
    const o = i * png.channels;
    if (Math.abs(png.pixels[o]! - rgb[0]) <= tol && Math.abs(png.pixels[o + 1]! - rgb[1]) <= tol && Math.abs(png.pixels[o + 2]! - rgb[2]) <= tol) n++;
  }
  return n;
}

test('headless Chromium renders the report charts with their data', { skip: SKIP, timeout: 180_000 }, async () => {
  const t = await tempDir('chromium');
  try {
    await writeSyntheticExperiment(t.dir);
    const html = join(t.dir, 'report.html');
    await writeReport({ dir: t.dir, out: html });
    const url = pathToFileURL(html).href;
    const dom = (await run(CHROMIUM!, [...flags(join(t.dir, 'profile-dom')), '--dump-dom', url], { maxBuffer: 64 << 20, timeout: 120_000 })).stdout;
    // Two line charts of three series with one marker at ε = 0 and two attack points each.
    const points = [...dom.matchAll(/<circle class="point"[^>]*data-x="([^"]+)" data-y="([^"]+)"/g)];
    assert.equal(points.length, 2 * 3 * 3);
    assert.ok(points.every((m) => Number.isFinite(Number(m[1])) && Number(m[2]) >= 0 && Number(m[2]) <= 1));
    assert.match(dom, /<rect class="cell" [^>]*data-row="fp" data-column="fp-w4" data-value="0\.6666666666666666"/);
    assert.equal((dom.match(/<rect class="bar"/g) ?? []).length, 2);
    assert.equal((dom.match(/<img src="data:image\/png/g) ?? []).length, 16);

    const shot = join(t.dir, 'shot.png');
    await run(CHROMIUM!, [...flags(join(t.dir, 'profile-shot')), '--window-size=1280,7000', `--screenshot=${shot}`, url], { timeout: 120_000 });
    const png = decodePng(await readFile(shot));
    assert.equal(png.width, 1280);
    // The variant's series colour (#E69F00) in the line charts and bars, and the heat-map cell of 4/6.
    assert.ok(countColour(png, [0xe6, 0x9f, 0x00]) > 500, 'series colour painted');
    const v = 4 / 6;
    const cell: [number, number, number] = [Math.round(247 + (8 - 247) * v), Math.round(251 + (48 - 251) * v), Math.round(255 + (107 - 255) * v)];
    assert.ok(countColour(png, cell) > 1000, `heat-map cell rgb(${cell.join(',')}) painted`);
  } finally {
    await t.cleanup();
  }
});
