/**
 * The coordinator's end of the transport: HTTP/2 over TLS with mutual authentication (the
 * server requires a client certificate issued by the consortium's authority and refuses the
 * handshake otherwise), a mailbox per site, long polls, and exchanges with a deadline.
 *
 * The server knows envelopes, not rounds: `exchange` hands each site an instruction, waits for
 * the replies until a deadline, and passes each reply to the caller's `accept` function, which
 * checks it and may refuse it. A refused, late or missing reply fails that site for that
 * exchange only: the caller decides what the round does without it.
 */
import { randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { TlsMaterial } from '../credentials.js';
import { PATHS, PROTOCOL_VERSION, WAIT_KIND, parseEnvelope, parseHelloRequest, type Envelope, type HelloAnswer } from './protocol.js';
import { MessageError, type Json } from './validate.js';

export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export interface TransportServerOptions {
  /** 0 picks a free port (see `port` once started). */
  readonly port: number;
  /** Address to listen on (default all interfaces). */
  readonly host?: string;
  readonly tls: TlsMaterial;
  /** Largest request body accepted, in bytes (default 64 MiB). */
  readonly maxMessageBytes?: number;
  /** How long a `next` request is held when there is nothing to send (default 15 s). */
  readonly pollHoldMs?: number;
  /** How long a site whose connections all closed may take to reconnect before its pending reply is given up (default 1 s). */
  readonly disconnectGraceMs?: number;
  /** Only these Common Names may connect (the consortium's list); any certificate of the authority when absent. */
  readonly allowedSites?: readonly string[];
  readonly log?: (line: string) => void;
  /** Sees every request body a site sent, as received (for audits and for tests of what the coordinator learns). */
  readonly onReceive?: (site: string, path: string, body: string) => void;
}

/** What an exchange with one site came to. */
export type ExchangeOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export interface ExchangeResult<T> {
  readonly accepted: ReadonlyMap<string, T>;
  /** Site → why it is out of this exchange (timed out, refused reply, connection lost). */
  readonly failed: ReadonlyMap<string, string>;
}

export interface SiteTraffic {
  /** Request bytes the coordinator received from the site. */
  readonly bytesIn: number;
  /** Response bytes the coordinator sent to the site. */
  readonly bytesOut: number;
}

interface Pending {
  readonly id: string;
  readonly accept: (reply: Envelope) => unknown;
  readonly settle: (outcome: ExchangeOutcome<unknown>) => void;
}

interface Poll {
  readonly stream: http2.ServerHttp2Stream;
  readonly timer: NodeJS.Timeout;
}

class SiteState {
  readonly sessions = new Set<http2.Http2Session>();
  /** The latest instruction, kept until answered or superseded (a lost response is fetched again). */
  current: Envelope | undefined;
  expecting: Pending | undefined;
  poll: Poll | undefined;
  graceTimer: NodeJS.Timeout | undefined;
  greeted = false;
  /** Id of the last instruction the site fetched. */
  fetched: string | undefined;
  bytesIn = 0;
  bytesOut = 0;
  constructor(readonly name: string) {}
}

/**
 * HTTP/2's connection-level flow-control window starts at 64 KiB (RFC 9113 §6.9.2) whatever the
 * stream settings say; a parameter vector of megabytes would wait for a window update every
 * 64 KiB. Both ends widen it to 32 MiB.
 */
export function widenConnectionWindow(session: http2.Http2Session): void {
  const widen = () => {
    try {
      session.setLocalWindowSize(32 * 1024 * 1024);
    } catch {
      // a session closing as it opens: nothing to widen
    }
  };
  if (session.connecting) session.once('connect', widen);
  else widen();
}

function peerName(session: http2.Http2Session | undefined): string | undefined {
  const socket = session?.socket as TLSSocket | undefined;
  if (!socket || typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
  const cn: unknown = socket.getPeerCertificate().subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

export class TransportServer {
  /** Identifies this run of the coordinator. */
  readonly run = randomBytes(8).toString('hex');
  private readonly sites = new Map<string, SiteState>();
  private readonly allSessions = new Set<http2.Http2Session>();
  private readonly helloListeners = new Set<(site: string) => void>();
  private readonly fetchListeners = new Set<(site: string) => void>();
  private readonly maxBytes: number;
  private readonly pollHoldMs: number;
  private readonly graceMs: number;
  private readonly allowed: ReadonlySet<string> | undefined;
  private readonly log: (line: string) => void;
  private counter = 0;
  private closing = false;

  private constructor(
    private readonly server: http2.Http2SecureServer,
    readonly port: number,
    private readonly options: TransportServerOptions,
  ) {
    this.maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.pollHoldMs = options.pollHoldMs ?? 15_000;
    this.graceMs = options.disconnectGraceMs ?? 1_000;
    this.allowed = options.allowedSites ? new Set(options.allowedSites) : undefined;
    this.log = options.log ?? (() => undefined);
    server.on('session', (session) => this.track(session));
    server.on('stream', (stream, headers) => void this.handle(stream, headers));
  }

  static async start(options: TransportServerOptions): Promise<TransportServer> {
    const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const server = http2.createSecureServer({
      key: options.tls.key,
      cert: options.tls.cert,
      ca: options.tls.ca,
      // Mutual TLS: no certificate of the consortium's authority, no connection.
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      allowHTTP1: false,
      // Large parameter vectors in flight: the default 10 MB per session would stall them.
      maxSessionMemory: Math.max(16, Math.ceil((3 * maxBytes) / 1_000_000)),
      // A site needs two streams at a time (a held poll and a reply); a few more for reconnections.
      settings: { initialWindowSize: 4 * 1024 * 1024, maxConcurrentStreams: 32 },
    });
    server.on('tlsClientError', () => undefined); // refused handshakes are the point of mutual TLS; nothing to do
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    return new TransportServer(server, port, options);
  }

  /** Calls `listener` with the site's name each time a site says hello (first contact or reconnection). */
  onHello(listener: (site: string) => void): () => void {
    this.helloListeners.add(listener);
    return () => this.helloListeners.delete(listener);
  }

  /**
   * Resolves once each of `sites` has fetched its current instruction (a final `done`, say), or
   * after `timeoutMs`, with the sites that had not.
   */
  whenFetched(sites: readonly string[], timeoutMs: number): Promise<string[]> {
    const waiting = () => sites.filter((site) => {
      const s = this.sites.get(site);
      return s?.current !== undefined && s.fetched !== s.current.id;
    });
    return new Promise((resolve) => {
      if (waiting().length === 0) return resolve([]);
      const finish = () => {
        clearTimeout(timer);
        this.fetchListeners.delete(check);
        resolve(waiting());
      };
      const check = () => {
        if (waiting().length === 0) finish();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.fetchListeners.add(check);
    });
  }

  /** Number of sites on the consortium's list, when the server was given one. */
  get allowedCount(): number | undefined {
    return this.allowed?.size;
  }

  /** Sites that said hello, in order of first contact. */
  greetedSites(): string[] {
    return [...this.sites.values()].filter((s) => s.greeted).map((s) => s.name);
  }

  isConnected(site: string): boolean {
    return (this.sites.get(site)?.sessions.size ?? 0) > 0;
  }

  traffic(site: string): SiteTraffic {
    const s = this.sites.get(site);
    return { bytesIn: s?.bytesIn ?? 0, bytesOut: s?.bytesOut ?? 0 };
  }

  /** Gives a site an instruction that needs no answer (done, refused); it replaces any earlier one. */
  post(site: string, kind: string, body: Json): void {
    const state = this.state(site);
    this.fail(state, 'superseded by a later instruction');
    state.current = { id: this.nextId(kind), kind, body };
    this.deliver(state);
  }

  /**
   * Sends `make(site)` to each site and collects what `accept` makes of each reply, until all
   * have answered or `timeoutMs` has passed. `accept` throws to refuse a reply (its message is
   * returned to the site and logged). A site already in an exchange has it superseded.
   */
  exchange<T>(sites: readonly string[], make: (site: string) => { kind: string; body: Json }, accept: (site: string, reply: Envelope) => T, timeoutMs: number): Promise<ExchangeResult<T>> {
    const accepted = new Map<string, T>();
    const failed = new Map<string, string>();
    if (sites.length === 0) return Promise.resolve({ accepted, failed });
    return new Promise((resolve) => {
      let open = sites.length;
      const timers: NodeJS.Timeout[] = [];
      const done = () => {
        for (const t of timers) clearTimeout(t);
        resolve({ accepted, failed });
      };
      for (const site of sites) {
        const state = this.state(site);
        this.fail(state, 'superseded by a later instruction');
        let instruction: { kind: string; body: Json };
        try {
          instruction = make(site);
        } catch (e) {
          failed.set(site, `no instruction could be made: ${(e as Error).message}`);
          if (--open === 0) done();
          continue;
        }
        const id = this.nextId(instruction.kind);
        let settled = false;
        const pending: Pending = {
          id,
          accept: (reply) => accept(site, reply),
          settle: (outcome) => {
            if (settled) return;
            settled = true;
            if (state.expecting === pending) state.expecting = undefined;
            if (outcome.ok) accepted.set(site, outcome.value as T);
            else failed.set(site, outcome.reason);
            if (--open === 0) done();
          },
        };
        state.current = { id, kind: instruction.kind, body: instruction.body };
        state.expecting = pending;
        timers.push(setTimeout(() => pending.settle({ ok: false, reason: `no reply within ${(timeoutMs / 1000).toFixed(1)} s` }), timeoutMs));
        if (state.greeted && state.sessions.size === 0) this.startGrace(state);
        this.deliver(state);
      }
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const state of this.sites.values()) {
      this.fail(state, 'the coordinator is shutting down');
      this.endPoll(state);
      if (state.graceTimer) clearTimeout(state.graceTimer);
    }
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of this.allSessions) session.close();
    const force = setTimeout(() => {
      for (const session of this.allSessions) session.destroy();
    }, 2_000);
    await closed;
    clearTimeout(force);
  }

  // -------------------------------------------------------------------------------------------

  private nextId(kind: string): string {
    return `${this.run}.${++this.counter}.${kind.replace(/[^A-Za-z0-9-]/g, '')}`;
  }

  private state(site: string): SiteState {
    let state = this.sites.get(site);
    if (!state) {
      state = new SiteState(site);
      this.sites.set(site, state);
    }
    return state;
  }

  private fail(state: SiteState, reason: string): void {
    state.expecting?.settle({ ok: false, reason });
    state.expecting = undefined;
  }

  private track(session: http2.Http2Session): void {
    this.allSessions.add(session);
    widenConnectionWindow(session);
    session.on('error', () => undefined); // a site's broken connection ends its session, nothing more
    session.on('close', () => {
      this.allSessions.delete(session);
      for (const state of this.sites.values()) {
        if (!state.sessions.delete(session)) continue;
        if (state.poll?.stream.session === session) this.endPoll(state);
        if (state.sessions.size === 0 && state.expecting && !this.closing) this.startGrace(state);
      }
    });
  }

  /** A site with no connection left gets a moment to reconnect before its pending reply is given up. */
  private startGrace(state: SiteState): void {
    if (state.graceTimer) clearTimeout(state.graceTimer);
    state.graceTimer = setTimeout(() => {
      state.graceTimer = undefined;
      if (state.sessions.size === 0) this.fail(state, 'connection lost');
    }, this.graceMs);
  }

  private endPoll(state: SiteState): void {
    if (!state.poll) return;
    clearTimeout(state.poll.timer);
    state.poll = undefined;
  }

  /** Answers a held `next` request with the current instruction, if both exist. */
  private deliver(state: SiteState): void {
    const poll = state.poll;
    if (!poll || !state.current) return;
    this.endPoll(state);
    if (poll.stream.destroyed || poll.stream.closed) return; // the site will ask again and get it then
    this.send(state, poll.stream, state.current);
  }

  private send(state: SiteState, stream: http2.ServerHttp2Stream, instruction: Envelope): void {
    this.respond(state, stream, 200, instruction);
    state.fetched = instruction.id;
    for (const listener of this.fetchListeners) listener(state.name);
  }

  private respond(state: SiteState | undefined, stream: http2.ServerHttp2Stream, status: number, body: unknown): void {
    if (stream.destroyed || stream.closed) return;
    const text = JSON.stringify(body);
    if (state) state.bytesOut += Buffer.byteLength(text);
    try {
      stream.respond({ ':status': status, 'content-type': 'application/json' });
      stream.end(text);
    } catch {
      // the stream closed under us: the site asks again
    }
  }

  private async handle(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): Promise<void> {
    stream.on('error', () => undefined);
    const site = peerName(stream.session);
    if (site === undefined) return this.respond(undefined, stream, 401, { error: 'no client certificate of the consortium' });
    if (site === 'coordinator' || (this.allowed && !this.allowed.has(site))) {
      this.log(`refused a connection from "${site}": not a site of the consortium`);
      return this.respond(undefined, stream, 403, { error: `"${site}" is not a site of this consortium` });
    }
    if (headers[':method'] !== 'POST') return this.respond(undefined, stream, 405, { error: 'only POST is served' });
    const state = this.state(site);
    if (stream.session && !state.sessions.has(stream.session)) {
      state.sessions.add(stream.session);
      if (state.graceTimer) {
        clearTimeout(state.graceTimer);
        state.graceTimer = undefined;
      }
    }
    const path = headers[':path'];
    let text: string;
    try {
      text = await this.readBody(stream, headers);
    } catch (e) {
      this.log(`refused a message from ${site}: ${(e as Error).message}`);
      return this.respond(state, stream, 413, { error: (e as Error).message });
    }
    state.bytesIn += Buffer.byteLength(text);
    this.options.onReceive?.(site, String(path), text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.log(`refused a message from ${site}: not JSON`);
      return this.respond(state, stream, 400, { error: 'the body is not JSON' });
    }
    try {
      if (path === PATHS.hello) return this.hello(state, stream, json);
      if (path === PATHS.next) return this.next(state, stream);
      if (path === PATHS.reply) return this.reply(state, stream, json);
    } catch (e) {
      const reason = e instanceof MessageError ? e.message : `internal error: ${(e as Error).message}`;
      this.log(`refused a message from ${site}: ${reason}`);
      // A malformed reply is the site's answer to what it was asked: it is out of that exchange.
      if (path === PATHS.reply) this.fail(state, `reply refused: ${reason}`);
      return this.respond(state, stream, 400, { error: reason });
    }
    return this.respond(state, stream, 404, { error: `unknown path ${String(path)}` });
  }

  private readBody(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): Promise<string> {
    const declared = Number(headers['content-length'] ?? 0);
    if (declared > this.maxBytes) {
      stream.resume();
      return Promise.reject(new Error(`message of ${declared} bytes exceeds the limit of ${this.maxBytes}`));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.maxBytes) {
          stream.removeAllListeners('data');
          stream.resume();
          reject(new Error(`message exceeds the limit of ${this.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      stream.on('aborted', () => reject(new Error('the request was aborted')));
    });
  }

  private hello(state: SiteState, stream: http2.ServerHttp2Stream, json: unknown): void {
    const hello = parseHelloRequest(json);
    if (hello.protocol !== PROTOCOL_VERSION) {
      throw new MessageError('hello.protocol', `this coordinator speaks protocol ${PROTOCOL_VERSION}, the site ${hello.protocol}`);
    }
    const first = !state.greeted;
    state.greeted = true;
    const answer: HelloAnswer = { protocol: PROTOCOL_VERSION, site: state.name, run: this.run };
    this.respond(state, stream, 200, answer);
    this.log(first ? `${state.name} connected` : `${state.name} reconnected`);
    for (const listener of this.helloListeners) listener(state.name);
  }

  private next(state: SiteState, stream: http2.ServerHttp2Stream): void {
    // A newer poll replaces an older one (the site gave up on it, or its connection changed).
    if (state.poll) {
      const old = state.poll.stream;
      this.endPoll(state);
      this.respond(state, old, 200, { id: 'wait', kind: WAIT_KIND, body: null });
    }
    if (state.current) return this.send(state, stream, state.current);
    const timer = setTimeout(() => {
      if (state.poll?.stream !== stream) return;
      this.endPoll(state);
      this.respond(state, stream, 200, { id: 'wait', kind: WAIT_KIND, body: null });
    }, this.pollHoldMs);
    state.poll = { stream, timer };
    stream.on('close', () => {
      if (state.poll?.stream === stream) this.endPoll(state);
    });
  }

  private reply(state: SiteState, stream: http2.ServerHttp2Stream, json: unknown): void {
    const reply = parseEnvelope(json, 'reply');
    const pending = state.expecting;
    if (!pending || pending.id !== reply.id) {
      this.log(`refused a reply from ${state.name} to ${reply.id}: the instruction is no longer open (late or unknown)`);
      return this.respond(state, stream, 409, { accepted: false, reason: 'the instruction is no longer open (late or unknown)' });
    }
    // Answered: the site is not given the same instruction again.
    if (state.current?.id === reply.id) state.current = undefined;
    let value: unknown;
    try {
      value = pending.accept(reply);
    } catch (e) {
      const reason = e instanceof MessageError ? e.message : (e as Error).message;
      this.log(`refused the reply of ${state.name}: ${reason}`);
      pending.settle({ ok: false, reason: `reply refused: ${reason}` });
      return this.respond(state, stream, 422, { accepted: false, reason });
    }
    pending.settle({ ok: true, value });
    this.respond(state, stream, 200, { accepted: true });
  }
}
