/** `--shard K/N` plus `qrobust merge` give exactly the records of the unsharded run; merge refuses inconsistent inputs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/backend.js';
import { mergeRuns } from '../../src/experiments/merge.js';
import { RESULTS_FILE } from '../../src/experiments/results-file.js';
import { runExperiment } from '../../src/experiments/runner.js';
import { parseShard, resolveShardOption, scheduledShard } from '../../src/experiments/shard.js';
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

test('--shard auto: the share of a Slurm job array or a Kubernetes Indexed Job, or one line naming what is missing', () => {
  const slurm = { SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_MIN: '5', SLURM_ARRAY_TASK_MAX: '8', SLURM_ARRAY_TASK_COUNT: '4' };
  assert.deepEqual(scheduledShard('auto', slurm), { shard: { index: 3, count: 4 }, source: 'Slurm' });
  // 0-based arrays with a step (--array=0-8:4 gives 0, 4, 8), and no _COUNT.
  assert.deepEqual(scheduledShard('auto', { SLURM_ARRAY_TASK_ID: '8', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '8', SLURM_ARRAY_TASK_STEP: '4' }).shard, { index: 3, count: 3 });
  assert.deepEqual(scheduledShard('auto/3', { JOB_COMPLETION_INDEX: '0' }), { shard: { index: 1, count: 3 }, source: 'Kubernetes' });
  assert.deepEqual(scheduledShard('auto', { JOB_COMPLETION_INDEX: '2', QROBUST_SHARD_COUNT: '3' }).shard, { index: 3, count: 3 });
  assert.throws(() => scheduledShard('auto', {}), /^QrobustError: --shard auto: no scheduler share in the environment \(SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX\)$/);
  assert.throws(() => scheduledShard('auto', { JOB_COMPLETION_INDEX: '1' }), /pass --shard auto\/N or set QROBUST_SHARD_COUNT/);
  assert.throws(() => scheduledShard('auto/2', { JOB_COMPLETION_INDEX: '2' }), /Kubernetes gives shard 3 of 2/);
  assert.throws(() => scheduledShard('auto/5', slurm), /--shard auto\/5: Slurm says there are 4 shards/);
  assert.throws(() => scheduledShard('auto', { SLURM_ARRAY_TASK_ID: '3' }), /SLURM_ARRAY_TASK_MIN is not/);
  assert.throws(() => scheduledShard('auto', { SLURM_ARRAY_TASK_ID: 'x', SLURM_ARRAY_TASK_MIN: '0' }), /SLURM_ARRAY_TASK_ID=x is not a non-negative integer/);
  assert.throws(() => scheduledShard('autox', slurm), /expected K\/N, auto or auto\/N/);
  assert.deepEqual(resolveShardOption('auto', '/shared/run/', slurm), { shard: { index: 3, count: 4 }, out: '/shared/run/shard-3-of-4', source: 'Slurm' });
  assert.deepEqual(resolveShardOption('2/4', '/shared/run', slurm), { shard: { index: 2, count: 4 }, out: '/shared/run', source: null });
  assert.deepEqual(resolveShardOption(undefined, 'r', slurm), { shard: null, out: 'r', source: null });
});

test('qrobust run --shard auto in a job array: each index runs its share into its own folder of the shared directory; merge gives the whole run', async () => {
  await initBackend('wasm');
  const t = await tempDir('shard-auto');
  try {
    const config = await writeConfig(t.dir, tinyConfig());
    const shared = join(t.dir, 'shared');
    const saved = process.env['JOB_COMPLETION_INDEX'];
    try {
      for (const index of ['0', '1']) {
        process.env['JOB_COMPLETION_INDEX'] = index;
        const r = await runCliCaptured(['run', config, '--out', shared, '--shard', 'auto/2']);
        assert.equal(r.code, 0, r.err);
        assert.match(r.err, new RegExp(`shard ${Number(index) + 1}/2 from Kubernetes → .*shard-${Number(index) + 1}-of-2`));
      }
    } finally {
      if (saved === undefined) delete process.env['JOB_COMPLETION_INDEX'];
      else process.env['JOB_COMPLETION_INDEX'] = saved;
    }
    const m = await runCliCaptured(['merge', join(shared, 'shard-1-of-2'), join(shared, 'shard-2-of-2'), '--out', join(t.dir, 'merged')]);
    assert.equal(m.code, 0, m.err);
    await runExperiment({ config, out: join(t.dir, 'whole') });
    assert.deepEqual(comparable(await recordsOf(join(t.dir, 'merged'))), comparable(await recordsOf(join(t.dir, 'whole'))));
  } finally {
    await t.cleanup();
  }
});
