/**
 * The transport on loopback with real TLS: mutual authentication, the long poll, exchanges with
 * deadlines, refusals of malformed, oversized, late and out-of-range messages, and the checks
 * of every message kind.
 */
import http2 from 'node:http2';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCredentials, loadPartyCredentials, type TlsMaterial } from '../../../src/federated/credentials.js';
import { TransportClient, TransportError } from '../../../src/federated/transport/client.js';
import { parseMoments, parsePlan, parseUpdate, parseLocalSchema, updateToJson } from '../../../src/federated/transport/messages.js';
import { PATHS, parseEnvelope } from '../../../src/federated/transport/protocol.js';
import { TransportServer } from '../../../src/federated/transport/server.js';
import { MessageError } from '../../../src/federated/transport/validate.js';
import { decodeFloat64, decodeUint32, encodeVector } from '../../../src/federated/transport/vectors.js';

let work: string;
let coordinatorTls: TlsMaterial;
let siteTls: TlsMaterial[];
let strangerTls: TlsMaterial;
const servers: TransportServer[] = [];
const clients: TransportClient[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'radanon-fl-transport-'));
  const ours = await createCredentials(join(work, 'ours'), { sites: 3 });
  const theirs = await createCredentials(join(work, 'theirs'), { sites: 1 });
  coordinatorTls = loadPartyCredentials(join(work, 'ours'));
  siteTls = ours.sites.map((s) => loadPartyCredentials(s.dir));
  strangerTls = loadPartyCredentials(theirs.sites[0]!.dir);
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

async function server(options: { maxMessageBytes?: number; pollHoldMs?: number; allowedSites?: readonly string[] } = {}, log: string[] = []): Promise<TransportServer> {
  const s = await TransportServer.start({ port: 0, host: '127.0.0.1', tls: coordinatorTls, log: (l) => log.push(l), ...options });
  servers.push(s);
  return s;
}

function client(s: TransportServer, tls: TlsMaterial, retryForMs = 2_000): TransportClient {
  const c = new TransportClient({ url: `https://127.0.0.1:${s.port}`, tls, retryForMs });
  clients.push(c);
  return c;
}

/** A raw HTTP/2 request with the given credentials, for what the client library would never send. */
function rawPost(s: TransportServer, tls: { ca: Buffer; cert?: Buffer; key?: Buffer }, path: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${s.port}`, { ...tls });
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/json' });
    let status = 0;
    let text = '';
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      session.close();
      resolve({ status, text });
    });
    req.on('error', (e) => {
      session.destroy();
      reject(e);
    });
    req.end(body);
  });
}

describe('vectors', () => {
  it('round-trip Float64Array and Uint32Array bit for bit', () => {
    const f = new Float64Array([0, -0.5, 1e-300, 123456.789, -Number.MAX_VALUE]);
    const back = decodeFloat64(JSON.parse(JSON.stringify(encodeVector(f))), 'v', { length: 5 });
    expect(Array.from(back)).toEqual(Array.from(f));
    const u = new Uint32Array([0, 1, 0xffffffff, 0x80000000]);
    expect(Array.from(decodeUint32(encodeVector(u), 'u'))).toEqual(Array.from(u));
    // Little endian on the wire: 1.0 is 00 00 00 00 00 00 f0 3f.
    expect(Buffer.from(encodeVector(new Float64Array([1])).base64, 'base64').toString('hex')).toBe('000000000000f03f');
  });

  it('refuse wrong lengths, types, encodings and non-finite values', () => {
    const good = encodeVector(new Float64Array([1, 2, 3]));
    expect(() => decodeFloat64(good, 'p', { length: 4 })).toThrow(/p.length: must be 4, got 3/);
    expect(() => decodeFloat64({ ...good, length: 2 }, 'p')).toThrow(/holds 24 bytes, 2 f64 values need 16/);
    expect(() => decodeUint32(good, 'p')).toThrow(/p.type: must be "u32"/);
    expect(() => decodeFloat64({ ...good, base64: 'not base64!' }, 'p')).toThrow(/must be a base64 string/);
    expect(() => decodeFloat64(encodeVector(new Float64Array([1, Number.NaN])), 'p')).toThrow(/p\[1\]: must be a finite number, got NaN/);
    expect(() => decodeFloat64(encodeVector(new Float64Array([Infinity])), 'p')).toThrow(MessageError);
    expect(() => decodeFloat64([1, 2, 3], 'p')).toThrow(/encoded vector/);
    expect(() => decodeFloat64(good, 'p', { maxLength: 2 })).toThrow(/from 0 to 2/);
  });
});

describe('message checks', () => {
  it('envelopes: known fields, plain ids', () => {
    expect(parseEnvelope({ id: 'a.1.train', kind: 'update', body: { x: 1 } })).toEqual({ id: 'a.1.train', kind: 'update', body: { x: 1 } });
    expect(() => parseEnvelope({ id: 'a', kind: 'update', body: null, code: 'rm -rf /' })).toThrow(/message.code: is not a known field/);
    expect(() => parseEnvelope({ id: '../../x', kind: 'k', body: null })).toThrow(/message.id/);
    expect(() => parseEnvelope('hello')).toThrow(/must be an object/);
  });

  it('round plans: numbers in range only', () => {
    const plan = { round: 1, epochs: 2, learningRate: 0.1, batchSize: 32, proximalMu: 0, seed: 7 };
    expect(parsePlan(plan)).toEqual(plan);
    expect(parsePlan({ ...plan, clipNorm: 1.5 }).clipNorm).toBe(1.5);
    expect(() => parsePlan({ ...plan, epochs: 1e9 })).toThrow(/plan.epochs: must be from 1 to 10000/);
    expect(() => parsePlan({ ...plan, learningRate: -1 })).toThrow(/plan.learningRate/);
    expect(() => parsePlan({ ...plan, script: 'process.exit()' })).toThrow(/plan.script: is not a known field/);
  });

  it('updates: the model length, finite parameters of bounded magnitude, a positive count, a finite loss', () => {
    const ok = updateToJson({ parameters: new Float64Array([0.5, -0.25]), examples: 10, loss: 0.6 });
    expect(parseUpdate(ok, 2).examples).toBe(10);
    expect(() => parseUpdate(ok, 3)).toThrow(/update.parameters.length: must be 3/);
    expect(() => parseUpdate(updateToJson({ parameters: new Float64Array([1e7, 0]), examples: 1, loss: 0 }), 2)).toThrow(/magnitude 10000000 exceeds 1000000/);
    expect(() => parseUpdate(updateToJson({ parameters: new Float64Array([0, 0]), examples: 0, loss: 0 }), 2)).toThrow(/update.examples/);
    expect(() => parseUpdate({ ...(ok as object), loss: -1 }, 2)).toThrow(/update.loss/);
  });

  it('moments: sums consistent with the count (Cauchy–Schwarz), no negative sums of squares', () => {
    const m = { count: 4, sum: encodeVector(new Float64Array([2, 4])), sumSquares: encodeVector(new Float64Array([2, 4])) };
    expect(parseMoments(m, 'm', 2).count).toBe(4);
    expect(() => parseMoments({ ...m, sum: encodeVector(new Float64Array([100, 4])) }, 'm', 2)).toThrow(/m.sum\[0\]: is inconsistent/);
    expect(() => parseMoments({ ...m, sumSquares: encodeVector(new Float64Array([-1, 4])) }, 'm', 2)).toThrow(/cannot be negative/);
  });

  it('local schemas: kinds and category lists only', () => {
    const s = { label: 'y', columns: [{ name: 'age', kind: 'numeric' }, { name: 'sex', kind: 'categorical', categories: ['F', 'M'] }], classes: ['0', '1'] };
    expect(parseLocalSchema(s, 's').columns).toHaveLength(2);
    expect(() => parseLocalSchema({ ...s, columns: [{ name: 'age', kind: 'numeric', categories: ['x'] }] }, 's')).toThrow(/numeric column has no categories/);
    expect(() => parseLocalSchema({ ...s, columns: [{ name: 'id', kind: 'text' }] }, 's')).toThrow(/kind: must be one of/);
  });
});

describe('mutual TLS', () => {
  it('names a site by its certificate', async () => {
    const s = await server();
    const hello = await client(s, siteTls[1]!).hello();
    expect(hello.site).toBe('site-2');
    expect(hello.run).toBe(s.run);
    expect(s.greetedSites()).toEqual(['site-2']);
  });

  it("refuses a client whose certificate another authority issued", async () => {
    const s = await server();
    // The stranger trusts our coordinator (so only the server's check of the client can refuse).
    // In TLS 1.3 the server's refusal ends the connection after the client's handshake: the
    // client sees connections closed without an answer until it gives up.
    const err = await client(s, { ...strangerTls, ca: coordinatorTls.ca }, 500).hello().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as Error).message).toMatch(/connection closed before the coordinator answered/);
    expect(s.greetedSites()).toEqual([]);
  });

  it('refuses a client without a certificate', async () => {
    const s = await server();
    await expect(rawPost(s, { ca: coordinatorTls.ca }, PATHS.hello, '{"protocol":1}')).rejects.toThrow();
    expect(s.greetedSites()).toEqual([]);
  });

  it("refuses a certificate of the authority that is not on the consortium's list", async () => {
    const s = await server({ allowedSites: ['site-1'] });
    await expect(client(s, siteTls[0]!).hello()).resolves.toMatchObject({ site: 'site-1' });
    await expect(client(s, siteTls[1]!).hello()).rejects.toThrow(/refused this site \(403\).*not a site of this consortium/);
  });

  it('refuses a coordinator whose certificate another authority issued (the site checks the server too)', async () => {
    const s = await server();
    const confused = new TransportClient({ url: `https://127.0.0.1:${s.port}`, tls: { ...siteTls[0]!, ca: strangerTls.ca }, retryForMs: 1_000 });
    clients.push(confused);
    await expect(confused.hello()).rejects.toThrow(/TLS with the coordinator failed/);
  });
});

describe('exchanges', () => {
  it('delivers instructions by long poll and collects accepted replies', async () => {
    const s = await server({ pollHoldMs: 200 });
    const sites = [client(s, siteTls[0]!), client(s, siteTls[1]!)];
    await Promise.all(sites.map((c) => c.hello()));
    const answering = sites.map(async (c) => {
      const ins = await c.next();
      const body = ins.body as { x: number };
      return c.reply(ins.id, 'double', { y: body.x * 2 });
    });
    const result = await s.exchange(
      ['site-1', 'site-2'],
      (site) => ({ kind: 'double', body: { x: site === 'site-1' ? 1 : 10 } }),
      (_site, reply) => (reply.body as { y: number }).y,
      5_000,
    );
    expect(Object.fromEntries(result.accepted)).toEqual({ 'site-1': 2, 'site-2': 20 });
    expect(result.failed.size).toBe(0);
    expect(await Promise.all(answering)).toEqual([{ accepted: true }, { accepted: true }]);
    expect(s.traffic('site-1').bytesIn).toBeGreaterThan(0);
    expect(sites[0]!.bytesSent).toBeGreaterThan(0);
  });

  it('refuses a reply that fails its check, tells the site why, and goes on with the others', async () => {
    const log: string[] = [];
    const s = await server({}, log);
    const [a, b] = [client(s, siteTls[0]!), client(s, siteTls[1]!)];
    await Promise.all([a.hello(), b.hello()]);
    const verdicts = Promise.all(
      [a, b].map(async (c, i) => {
        const ins = await c.next();
        return c.reply(ins.id, 'update', updateToJson({ parameters: new Float64Array(i === 0 ? [Number.MAX_VALUE, 0] : [0.1, 0.2]), examples: 5, loss: 0.5 }));
      }),
    );
    const result = await s.exchange(['site-1', 'site-2'], () => ({ kind: 'train', body: null }), (_site, reply) => parseUpdate(reply.body, 2), 5_000);
    expect([...result.accepted.keys()]).toEqual(['site-2']);
    expect(result.failed.get('site-1')).toMatch(/reply refused: update.parameters\[0\]: magnitude .* exceeds/);
    const [va, vb] = await verdicts;
    expect(va).toEqual({ accepted: false, reason: expect.stringMatching(/update.parameters\[0\]/) });
    expect(vb).toEqual({ accepted: true });
    expect(log.some((l) => l.startsWith('refused the reply of site-1: update.parameters[0]'))).toBe(true);
  });

  it('drops a site that does not answer in time, and refuses its late reply', async () => {
    const log: string[] = [];
    const s = await server({}, log);
    const slow = client(s, siteTls[2]!);
    await slow.hello();
    const ins = slow.next();
    const result = await s.exchange(['site-3'], () => ({ kind: 'work', body: 1 }), () => true, 300);
    expect(result.failed.get('site-3')).toMatch(/no reply within 0.3 s/);
    const late = await slow.reply((await ins).id, 'work', 2);
    expect(late.accepted).toBe(false);
    expect(late.reason).toMatch(/no longer open/);
    expect(log.some((l) => /refused a reply from site-3 .*no longer open/.test(l))).toBe(true);
  });

  it('gives up a site whose connection is lost without waiting for the deadline', async () => {
    const s = await server();
    const c = client(s, siteTls[0]!);
    await c.hello();
    const started = Date.now();
    const pending = s.exchange(['site-1'], () => ({ kind: 'work', body: null }), () => true, 20_000);
    await c.next();
    c.close();
    const result = await pending;
    expect(result.failed.get('site-1')).toBe('connection lost');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses oversized and malformed bodies with a status and a reason', async () => {
    const log: string[] = [];
    const s = await server({ maxMessageBytes: 1_000 }, log);
    const tls = { ca: siteTls[0]!.ca, cert: siteTls[0]!.cert, key: siteTls[0]!.key };
    const big = await rawPost(s, tls, PATHS.reply, JSON.stringify({ id: 'x', kind: 'k', body: 'a'.repeat(5_000) }));
    expect(big.status).toBe(413);
    expect(JSON.parse(big.text).error).toMatch(/exceeds the limit of 1000 bytes/);
    const notJson = await rawPost(s, tls, PATHS.reply, '{"id": ');
    expect(notJson.status).toBe(400);
    const unknownField = await rawPost(s, tls, PATHS.reply, JSON.stringify({ id: 'x', kind: 'k', body: null, extra: 1 }));
    expect(unknownField.status).toBe(400);
    expect(JSON.parse(unknownField.text).error).toMatch(/reply.extra: is not a known field/);
    const wrongProtocol = await rawPost(s, tls, PATHS.hello, JSON.stringify({ protocol: 99 }));
    expect(wrongProtocol.status).toBe(400);
    expect(log.filter((l) => l.startsWith('refused a message from site-1')).length).toBeGreaterThanOrEqual(3);
  });

  it('a malformed reply puts the site out of the exchange at once', async () => {
    const s = await server();
    const tls = { ca: siteTls[0]!.ca, cert: siteTls[0]!.cert, key: siteTls[0]!.key };
    await client(s, siteTls[0]!).hello(); // keeps a connection open, as a site does
    const started = Date.now();
    const pending = s.exchange(['site-1'], () => ({ kind: 'work', body: null }), () => true, 20_000);
    const answer = await rawPost(s, tls, PATHS.reply, JSON.stringify({ id: 'whatever', kind: 'work', body: null, payload: 'x' }));
    expect(answer.status).toBe(400);
    const result = await pending;
    expect(result.failed.get('site-1')).toMatch(/reply refused: reply.payload: is not a known field/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('keeps an instruction a site has not answered, so a site that lost the response gets it again', async () => {
    const s = await server();
    const c = client(s, siteTls[0]!);
    await c.hello();
    const pending = s.exchange(['site-1'], () => ({ kind: 'work', body: 42 }), (_site, r) => r.body, 5_000);
    const first = await c.next();
    const again = await c.next();
    expect(again.id).toBe(first.id);
    await c.reply(first.id, 'work', 43);
    expect((await pending).accepted.get('site-1')).toBe(43);
  });

  it('retries while the coordinator is not up yet', async () => {
    const probe = await server();
    const port = probe.port;
    await probe.close();
    servers.length = 0;
    const c = new TransportClient({ url: `https://127.0.0.1:${port}`, tls: siteTls[0]!, retryForMs: 10_000 });
    clients.push(c);
    const hello = c.hello();
    await new Promise((r) => setTimeout(r, 600));
    const s = await TransportServer.start({ port, host: '127.0.0.1', tls: coordinatorTls });
    servers.push(s);
    await expect(hello).resolves.toMatchObject({ site: 'site-1', run: s.run });
  });
});
