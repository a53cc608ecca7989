/**
 * The work queue on a real broker: a `redis-server` on a free port, one `qrobust run --queue` collecting, three
 * `qrobust worker` processes, one of them killed (SIGKILL) in the middle of a task. results.jsonl must hold
 * every task once, with the same records as a single-process `qrobust run` of the config (timing aside), and
 * the killed worker's task must have been finished by another worker. Enqueueing twice queues nothing twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import { RESULTS_FILE } from '../../src/experiments/results-file.js';
import { runExperiment } from '../../src/experiments/runner.js';
import { parseBrokerUrl } from '../../src/experiments/queue/broker-url.js';
import { runCliCaptured } from '../fixtures/cli.js';
import { comparable, recordsOf, tempDir, writeConfig } from './fixtures.js';
import { redisUnavailable, startRedis } from './redis-server.js';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const HIDE = fileURLToPath(new URL('../fixtures/hide-packages.js', import.meta.url));
const SKIP = redisUnavailable() ?? false;

/** Eleven small tasks: a trained mlp-tiny (each worker trains its own copy, under a second), two variants, attacks. */
function queueConfig(): Record<string, unknown> {
  return {
    name: 'queue',
    seed: 5,
    data: { n: 16, examples: 0 },
    models: [{ name: 'mlp', train: { dataset: 'mnist', arch: 'mlp-tiny', epochs: 2, n: 512, batchSize: 64 } }],
    quantize: [
      { name: 'w4', spec: { weights: { bits: 4 } } },
      { name: 'w2', spec: { weights: { bits: 2 } } },
    ],
    attacks: [
      { attack: 'fgsm', eps: [0.05, 0.1] },
      { attack: 'pgd', eps: [0.1], steps: 5 },
    ],
  };
}

interface Child {
  readonly process: ChildProcess;
  readonly out: () => string;
  readonly err: () => string;
  /** Resolves with the first match of `pattern` in stderr (searched again on every new chunk). */
  readonly waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  readonly exited: Promise<number | null>;
}

function qrobust(args: readonly string[]): Child {
  const p = spawn(process.execPath, ['--no-concurrent-recompilation', BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code)));
  const waitFor = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; stderr:\n${err}`)), timeoutMs);
      const check = () => {
        const m = pattern.exec(err);
        if (m) {
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(check), 1);
          resolve(m);
        }
      };
      waiters.push(check);
      check();
    });
  return { process: p, out: () => out, err: () => err, waitFor, exited };
}

test('3 workers on a real redis-server, one killed mid-task: results.jsonl equals the single-process run', { skip: SKIP, timeout: 120_000 }, async () => {
  const t = await tempDir('queue');
  const redis = await startRedis(t.dir);
  const workers: Child[] = [];
  let queue: Queue | undefined;
  try {
    const config = await writeConfig(t.dir, queueConfig());
    const whole = join(t.dir, 'whole');
    const out = join(t.dir, 'queued');
    const single = await runExperiment({ config, out: whole });
    queue = new Queue('qrobust', { connection: { url: redis.url } });

    // Enqueue, and kill the collector before any worker exists: the jobs stay on the broker.
    const first = qrobust(['run', config, '--out', out, '--queue', redis.url, '--backoff', '0.2']);
    for (let i = 0; i < 200 && (await queue.getJobCounts('waiting'))['waiting'] !== single.tasks; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await queue.getJobCounts('waiting'))['waiting'], single.tasks, 'every task is queued');
    first.process.kill('SIGKILL');
    await first.exited;

    // A second collector queues nothing twice (the job id is the task id) and collects everything.
    const collector = qrobust(['run', config, '--out', out, '--queue', redis.url, '--backoff', '0.2']);
    await collector.waitFor(/to run\n/);
    // The third runs two tasks at a time, interleaved on its thread.
    for (let n = 0; n < 3; n++) workers.push(qrobust(['worker', '--queue', redis.url, '--lease', '3', ...(n === 2 ? ['--concurrency', '2'] : [])]));
    // Kill the first worker that starts a task which reads a model (it trains its copy first: mid-task for sure).
    const victim = await Promise.race(workers.map((w) => w.waitFor(/^start ([0-9a-f]{16}) (?!data)(.*)$/m).then((m) => ({ w, id: m[1]!, label: m[2]! }))));
    victim.w.process.kill('SIGKILL');
    await victim.w.exited;
    assert.doesNotMatch(victim.w.err(), new RegExp(`^done ${victim.id}`, 'm'), 'the worker was killed before it finished its task');

    assert.equal(await collector.exited, 0, collector.err());
    assert.match(collector.out(), new RegExp(`^${single.tasks} tasks run on the queue, 0 already finished, 0 failed`));
    const records = await recordsOf(out);
    assert.equal(records.length, single.tasks, 'each task once in results.jsonl');
    assert.deepEqual(comparable(records), comparable(await recordsOf(whole)));
    const redone = records.find((r) => r.id === victim.id)!;
    assert.ok(redone.run.worker && !redone.run.worker.endsWith(`/${victim.w.process.pid}`), `the killed worker's task (${victim.label}) was finished by another worker, not ${redone.run.worker}`);

    // The surviving workers stop on SIGTERM, after their running task.
    for (const w of workers.filter((w) => w !== victim.w)) {
      w.process.kill('SIGTERM');
      assert.equal(await w.exited, 0, w.err());
      assert.match(w.out(), /^worker .*\/\d+: \d+ tasks? done, 0 failed\n$/);
    }
    // Everything finished: a re-run queues nothing and leaves nothing on the broker.
    const again = await runCliCaptured(['run', config, '--out', out, '--queue', redis.url]);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, new RegExp(`^0 tasks run on the queue, ${single.tasks} already finished`));
    const left = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
    assert.deepEqual(Object.values(left), [0, 0, 0, 0, 0], JSON.stringify(left));
    assert.equal((await readFile(join(out, RESULTS_FILE), 'utf8')).split('\n').filter(Boolean).length, single.tasks);
  } finally {
    for (const w of workers) if (w.process.exitCode === null && w.process.signalCode === null) w.process.kill('SIGKILL');
    await queue?.close();
    await redis.stop();
    await t.cleanup();
  }
});

test('a task that fails on every attempt is retried, reported (exit 1) and queued afresh by the next run', { skip: SKIP, timeout: 120_000 }, async () => {
  const t = await tempDir('queue-retry');
  const redis = await startRedis(t.dir);
  let worker: Child | undefined;
  try {
    // A model directory to load: the config is valid when it is queued, and the directory is gone when the worker reads it.
    const trainConfig = await writeConfig(t.dir, { name: 'net', data: { n: 8 }, models: [{ name: 'net', train: { dataset: 'mnist', arch: 'mlp-tiny', epochs: 1, n: 256 } }] }, 'train.json');
    await runExperiment({ config: trainConfig, out: join(t.dir, 'trained') });
    const net = join(t.dir, 'net');
    const restore = () => cp(join(t.dir, 'trained', 'models', 'net'), net, { recursive: true });
    await restore();
    const config = await writeConfig(t.dir, { name: 'loaded', data: { n: 8 }, models: [{ name: 'net', load: 'net' }] });
    const whole = await runExperiment({ config, out: join(t.dir, 'whole') });
    const out = join(t.dir, 'queued');

    const failing = qrobust(['run', config, '--out', out, '--queue', redis.url, '--attempts', '2', '--backoff', '0.1']);
    await failing.waitFor(/to run\n/);
    await rm(net, { recursive: true });
    worker = qrobust(['worker', '--queue', redis.url, '--lease', '3']);
    assert.equal(await failing.exited, 1, failing.err());
    assert.match(failing.out(), new RegExp(`^0 tasks run on the queue, 0 already finished, ${whole.tasks} failed`));
    assert.equal(failing.err().match(/^failed after 2 attempts: .*: .*\$\.models\[0\]\.load: /gm)?.length, whole.tasks, failing.err());
    assert.equal(worker.err().match(/^start [0-9a-f]{16} .* \(attempt 2\)$/gm)?.length, whole.tasks, 'each task was tried twice');
    assert.deepEqual(await recordsOf(out), []);

    await restore();
    const again = qrobust(['run', config, '--out', out, '--queue', redis.url]);
    assert.equal(await again.exited, 0, again.err());
    assert.match(again.out(), new RegExp(`^${whole.tasks} tasks run on the queue, 0 already finished, 0 failed`));
    assert.deepEqual(comparable(await recordsOf(out)), comparable(await recordsOf(join(t.dir, 'whole'))));
    worker.process.kill('SIGTERM');
    assert.equal(await worker.exited, 0, worker.err());
  } finally {
    if (worker && worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill('SIGKILL');
    await redis.stop();
    await t.cleanup();
  }
});

test('--queue: a bad URL or an unreachable broker is one line naming it, exit 2', async () => {
  assert.deepEqual(parseBrokerUrl('redis://127.0.0.1:6380/2'), { url: 'redis://127.0.0.1:6380/2', display: 'redis://127.0.0.1:6380/2' });
  assert.equal(parseBrokerUrl('redis://user:secret@broker').display, 'redis://broker:6379', 'no password in messages');
  assert.throws(() => parseBrokerUrl('localhost:6379'), /--queue: expected redis:\/\/HOST:PORT .*got the scheme 'localhost'/);
  assert.throws(() => parseBrokerUrl('redis:///0'), /got no host/);
  const t = await tempDir('queue-errors');
  try {
    const config = await writeConfig(t.dir, queueConfig());
    const bad = await runCliCaptured(['run', config, '--out', join(t.dir, 'out'), '--queue', 'http://127.0.0.1:1']);
    assert.equal(bad.code, 2);
    assert.equal(bad.err, "qrobust run: --queue: expected redis://HOST:PORT (or rediss://, with an optional /DB), got the scheme 'http' in 'http://127.0.0.1:1'\n");
    // Port 1 on the loopback: nothing listens there, so the connection is refused at once.
    const down = await runCliCaptured(['run', config, '--out', join(t.dir, 'out'), '--queue', 'redis://127.0.0.1:1']);
    assert.equal(down.code, 2);
    assert.match(down.err, /^qrobust run: redis:\/\/127\.0\.0\.1:1: cannot connect to the Redis broker \(.*ECONNREFUSED.*\)\n$/);
    const worker = await runCliCaptured(['worker', '--queue', 'redis://127.0.0.1:1']);
    assert.equal(worker.code, 2);
    assert.match(worker.err, /^qrobust worker: redis:\/\/127\.0\.0\.1:1: cannot connect to the Redis broker/);
    const both = await runCliCaptured(['run', config, '--out', join(t.dir, 'out'), '--queue', 'redis://127.0.0.1:1', '--shard', '1/2']);
    assert.equal(both.code, 2);
    assert.match(both.err, /--queue and --shard exclude each other/);
  } finally {
    await t.cleanup();
  }
});

test('without the optional peers bullmq and ioredis, run --queue and worker say how to install them; --help still works', () => {
  const env = { ...process.env, QROBUST_HIDE_PACKAGES: 'bullmq,ioredis' };
  const node = (args: readonly string[]) => spawnSync(process.execPath, ['--no-concurrent-recompilation', '--import', pathToFileURL(HIDE).href, BIN, ...args], { encoding: 'utf8', env });
  const worker = node(['worker', '--queue', 'redis://127.0.0.1:1']);
  assert.equal(worker.status, 2, worker.stderr);
  assert.equal(worker.stderr, 'qrobust worker: the work queue needs the optional packages bullmq and ioredis: npm install bullmq@6.7.6 ioredis@6.1.0\n');
  const run = node(['run', 'experiment.json', '--out', 'out', '--queue', 'redis://127.0.0.1:1']);
  assert.equal(run.status, 2, run.stderr);
  assert.equal(run.stderr, 'qrobust run: the work queue needs the optional packages bullmq and ioredis: npm install bullmq@6.7.6 ioredis@6.1.0\n');
  const help = node(['worker', '--help']);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /--lease SECONDS/);
});
