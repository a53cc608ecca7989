#!/usr/bin/env node
/** The `qrobust` executable: the only place that touches process.argv and process.exitCode. */
import { runCli } from './main.js';

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
process.exitCode = code;
