/**
 * Decoders and encoders keyed by transfer syntax, after pydicom's `pixels/decoders/base.py`:
 * plug-ins are registered explicitly, loaded on first use (a WASM module is compiled and
 * initialised once per process and then reused), tried in order, and when none succeeds every
 * failure is gathered into one error that names the syntax.
 */
import { builtinPlugins } from './plugins.js';
import type { CodecPlugin, FrameDecoder, FrameEncoder } from './plugin.js';

export interface Loaded<T> {
  readonly codecs: readonly T[];
  /** Why plug-ins for the syntax failed to load ("name: reason"). */
  readonly failures: readonly string[];
}

export class CodecRegistry {
  private readonly plugins: CodecPlugin[] = [];
  private readonly loading = new Map<CodecPlugin, Promise<{ readonly decoder?: FrameDecoder; readonly encoder?: FrameEncoder }>>();

  constructor(plugins: readonly CodecPlugin[] = []) {
    for (const p of plugins) this.register(p);
  }

  /** Adds a plug-in after those already registered (earlier ones are tried first). */
  register(plugin: CodecPlugin): void {
    this.plugins.push(plugin);
  }

  /** Whether any plug-in claims to decode the syntax. */
  canDecode(syntax: string): boolean {
    return this.plugins.some((p) => p.decodes.includes(syntax));
  }

  /** Whether any plug-in claims to encode the syntax losslessly. */
  canEncode(syntax: string): boolean {
    return this.plugins.some((p) => p.encodes.includes(syntax));
  }

  private loadPlugin(plugin: CodecPlugin): Promise<{ readonly decoder?: FrameDecoder; readonly encoder?: FrameEncoder }> {
    let pending = this.loading.get(plugin);
    if (!pending) {
      pending = plugin.load();
      this.loading.set(plugin, pending);
      // A failed load is not cached for ever: a later file may try again (and fail with its reason again).
      pending.catch(() => this.loading.delete(plugin));
    }
    return pending;
  }

  private async gather<T>(syntax: string, pick: (p: CodecPlugin) => boolean, take: (l: { readonly decoder?: FrameDecoder; readonly encoder?: FrameEncoder }) => T | undefined): Promise<Loaded<T>> {
    const codecs: T[] = [];
    const failures: string[] = [];
    for (const plugin of this.plugins.filter(pick)) {
      try {
        const codec = take(await this.loadPlugin(plugin));
        if (codec) codecs.push(codec);
        else failures.push(`${plugin.name}: loaded without a codec for ${syntax}`);
      } catch (e) {
        failures.push(`${plugin.name}: ${(e as Error).message ?? String(e)}`);
      }
    }
    return { codecs, failures };
  }

  /** The decoders of a syntax, loaded. */
  decoders(syntax: string): Promise<Loaded<FrameDecoder>> {
    return this.gather(syntax, (p) => p.decodes.includes(syntax), (l) => l.decoder);
  }

  /** The lossless encoders of a syntax, loaded. */
  encoders(syntax: string): Promise<Loaded<FrameEncoder>> {
    return this.gather(syntax, (p) => p.encodes.includes(syntax), (l) => l.encoder);
  }
}

/**
 * The registry the library uses: the built-in codecs, then dcmjs-codecs. One per process so that
 * a WASM module is initialised once; tests that need another make their own.
 */
export const defaultRegistry = new CodecRegistry(builtinPlugins);
