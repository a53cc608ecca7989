#!/usr/bin/env -S node --no-concurrent-recompilation
/**
 * The `qrobust` executable: the only place that touches process.argv and process.exitCode. Node runs without
 * V8's concurrent recompilation: with it, Node 20 can deadlock at exit after wasm-heavy work (see
 * test/cli/exit.test.ts).
 */
import { runCli } from './main.js';

const onInterrupt = (handler: () => void): void => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, handler);
};
const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, onInterrupt });
process.exitCode = code;
// The command has returned and its files are written. Should a solver's worker threads outlive it (Z3's
// threads after an abort do not always stop when asked), end anyway; the timer does not itself hold the process.
setTimeout(() => process.exit(code), 5000).unref();
