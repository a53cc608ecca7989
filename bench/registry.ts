/**
 * Every benchmark `npm run bench` knows, in the order it runs them. To add one, write a file under bench/ that
 * exports a `Benchmark` (see harness.ts) and list it here.
 */
import { attackThroughput } from './attack-throughput.js';
import { cnnThroughput } from './cnn-throughput.js';
import { parallelThroughput } from './parallel-throughput.js';
import type { Benchmark } from './harness.js';
import { verifyThroughput } from './verify-throughput.js';

export const BENCHMARKS: readonly Benchmark[] = [cnnThroughput, parallelThroughput, attackThroughput, verifyThroughput];
