/**
 * Lists the names `src/` exports that no other file of src/, test/, bench/ or scripts/ mentions, and that the
 * public API (`src/index.ts` and what it re-exports with `export *`) does not export:
 *
 *     node dist/scripts/unused-exports.js [--local]
 *
 * `unused` rows are not even used in their own file (dead code); with `--local`, also the names used only in
 * their own file (an `export` that could go). It reads text, not types: a name that merely occurs elsewhere (in a
 * comment, or another thing of the same name) counts as used, so the list errs towards keeping code.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOTS = ['src', 'test', 'bench', 'scripts'];
const DECLARATION = /^export (?:async )?(?:function\*?|const|let|class|abstract class|interface|type|enum) ([A-Za-z_$][\w$]*)/gm;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const path = join(dir, f);
    return statSync(path).isDirectory() ? tsFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function exportedByList(text: string): string[] {
  return [...text.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap((m) =>
    m[1]!.split(',').map((n) => n.trim().replace(/^type /, '').split(/\s+as\s+/).pop()!.trim()).filter(Boolean),
  );
}

function publicNames(files: ReadonlyMap<string, string>): Set<string> {
  const index = files.get(join('src', 'index.ts')) ?? '';
  const names = new Set(exportedByList(index));
  for (const m of index.matchAll(/export \* from '\.\/(.+)\.js'/g)) {
    const text = files.get(join('src', `${m[1]}.ts`)) ?? '';
    for (const n of exportedByList(text)) names.add(n);
    for (const d of text.matchAll(DECLARATION)) names.add(d[1]!);
  }
  return names;
}

const files = new Map(ROOTS.flatMap(tsFiles).map((f) => [f, readFileSync(f, 'utf8')] as const));
const exported = publicNames(files);
const withLocal = process.argv.includes('--local');
for (const [path, text] of files) {
  if (!path.startsWith('src/')) continue;
  for (const d of text.matchAll(DECLARATION)) {
    const name = d[1]!;
    if (exported.has(name)) continue;
    const word = new RegExp(`\\b${name.replace(/\$/g, '\\$')}\\b`, 'g');
    const reexport = new RegExp(`export (?:type )?\\{[^}]*\\b${name.replace(/\$/g, '\\$')}\\b[^}]*\\} from`);
    const elsewhere = [...files].some(([other, t]) => other !== path && (t.match(word)?.length ?? 0) > (reexport.test(t) ? 1 : 0));
    if (elsewhere) continue;
    const own = text.match(word)?.length ?? 0;
    if (own <= 1) console.log(`unused  ${path}  ${name}`);
    else if (withLocal) console.log(`local   ${path}  ${name}`);
  }
}
