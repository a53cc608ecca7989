/** `--shard K/N` plus `qrobust merge` give exactly the records of the unsharded run; merge refuses inconsistent inputs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { mergeRuns } from '../../src/experiments/merge.js';
import { RESULTS_FILE } from '../../src/experiments/results-file.js';
import { runExperiment } from '../../src/experiments/runner.js';
import { parseShard } from '../../src/experiments/shard.js';
import { runCliCaptured } from '../fixtures/cli.js';
import { comparable, recordsOf, tempDir, tinyConfig, writeConfig } from './fixtures.js';

test('two shards merged equal the unsharded run, and merge rejects duplicates, other configs and different models', async () => {
  await initBackend('wasm');
  const t = await tempDir('shard');
  try {
    const config = await writeConfig(t.dir, tinyConfig());
    const [a, b, whole, merged] = ['shard1', 'shard2', 'whole', 'merged'].map((d) => join(t.dir, d)) as [string, string, string, string];
    const s1 = await runExperiment({ config, out: a, shard: parseShard('1/2') });
    const s2 = await runExperiment({ config, out: b, shard: parseShard('2/2') });
    assert.equal(s1.inShard + s2.inShard, s1.tasks);
    assert.ok(Math.abs(s1.inShard - s2.inShard) <= 1);
    const m = await runCliCaptured(['merge', a, b, '--out', merged]);
    assert.equal(m.code, 0, m.err);
    assert.match(m.out, new RegExp(`^${s1.tasks} of ${s1.tasks} tasks merged`));
    await runExperiment({ config, out: whole });
    const mergedRecords = await recordsOf(merged);
    const wholeRecords = await recordsOf(whole);
    assert.deepEqual(comparable(mergedRecords), comparable(wholeRecords));
    assert.deepEqual(
      mergedRecords.map((r) => r.id),
      wholeRecords.map((r) => r.id),
      'merged records are in task order',
    );
    assert.deepEqual(new Set(mergedRecords.map((r) => r.run.shard)), new Set(['1/2', '2/2']));

    await assert.rejects(mergeRuns({ dirs: [a, a], out: join(t.dir, 'm1') }), /is given twice/);
    await assert.rejects(mergeRuns({ dirs: [a, b], out: merged }), /exists already/);
    await cp(a, join(t.dir, 'copy'), { recursive: true });
    await assert.rejects(mergeRuns({ dirs: [a, join(t.dir, 'copy')], out: join(t.dir, 'm2') }), /task [0-9a-f]{16} \(.*\) is finished in both/);

    const other = await writeConfig(t.dir, { ...tinyConfig(), seed: 4 }, 'other.json');
    await runExperiment({ config: other, out: join(t.dir, 'other'), shard: parseShard('1/50') });
    await assert.rejects(mergeRuns({ dirs: [a, join(t.dir, 'other')], out: join(t.dir, 'm3') }), /ran a different config than .*shard1 \(config hash/);

    // A shard whose models came out different (as if its machine trained differently) is refused.
    const tampered = join(t.dir, 'tampered');
    await cp(b, tampered, { recursive: true });
    const text = await readFile(join(tampered, RESULTS_FILE), 'utf8');
    const sha = (await recordsOf(a)).flatMap((r) => Object.values(r.inputs))[0]!;
    await writeFile(join(tampered, RESULTS_FILE), text.split(sha).join('0'.repeat(64)));
    await assert.rejects(mergeRuns({ dirs: [a, tampered], out: join(t.dir, 'm4') }), /has weights .* but 000000000000… in .*tampered; the shards built different models/);
  } finally {
    await t.cleanup();
  }
});
