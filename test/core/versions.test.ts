import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot, packageVersion, versions } from '../../src/core/versions.js';

const manifest = (dir: string): { version: string } => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };

test('package versions come from the installed package.json, also where exports hide it (highs)', () => {
  for (const name of ['highs', 'z3-solver', '@tensorflow/tfjs-core']) {
    assert.equal(packageVersion(name), manifest(join(packageRoot(), 'node_modules', name)).version, name);
  }
  assert.equal(packageVersion('qrobust-no-such-package'), 'not installed');
});

test('versions() names qrobust, node and the tfjs packages', () => {
  const v = versions();
  assert.equal(v['qrobust'], manifest(packageRoot()).version);
  assert.equal(v['node'], process.versions.node);
  assert.equal(v['@tensorflow/tfjs-layers'], packageVersion('@tensorflow/tfjs-layers'));
  assert.notEqual(v['@tensorflow/tfjs-layers'], 'not installed');
});
