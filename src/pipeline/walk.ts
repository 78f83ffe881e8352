import { opendir } from 'node:fs/promises';
import { join, relative } from 'node:path';

/**
 * Yields every regular file under `root` as a path relative to it, in a stable order
 * (sorted per folder) so that runs and reports are reproducible. Symbolic links are not
 * followed: a link out of the input tree must not pull in files nobody meant to release.
 */
export async function* walkFiles(root: string, exclude: (absPath: string) => boolean = () => false): AsyncGenerator<string> {
  const stack: string[] = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    if (exclude(dir)) continue;
    const entries: { name: string; dir: boolean; file: boolean }[] = [];
    for await (const d of await opendir(dir)) entries.push({ name: d.name, dir: d.isDirectory(), file: d.isFile() });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: string[] = [];
    for (const e of entries) {
      const abs = join(dir, e.name);
      if (e.dir) subdirs.push(abs);
      else if (e.file && !exclude(abs)) yield relative(root, abs);
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
}
