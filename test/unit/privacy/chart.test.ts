/**
 * The risk chart: a well-formed, self-contained SVG whose bar heights are proportional to the
 * figures they show, with labels escaped.
 */
import { describe, expect, it } from 'vitest';
import { CLASS_SIZE_BUCKETS, recordsBySizeBucket, riskChartSvg } from '../../../src/privacy/chart.js';
import type { RiskFigures } from '../../../src/privacy/types.js';

// ---------------------------------------------------------------------------------------
// A small XML reader, enough to check well-formedness (one root, matched tags, quoted and
// unique attributes, known entities, nothing but whitespace around the root) and to query
// elements. No dependency: node has no XML parser of its own.

interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  text: string;
}

const NAME = '[A-Za-z_:][-A-Za-z0-9_:.]*';

function decodeEntities(s: string, at: number): string {
  return s.replace(/&([^;]*);/g, (_, e: string) => {
    const known: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (known[e] !== undefined) return known[e]!;
    if (/^#\d+$/.test(e)) return String.fromCodePoint(Number(e.slice(1)));
    if (/^#x[0-9a-fA-F]+$/.test(e)) return String.fromCodePoint(parseInt(e.slice(2), 16));
    throw new Error(`unknown entity &${e}; near ${at}`);
  });
}

function parseXml(xml: string): XmlElement {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`not well-formed at ${i}: ${why}`);
  };
  const skipMisc = () => {
    for (;;) {
      const m = /^(\s+|<\?[\s\S]*?\?>|<!--[\s\S]*?-->)/.exec(xml.slice(i));
      if (!m) return;
      i += m[0].length;
    }
  };
  const parseElement = (): XmlElement => {
    const open = new RegExp(`^<(${NAME})`).exec(xml.slice(i));
    if (!open) return fail('expected an element');
    i += open[0].length;
    const attributes: Record<string, string> = {};
    for (;;) {
      const attr = new RegExp(`^\\s+(${NAME})\\s*=\\s*("([^"<]*)"|'([^'<]*)')`).exec(xml.slice(i));
      if (!attr) break;
      if (attributes[attr[1]!] !== undefined) fail(`attribute ${attr[1]} twice`);
      if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(attr[3] ?? attr[4]!)) fail('bare & in an attribute');
      attributes[attr[1]!] = decodeEntities(attr[3] ?? attr[4]!, i);
      i += attr[0].length;
    }
    const end = /^\s*(\/?)>/.exec(xml.slice(i));
    if (!end) return fail(`bad start tag <${open[1]}`);
    i += end[0].length;
    const el: XmlElement = { name: open[1]!, attributes, children: [], text: '' };
    if (end[1] === '/') return el;
    for (;;) {
      const chunk = /^[^<]*/.exec(xml.slice(i))![0];
      if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(chunk)) fail('bare & in text');
      if (chunk.includes(']]>')) fail(']]> in text');
      el.text += decodeEntities(chunk, i);
      i += chunk.length;
      if (i >= xml.length) fail(`<${el.name}> not closed`);
      if (xml.startsWith('<!--', i)) {
        const close = xml.indexOf('-->', i);
        if (close < 0) fail('comment not closed');
        i = close + 3;
        continue;
      }
      if (xml.startsWith('</', i)) {
        const close = new RegExp(`^</(${NAME})\\s*>`).exec(xml.slice(i));
        if (!close || close[1] !== el.name) fail(`</${close?.[1]}> closes <${el.name}>`);
        i += close![0].length;
        return el;
      }
      el.children.push(parseElement());
    }
  };
  skipMisc();
  const root = parseElement();
  skipMisc();
  if (i !== xml.length) fail('content after the root element');
  return root;
}

function* descendants(el: XmlElement): Generator<XmlElement> {
  for (const c of el.children) {
    yield c;
    yield* descendants(c);
  }
}

function allText(el: XmlElement): string {
  return el.text + el.children.map(allText).join('');
}

// ---------------------------------------------------------------------------------------

function figures(partial: { classSizes: [number, number][]; highest: number; average: number; atRisk: number; uniques: number }): RiskFigures {
  const records = partial.classSizes.reduce((n, [size, classes]) => n + size * classes, 0);
  const classes = partial.classSizes.reduce((n, [, c]) => n + c, 0);
  return {
    records,
    classes,
    prosecutor: { highest: partial.highest, average: partial.average },
    journalist: { highest: partial.highest, average: partial.average },
    marketer: classes / records,
    recordsAtRisk: { threshold: 0.2, share: partial.atRisk },
    sampleUniques: partial.uniques,
    classSizes: partial.classSizes.map(([size, classes]) => ({ size, classes })),
  };
}

const before = figures({ classSizes: [[1, 30], [2, 20], [3, 10], [4, 5], [6, 5], [12, 3], [25, 2], [80, 1]], highest: 1, average: 0.35, atRisk: 0.42, uniques: 0.12 });
const after = figures({ classSizes: [[5, 12], [7, 10], [15, 4], [40, 2], [120, 1]], highest: 0.2, average: 0.07, atRisk: 0, uniques: 0 });

describe('riskChartSvg', () => {
  const svg = riskChartSvg({ before, after, k: 5, title: 'Risk <before & after> "k=5"' });
  const root = parseXml(svg);
  const rects = [...descendants(root)].filter((e) => e.name === 'rect' && e.attributes['data-series']);

  it('is a well-formed, self-contained SVG document', () => {
    expect(root.name).toBe('svg');
    expect(root.attributes.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(svg).not.toMatch(/<script|<style|@import|href=|url\(/i);
    for (const t of [...descendants(root)].filter((e) => e.name === 'text')) expect(t.attributes['font-family']).toBe('sans-serif');
    const texts = [...descendants(root)].map(allText).join('\n');
    expect(texts).toContain('Records by equivalence class size');
    expect(texts).toContain('Re-identification risk');
    expect(texts).toContain('size of the equivalence class (records)');
    expect(texts).toContain('before (');
    expect(texts).toContain('after (');
  });

  it('escapes the title: it reads back exactly', () => {
    const title = root.children.find((c) => c.name === 'title')!;
    expect(title.text).toBe('Risk <before & after> "k=5"');
    expect(svg).toContain('Risk &lt;before &amp; after&gt; &quot;k=5&quot;');
  });

  it('panel 1: records per size bucket, bar heights proportional to the counts', () => {
    const bars = rects.filter((r) => CLASS_SIZE_BUCKETS.some((b) => b.label === r.attributes['data-group']));
    expect(bars).toHaveLength(CLASS_SIZE_BUCKETS.length * 2);
    const expected = { before: recordsBySizeBucket(before), after: recordsBySizeBucket(after) };
    // By hand: before has 30 records in classes of 1, 40 of 2, 30 of 3, 20 of 4, 30 in 5-9, 36 in 10-19, 50 in 20-49, 80 in 50+.
    expect(expected.before).toEqual([30, 40, 30, 20, 30, 36, 50, 80]);
    expect(expected.after).toEqual([0, 0, 0, 0, 130, 60, 80, 120]);
    const ratios: number[] = [];
    for (const r of bars) {
      const series = r.attributes['data-series'] as 'before' | 'after';
      const i = CLASS_SIZE_BUCKETS.findIndex((b) => b.label === r.attributes['data-group']);
      const value = expected[series][i]!;
      expect(Number(r.attributes['data-value'])).toBe(value);
      const h = Number(r.attributes.height);
      if (value === 0) expect(h).toBe(0);
      else ratios.push(h / value);
      // bars stand on one baseline
      expect(Number(r.attributes.y) + h).toBeCloseTo(Number(bars[0]!.attributes.y) + Number(bars[0]!.attributes.height), 1);
    }
    for (const q of ratios) expect(q).toBeCloseTo(ratios[0]!, 2);
    // The tallest bar reaches at most the top of the axis (a round number at or above the maximum).
    expect(Math.max(...bars.map((b) => Number(b.attributes.height)))).toBeLessThanOrEqual(290);
  });

  it('panel 2: risk figures on a 0-1 scale, paired, with value labels', () => {
    const groups = ['highest prosecutor risk', 'average prosecutor risk', 'records at risk (risk > 0.2)', 'sample uniques'];
    const bars = rects.filter((r) => groups.includes(r.attributes['data-group']!));
    expect(bars).toHaveLength(8);
    const value = (f: RiskFigures, g: string) => [f.prosecutor.highest, f.prosecutor.average, f.recordsAtRisk.share, f.sampleUniques][groups.indexOf(g)]!;
    const full = Number(bars.find((b) => b.attributes['data-series'] === 'before' && b.attributes['data-group'] === groups[0])!.attributes.height);
    for (const b of bars) {
      const v = value(b.attributes['data-series'] === 'before' ? before : after, b.attributes['data-group']!);
      expect(Number(b.attributes['data-value'])).toBe(v);
      // highest prosecutor risk before is 1: the full height of the axis
      expect(Number(b.attributes.height)).toBeCloseTo(v * full, 1);
    }
    const labels = [...descendants(root)].filter((e) => e.name === 'text').map(allText);
    for (const v of ['1.000', '0.350', '0.420', '0.120', '0.200', '0.070', '0.000']) expect(labels).toContain(v);
  });

  it('a marker at k, at the boundary of classes smaller than k', () => {
    const marker = [...descendants(root)].find((e) => e.attributes['data-marker'] === 'k')!;
    expect(marker.attributes['data-k']).toBe('5');
    const first59 = rects.filter((r) => r.attributes['data-group'] === '5–9').map((r) => Number(r.attributes.x));
    const last4 = rects.filter((r) => r.attributes['data-group'] === '4').map((r) => Number(r.attributes.x) + Number(r.attributes.width));
    const x = Number(marker.attributes.x1);
    expect(x).toBeGreaterThan(Math.max(...last4));
    expect(x).toBeLessThan(Math.min(...first59));
    expect([...descendants(root)].map(allText)).toContain('k = 5');
  });

  it('without a transformation: only "before" bars, and no marker without k', () => {
    const single = parseXml(riskChartSvg({ before, after: null, k: null, title: 'Before only' }));
    const bars = [...descendants(single)].filter((e) => e.name === 'rect' && e.attributes['data-series']);
    expect(bars).toHaveLength(CLASS_SIZE_BUCKETS.length + 4);
    expect(new Set(bars.map((b) => b.attributes['data-series']))).toEqual(new Set(['before']));
    expect([...descendants(single)].some((e) => e.attributes['data-marker'])).toBe(false);
  });

  it('the XML reader of this test rejects what is not well-formed', () => {
    expect(() => parseXml('<svg><g></svg>')).toThrow(/closes/);
    expect(() => parseXml('<svg a="1" a="2"/>')).toThrow(/twice/);
    expect(() => parseXml('<svg><text>a & b</text></svg>')).toThrow(/bare &/);
    expect(() => parseXml('<svg/><svg/>')).toThrow(/after the root/);
    expect(() => parseXml('<svg><text>a < b</text></svg>')).toThrow();
  });
});
