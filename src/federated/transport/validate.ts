/**
 * Checks of untrusted JSON, field by field: every message a party receives passes through
 * these before any value of it is used. A failure names the field's path and what was wrong,
 * which is what the refused party is told and what the log records.
 */

/** A message that is malformed, out of range or too large. */
export class MessageError extends Error {
  override readonly name = 'MessageError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MessageError(path, 'must be an object');
  return value as Record<string, unknown>;
}

export function array(value: unknown, path: string, maxLength: number): unknown[] {
  if (!Array.isArray(value)) throw new MessageError(path, 'must be an array');
  if (value.length > maxLength) throw new MessageError(path, `has ${value.length} items, at most ${maxLength} allowed`);
  return value;
}

export function string(value: unknown, path: string, maxLength = 4096): string {
  if (typeof value !== 'string') throw new MessageError(path, 'must be a string');
  if (value.length > maxLength) throw new MessageError(path, `is longer than ${maxLength} characters`);
  return value;
}

export function literal<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new MessageError(path, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

export function finite(value: unknown, path: string, min = -Number.MAX_VALUE, max = Number.MAX_VALUE): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new MessageError(path, 'must be a finite number');
  if (value < min || value > max) throw new MessageError(path, `must be from ${min} to ${max}, got ${value}`);
  return value;
}

export function integer(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new MessageError(path, 'must be an integer');
  if (value < min || value > max) throw new MessageError(path, `must be from ${min} to ${max}, got ${value}`);
  return value;
}

export function boolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new MessageError(path, 'must be true or false');
  return value;
}

/** Refuses keys the schema does not know, so nothing unchecked rides along. */
export function onlyKeys(o: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new MessageError(`${path}.${k}`, 'is not a known field');
}

/** A JSON value nested no deeper than `maxDepth` (protocol payloads checked further by their owner). */
export function plainJson(value: unknown, path: string, maxDepth = 8): Json {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new MessageError(path, 'must be a finite number');
    return value;
  }
  if (maxDepth <= 0) throw new MessageError(path, 'is nested too deeply');
  if (Array.isArray(value)) return value.map((v, i) => plainJson(v, `${path}[${i}]`, maxDepth - 1));
  if (typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) out[k] = plainJson(v, `${path}.${k}`, maxDepth - 1);
    return out;
  }
  throw new MessageError(path, `must be JSON, got ${typeof value}`);
}
