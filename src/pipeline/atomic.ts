/**
 * Atomic output: each file is written under a temporary name in its final folder and then
 * linked into place. `link` fails if the target exists, which gives an exclusive claim on an
 * output path without any coordination between worker threads.
 *
 * The per-file path is synchronous on purpose: it runs in worker threads, where a blocking call
 * costs nothing, while the promise API pays a round trip through libuv's thread pool for each of
 * the ~10 calls a file needs (measured: the workers sat idle a third of the time waiting on them).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, linkSync, mkdirSync, openSync, readFileSync, readSync, statSync, unlinkSync, writevSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export type ClaimResult =
  | { readonly kind: 'written' }
  /** The same bytes were already there; `mtimeMs` tells an earlier run's file from this run's. */
  | { readonly kind: 'identical'; readonly mtimeMs: number }
  | { readonly kind: 'conflict' };

/**
 * The file I/O of one thread: a read buffer reused from file to file (a fresh buffer per file
 * kept the garbage collector busy), and the set of output folders already made.
 */
export class FileIO {
  private buffer = Buffer.allocUnsafeSlow(1 << 20);
  private readonly folders = new Set<string>();
  /** Temporary names: unique per thread by a random prefix, per file by a counter (no random bytes per file). */
  private readonly tmpPrefix = `.${process.pid}-${randomBytes(4).toString('hex')}-`;
  private tmpCounter = 0;

  /** The whole file, as a view valid until the next call. */
  readWhole(path: string): Uint8Array {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size > this.buffer.length) this.buffer = Buffer.allocUnsafeSlow(Math.max(size, this.buffer.length * 2));
      let n = 0;
      while (n < size) {
        const k = readSync(fd, this.buffer, n, size - n, n);
        if (k === 0) break;
        n += k;
      }
      return this.buffer.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  }

  ensureFolder(dir: string): void {
    if (this.folders.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    if (this.folders.size > 100_000) this.folders.clear();
    this.folders.add(dir);
  }

  /**
   * Writes `chunks` to `path` unless a file is already there. An existing file with the same
   * bytes is the output of an earlier, interrupted run (outputs are deterministic): 'identical'.
   */
  writeExclusive(path: string, chunks: readonly Uint8Array[]): ClaimResult {
    const dir = dirname(path);
    this.ensureFolder(dir);
    const tmp = join(dir, `${this.tmpPrefix}${(this.tmpCounter++).toString(36)}.tmp`);
    const fd = openSync(tmp, 'wx');
    try {
      writevSync(fd, chunks as Uint8Array[]);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, path);
      return { kind: 'written' };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      return sameBytes(path, chunks) ? { kind: 'identical', mtimeMs: statSync(path).mtimeMs } : { kind: 'conflict' };
    } finally {
      try {
        unlinkSync(tmp);
      } catch {
        // already gone: nothing to clean
      }
    }
  }
}

function sameBytes(path: string, chunks: readonly Uint8Array[]): boolean {
  const existing = readFileSync(path);
  let pos = 0;
  for (const c of chunks) {
    if (pos + c.length > existing.length) return false;
    if (!Buffer.from(existing.buffer, existing.byteOffset + pos, c.length).equals(c)) return false;
    pos += c.length;
  }
  return pos === existing.length;
}

export interface ReplaceOptions {
  /** File mode, set when the temporary file is created (a private key is never readable by others, not even briefly). */
  readonly mode?: number;
}

/**
 * Replaces `path` atomically (reports, indexes, tables, images, keys): the data goes to a
 * temporary file in the same folder, which is then renamed over `path`, so a reader never sees a
 * half-written file; on failure the temporary file is removed. An iterable of text pieces is
 * written in pieces of about 1 MB, so a large table is never one string in memory.
 */
export async function writeReplacing(path: string, data: string | Uint8Array | Iterable<string>, options: ReplaceOptions = {}): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', options.mode ?? 0o666);
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) {
      await fh.writev([typeof data === 'string' ? Buffer.from(data, 'utf8') : data]);
    } else {
      let piece: string[] = [];
      let length = 0;
      for (const text of data) {
        piece.push(text);
        length += text.length;
        if (length >= 1 << 20) {
          await fh.write(piece.join(''));
          piece = [];
          length = 0;
        }
      }
      if (piece.length > 0) await fh.write(piece.join(''));
    }
    if (options.mode !== undefined) await fh.chmod(options.mode);
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}
