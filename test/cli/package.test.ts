/**
 * The package as npm publishes it: `npm pack` gives a tarball whose binary runs (`--version`, `--help`) with
 * only the package's declared dependencies beside it, that declares no install script of its own, and that does
 * not pull onnxruntime-node (whose install script fetches CUDA binaries) or tfjs-node: both are optional peers.
 * The dependencies are taken from this checkout's node_modules, so nothing is downloaded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const npm = process.env['npm_execpath'];

test('npm pack: the tarball runs with its dependencies only, declares no install script, leaves ORT and tfjs-node optional', { skip: npm ? false : 'not run through npm (npm_execpath unset)' }, async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'qrobust-pack-'));
  try {
    const packed = spawnSync(process.execPath, [npm!, 'pack', '--json', '--pack-destination', tmp], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } });
    assert.equal(packed.status, 0, packed.stderr);
    assert.equal(packed.stderr.trim(), '', 'npm pack prints no warning');
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const files = new Set(info!.files.map((f) => f.path));
    assert.ok(files.has('dist/src/cli/bin.js') && files.has('README.md') && files.has('package.json'));
    assert.ok(![...files].some((f) => f.startsWith('dist/test/') || f.startsWith('src/')), 'only the built library, docs and README');
    const untar = spawnSync('tar', ['-xzf', join(tmp, info!.filename), '-C', tmp], { encoding: 'utf8' });
    assert.equal(untar.status, 0, untar.stderr);
    const pkgDir = join(tmp, 'package');
    const pkg = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>; scripts?: Record<string, string>; peerDependenciesMeta: Record<string, { optional?: boolean }>; bin: Record<string, string>;
    };
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(pkg.scripts?.[hook], undefined, `no ${hook} script`);
    for (const name of ['onnxruntime-node', '@tensorflow/tfjs-node']) {
      assert.equal(pkg.dependencies[name], undefined, `${name} is not a dependency`);
      assert.equal(pkg.peerDependenciesMeta[name]?.optional, true, `${name} is an optional peer`);
    }
    // The declared dependencies (from this checkout), and nothing else the binary needs.
    await symlink(join(ROOT, 'node_modules'), join(pkgDir, 'node_modules'), 'dir');
    const bin = join(pkgDir, pkg.bin['qrobust']!);
    const version = spawnSync(process.execPath, ['--no-concurrent-recompilation', bin, '--version'], { encoding: 'utf8' });
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout, `${JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version}\n`);
    const help = spawnSync(process.execPath, ['--no-concurrent-recompilation', bin, 'verify', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /--vnnlib/);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
