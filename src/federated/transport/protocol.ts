/**
 * The envelope both ends agree on, independent of what a round carries. Sites speak first and
 * only ever ask: `hello` once per connection, `next` to fetch (or wait for) the coordinator's
 * next instruction, `reply` to answer it. The coordinator never opens a connection to a site,
 * so a hospital needs no inbound port, and a site never runs anything it receives: every
 * instruction is data that the site checks against the few kinds it knows.
 */
import { MessageError, integer, object, onlyKeys, plainJson, string, type Json } from './validate.js';

export const PROTOCOL_VERSION = 1;

export const PATHS = {
  hello: '/radanon-fl/v1/hello',
  next: '/radanon-fl/v1/next',
  reply: '/radanon-fl/v1/reply',
} as const;

/** An instruction as it travels from the coordinator to a site. */
export interface Envelope {
  /** Unique within a run; a reply names it. */
  readonly id: string;
  readonly kind: string;
  readonly body: Json;
}

/** Answer to `next` when the coordinator had nothing for the site within the hold time. */
export const WAIT_KIND = 'wait';

export interface HelloRequest {
  readonly protocol: number;
}

export interface HelloAnswer {
  readonly protocol: number;
  /** The name the coordinator knows the site by: its certificate's Common Name. */
  readonly site: string;
  /** Identifies the coordinator's run, so a site can tell a restarted coordinator. */
  readonly run: string;
}

const ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function parseEnvelope(value: unknown, path = 'message'): Envelope {
  const o = object(value, path);
  onlyKeys(o, path, ['id', 'kind', 'body']);
  const id = string(o.id, `${path}.id`, 128);
  if (!ID.test(id)) throw new MessageError(`${path}.id`, 'must be 1 to 128 letters, digits or ._:-');
  const kind = string(o.kind, `${path}.kind`, 64);
  return { id, kind, body: plainJson(o.body ?? null, `${path}.body`, 12) };
}

export function parseHelloRequest(value: unknown): HelloRequest {
  const o = object(value, 'hello');
  onlyKeys(o, 'hello', ['protocol']);
  return { protocol: integer(o.protocol, 'hello.protocol', 1, 1_000) };
}

export function parseHelloAnswer(value: unknown): HelloAnswer {
  const o = object(value, 'hello answer');
  return { protocol: integer(o.protocol, 'hello answer.protocol', 1, 1_000), site: string(o.site, 'hello answer.site', 256), run: string(o.run, 'hello answer.run', 128) };
}

/** The coordinator's verdict on a reply. */
export interface ReplyVerdict {
  readonly accepted: boolean;
  readonly reason?: string;
}
