/**
 * A site's end of the transport: one HTTP/2 connection over mutual TLS to the coordinator,
 * re-opened after transient failures (the coordinator not up yet, a reset, a restart) with
 * exponential back-off. Certificate problems and refusals are not transient: they end the site
 * with the reason.
 */
import http2 from 'node:http2';
import type { TlsMaterial } from '../credentials.js';
import { PATHS, PROTOCOL_VERSION, WAIT_KIND, parseEnvelope, parseHelloAnswer, type Envelope, type HelloAnswer, type ReplyVerdict } from './protocol.js';
import { DEFAULT_MAX_MESSAGE_BYTES, widenConnectionWindow } from './server.js';
import type { Json } from './validate.js';

/** The coordinator cannot be reached for long enough, or refused the site. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    message: string,
    /** Whether trying again later may succeed. */
    readonly transient: boolean,
  ) {
    super(message);
  }
}

export interface TransportClientOptions {
  /** https://host:port of the coordinator. */
  readonly url: string;
  readonly tls: TlsMaterial;
  /** Largest response body accepted (default 64 MiB). */
  readonly maxMessageBytes?: number;
  /** How long transient failures are retried before giving up (default 120 s). */
  readonly retryForMs?: number;
  /** Time allowed for one request, beyond the coordinator's hold of a poll (default 120 s). */
  readonly requestTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

interface Response {
  readonly status: number;
  readonly json: unknown;
}

/** TLS and certificate failures: retrying with the same credentials cannot help. */
function isCertificateProblem(e: NodeJS.ErrnoException): boolean {
  const code = e.code ?? '';
  return /^ERR_SSL_|^ERR_TLS_CERT|CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME|ALTNAME/.test(code) || /certificate|alert/i.test(e.message);
}

export class TransportClient {
  private session: Promise<http2.ClientHttp2Session> | undefined;
  private greetedSession: http2.ClientHttp2Session | undefined;
  private readonly maxBytes: number;
  private readonly retryForMs: number;
  private readonly requestTimeoutMs: number;
  private readonly log: (line: string) => void;
  private lastRun: string | undefined;
  /** The last error a connection reported (a TLS alert arrives on the session, not the request). */
  private sessionError: NodeJS.ErrnoException | undefined;
  private closed = false;
  /** Request bytes sent to the coordinator. */
  bytesSent = 0;
  /** Response bytes received from it. */
  bytesReceived = 0;

  constructor(private readonly options: TransportClientOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'https:') throw new TransportError(`the coordinator's address must start with https://, got ${options.url}`, false);
    this.maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.retryForMs = options.retryForMs ?? 120_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 120_000;
    this.log = options.log ?? (() => undefined);
  }

  /** Introduces the site; the answer names it as the coordinator knows it. */
  async hello(): Promise<HelloAnswer> {
    return this.withRetry(async () => {
      const session = await this.connect();
      return this.greet(session);
    });
  }

  /** The next instruction, waiting as long as the coordinator has none. */
  async next(): Promise<Envelope> {
    for (;;) {
      const r = await this.withRetry(() => this.post(PATHS.next, {}));
      if (r.status !== 200) throw new TransportError(`the coordinator refused to give an instruction (${r.status}): ${errorText(r.json)}`, false);
      const envelope = parseEnvelope(r.json, 'instruction');
      if (envelope.kind !== WAIT_KIND) return envelope;
    }
  }

  /** Answers instruction `id`; the verdict says whether the coordinator accepted it and why not. */
  async reply(id: string, kind: string, body: Json): Promise<ReplyVerdict> {
    const r = await this.withRetry(() => this.post(PATHS.reply, { id, kind, body }));
    if (r.status === 200) return { accepted: true };
    if (r.status === 409 || r.status === 422 || r.status === 413 || r.status === 400) return { accepted: false, reason: errorText(r.json) };
    throw new TransportError(`the coordinator answered ${r.status}: ${errorText(r.json)}`, false);
  }

  close(): void {
    this.closed = true;
    const s = this.session;
    this.session = undefined;
    void s?.then((session) => session.close()).catch(() => undefined);
  }

  // -------------------------------------------------------------------------------------------

  private async greet(session: http2.ClientHttp2Session): Promise<HelloAnswer> {
    const r = await this.request(session, PATHS.hello, { protocol: PROTOCOL_VERSION });
    if (r.status !== 200) throw new TransportError(`the coordinator refused this site (${r.status}): ${errorText(r.json)}`, false);
    const answer = parseHelloAnswer(r.json);
    if (this.lastRun !== undefined && this.lastRun !== answer.run) this.log('the coordinator restarted');
    this.lastRun = answer.run;
    this.greetedSession = session;
    return answer;
  }

  /** A request on a connection that has said hello (each new connection says it first). */
  private async post(path: string, body: unknown): Promise<Response> {
    const session = await this.connect();
    if (this.greetedSession !== session) await this.greet(session);
    return this.request(session, path, body);
  }

  private connect(): Promise<http2.ClientHttp2Session> {
    if (this.closed) return Promise.reject(new TransportError('the client is closed', false));
    if (this.session) return this.session;
    const attempt = new Promise<http2.ClientHttp2Session>((resolve, reject) => {
      const session = http2.connect(this.options.url, {
        ca: this.options.tls.ca,
        cert: this.options.tls.cert,
        key: this.options.tls.key,
        minVersion: 'TLSv1.2',
        maxSessionMemory: Math.max(16, Math.ceil((3 * this.maxBytes) / 1_000_000)),
        settings: { initialWindowSize: 4 * 1024 * 1024 },
      });
      const forget = () => {
        if (this.session === attempt) this.session = undefined;
      };
      session.once('connect', () => {
        widenConnectionWindow(session);
        session.off('error', reject);
        session.on('error', (e: NodeJS.ErrnoException) => {
          this.sessionError = e;
          forget();
        });
        resolve(session);
      });
      session.once('error', reject);
      session.on('close', forget);
      session.on('goaway', forget);
    });
    attempt.catch(() => {
      if (this.session === attempt) this.session = undefined;
    });
    this.session = attempt;
    return attempt;
  }

  private request(session: http2.ClientHttp2Session, path: string, body: unknown): Promise<Response> {
    const text = JSON.stringify(body);
    const bytes = Buffer.byteLength(text);
    if (bytes > this.maxBytes) return Promise.reject(new TransportError(`the message of ${bytes} bytes exceeds the limit of ${this.maxBytes}`, false));
    return new Promise((resolve, reject) => {
      let req: http2.ClientHttp2Stream;
      try {
        req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/json', 'content-length': bytes });
      } catch (e) {
        reject(e);
        return;
      }
      let status = 0;
      let size = 0;
      const chunks: Buffer[] = [];
      req.setTimeout(this.requestTimeoutMs, () => {
        req.close(http2.constants.NGHTTP2_CANCEL);
        reject(new TransportError(`no answer from the coordinator within ${this.requestTimeoutMs / 1000} s`, true));
      });
      req.on('response', (headers) => {
        status = Number(headers[':status'] ?? 0);
      });
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.maxBytes) {
          req.close(http2.constants.NGHTTP2_CANCEL);
          reject(new TransportError(`the coordinator's answer exceeds the limit of ${this.maxBytes} bytes`, false));
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        this.bytesReceived += size;
        if (status === 0) {
          // No response at all: the connection ended (a refused certificate surfaces here in TLS 1.3).
          setImmediate(() => reject(this.sessionError ?? new TransportError(`the connection closed before the coordinator answered ${path}`, true)));
          return;
        }
        const textIn = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(textIn);
        } catch {
          reject(new TransportError(`the coordinator's answer to ${path} is not JSON (status ${status})`, status >= 500));
          return;
        }
        resolve({ status, json });
      });
      req.on('error', reject);
      req.end(text);
      this.bytesSent += bytes;
    });
  }

  /** Runs `fn`, retrying transient failures with back-off for up to `retryForMs`. */
  private async withRetry<T>(fn: () => Promise<T>): Promise<T> {
    let delay = 250;
    let firstFailure: number | undefined;
    for (;;) {
      try {
        const value = await fn();
        if (firstFailure !== undefined) this.log('connected to the coordinator again');
        return value;
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (e instanceof TransportError && !e.transient) throw e;
        if (!(e instanceof TransportError) && isCertificateProblem(err)) {
          throw new TransportError(`TLS with the coordinator failed: ${err.message}${err.code ? ` (${err.code})` : ''}`, false);
        }
        if (this.closed) throw new TransportError('the client is closed', false);
        const now = Date.now();
        if (firstFailure === undefined) {
          firstFailure = now;
          this.log(`cannot reach the coordinator (${err.code ?? err.message}); retrying`);
        }
        if (now - firstFailure > this.retryForMs) {
          throw new TransportError(`the coordinator has been unreachable for ${Math.round((now - firstFailure) / 1000)} s: ${err.message}`, true);
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }
}

function errorText(json: unknown): string {
  if (typeof json === 'object' && json !== null) {
    const o = json as { error?: unknown; reason?: unknown };
    if (typeof o.reason === 'string') return o.reason;
    if (typeof o.error === 'string') return o.error;
  }
  return JSON.stringify(json);
}
