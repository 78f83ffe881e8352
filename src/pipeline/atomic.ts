/**
 * Atomic output: each file is written under a temporary name in its final folder and then
 * linked into place. `link` fails if the target exists, which gives an exclusive claim on an
 * output path without any coordination between worker threads.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, link, unlink, readFile, rename, stat } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';

export type ClaimResult =
  | { readonly kind: 'written' }
  /** The same bytes were already there; `mtimeMs` tells an earlier run's file from this run's. */
  | { readonly kind: 'identical'; readonly mtimeMs: number }
  | { readonly kind: 'conflict' };

async function writeTemp(path: string, chunks: readonly Uint8Array[]): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx');
  try {
    await fh.writev(chunks as Uint8Array[]);
  } finally {
    await fh.close();
  }
  return tmp;
}

/**
 * Writes `chunks` to `path` unless a file is already there. An existing file with the same
 * bytes is the output of an earlier, interrupted run (outputs are deterministic): 'identical'.
 */
export async function writeExclusive(path: string, chunks: readonly Uint8Array[]): Promise<ClaimResult> {
  const tmp = await writeTemp(path, chunks);
  try {
    await link(tmp, path);
    return { kind: 'written' };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const existing = await readFile(path);
    if (!equalsChunks(existing, chunks)) return { kind: 'conflict' };
    return { kind: 'identical', mtimeMs: (await stat(path)).mtimeMs };
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Replaces `path` atomically (for reports and indexes that are rewritten). */
export async function writeReplacing(path: string, data: string | Uint8Array): Promise<void> {
  const chunk = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const tmp = await writeTemp(path, [chunk]);
  await rename(tmp, path);
}

function equalsChunks(buf: Buffer, chunks: readonly Uint8Array[]): boolean {
  let pos = 0;
  for (const c of chunks) {
    if (pos + c.length > buf.length) return false;
    if (!buf.subarray(pos, pos + c.length).equals(c)) return false;
    pos += c.length;
  }
  return pos === buf.length;
}
