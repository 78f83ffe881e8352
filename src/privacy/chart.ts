/**
 * The before/after chart of `radanon risk`: a self-contained SVG document (no scripts, no
 * external fonts or styles; text in the generic sans-serif family) with two panels:
 *   1. records by the size of their equivalence class, in buckets (1, 2, 3, 4, 5–9, 10–19,
 *      20–49, 50+), before and after, with a marker at k: records left of it are in classes
 *      smaller than k;
 *   2. the risk figures before and after, on a 0–1 scale: highest and average prosecutor risk,
 *      the share of records at risk and the share of sample uniques (as ARX reports them).
 * Every bar carries `data-series`, `data-group` and `data-value` attributes, so the figures can
 * be read back from the document.
 */
import type { RiskFigures } from './types.js';

export interface RiskChartInput {
  readonly before: RiskFigures;
  /** Null when there is no transformation to compare with (only "before" is drawn). */
  readonly after: RiskFigures | null;
  /** The k of k-anonymity, marked on the class-size panel; null for none. */
  readonly k: number | null;
  readonly title: string;
}

/** Class-size buckets of the first panel: [smallest size, largest size] (Infinity: open). */
export const CLASS_SIZE_BUCKETS: readonly { readonly label: string; readonly min: number; readonly max: number }[] = [
  { label: '1', min: 1, max: 1 },
  { label: '2', min: 2, max: 2 },
  { label: '3', min: 3, max: 3 },
  { label: '4', min: 4, max: 4 },
  { label: '5–9', min: 5, max: 9 },
  { label: '10–19', min: 10, max: 19 },
  { label: '20–49', min: 20, max: 49 },
  { label: '50+', min: 50, max: Infinity },
];

/** Records (not classes) per bucket: a class of size s holds s records. */
export function recordsBySizeBucket(figures: RiskFigures): number[] {
  const out = CLASS_SIZE_BUCKETS.map(() => 0);
  for (const bin of figures.classSizes) {
    const i = CLASS_SIZE_BUCKETS.findIndex((b) => bin.size >= b.min && bin.size <= b.max);
    if (i >= 0) out[i]! += bin.size * bin.classes;
  }
  return out;
}

const WIDTH = 1040;
const HEIGHT = 470;
const COLORS = { before: '#c0504d', after: '#4f81bd', k: '#333333', axis: '#444444', grid: '#dddddd' } as const;
const FONT = 'font-family="sans-serif"';

interface Panel {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Numbers written into attributes: short, and never in exponent form. */
function n(x: number): string {
  return (Math.round(x * 100) / 100).toString();
}

/** A round upper bound for an axis of counts: 1, 2, 2.5 or 5 times a power of ten. */
function niceCeiling(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

function formatCount(v: number): string {
  return v >= 10_000 ? `${n(v / 1000)}k` : String(Math.round(v * 100) / 100);
}

function formatShare(v: number): string {
  return v.toFixed(3);
}

type Series = 'before' | 'after';

/** One group of bars (one per series) on a value axis from 0 to `max`. */
function barGroup(
  panel: Panel,
  groupIndex: number,
  groupCount: number,
  group: string,
  values: readonly { series: Series; value: number }[],
  max: number,
  label: (v: number) => string,
): string[] {
  const slot = panel.width / groupCount;
  const barWidth = Math.min(34, (slot * 0.7) / 2);
  const start = panel.x + groupIndex * slot + (slot - barWidth * values.length) / 2;
  const baseline = panel.y + panel.height;
  const out: string[] = [];
  values.forEach(({ series, value }, i) => {
    const h = (Math.max(0, value) / max) * panel.height;
    const x = start + i * barWidth;
    out.push(
      `<rect x="${n(x)}" y="${n(baseline - h)}" width="${n(barWidth - 2)}" height="${n(h)}" fill="${COLORS[series]}" data-series="${series}" data-group="${escapeXml(group)}" data-value="${value}"><title>${escapeXml(`${group}, ${series}: ${label(value)}`)}</title></rect>`,
      `<text x="${n(x + (barWidth - 2) / 2)}" y="${n(baseline - h - 4)}" font-size="10" text-anchor="middle" ${FONT} fill="#222">${escapeXml(label(value))}</text>`,
    );
  });
  return out;
}

function valueAxis(panel: Panel, max: number, ticks: number, format: (v: number) => string, title: string): string[] {
  const out: string[] = [];
  const baseline = panel.y + panel.height;
  for (let i = 0; i <= ticks; i++) {
    const v = (max * i) / ticks;
    const y = baseline - (panel.height * i) / ticks;
    out.push(`<line x1="${n(panel.x)}" y1="${n(y)}" x2="${n(panel.x + panel.width)}" y2="${n(y)}" stroke="${i === 0 ? COLORS.axis : COLORS.grid}" stroke-width="1"/>`);
    out.push(`<text x="${n(panel.x - 6)}" y="${n(y + 4)}" font-size="11" text-anchor="end" ${FONT} fill="${COLORS.axis}">${escapeXml(format(v))}</text>`);
  }
  out.push(`<line x1="${n(panel.x)}" y1="${n(panel.y)}" x2="${n(panel.x)}" y2="${n(baseline)}" stroke="${COLORS.axis}" stroke-width="1"/>`);
  const cy = panel.y + panel.height / 2;
  out.push(`<text x="${n(panel.x - 52)}" y="${n(cy)}" font-size="12" text-anchor="middle" ${FONT} fill="${COLORS.axis}" transform="rotate(-90 ${n(panel.x - 52)} ${n(cy)})">${escapeXml(title)}</text>`);
  return out;
}

function groupLabels(panel: Panel, labels: readonly string[], title: string): string[] {
  const slot = panel.width / labels.length;
  const baseline = panel.y + panel.height;
  const out = labels.map((l, i) => `<text x="${n(panel.x + slot * (i + 0.5))}" y="${n(baseline + 16)}" font-size="11" text-anchor="middle" ${FONT} fill="${COLORS.axis}">${escapeXml(l)}</text>`);
  out.push(`<text x="${n(panel.x + panel.width / 2)}" y="${n(baseline + 44)}" font-size="12" text-anchor="middle" ${FONT} fill="${COLORS.axis}">${escapeXml(title)}</text>`);
  return out;
}

/**
 * Where size k falls on the bucket axis: inside its bucket in proportion to the sizes it spans
 * (k = 5 at the left edge of 5–9, the boundary between "smaller than k" and the rest).
 */
function kPosition(panel: Panel, k: number): number {
  const slot = panel.width / CLASS_SIZE_BUCKETS.length;
  const i = CLASS_SIZE_BUCKETS.findIndex((b) => k >= b.min && k <= b.max);
  if (i < 0) return panel.x; // k < 1: every class qualifies
  const b = CLASS_SIZE_BUCKETS[i]!;
  const within = Number.isFinite(b.max) ? (k - b.min) / (b.max - b.min + 1) : 0;
  return panel.x + slot * (i + within);
}

/** The chart as an SVG document. */
export function riskChartSvg(input: RiskChartInput): string {
  const series: Series[] = input.after ? ['before', 'after'] : ['before'];
  const figures = (s: Series): RiskFigures => (s === 'before' ? input.before : input.after!);
  const left: Panel = { x: 90, y: 80, width: 400, height: 290 };
  const right: Panel = { x: 610, y: 80, width: 400, height: 290 };
  const parts: string[] = [];

  parts.push(`<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  parts.push(`<text x="${WIDTH / 2}" y="28" font-size="17" font-weight="bold" text-anchor="middle" ${FONT} fill="#111">${escapeXml(input.title)}</text>`);

  // Panel 1: records by class size.
  const buckets = new Map(series.map((s) => [s, recordsBySizeBucket(figures(s))] as const));
  const countMax = niceCeiling(Math.max(...[...buckets.values()].flat()));
  parts.push(`<text x="${n(left.x + left.width / 2)}" y="${n(left.y - 22)}" font-size="14" text-anchor="middle" ${FONT} fill="#111">Records by equivalence class size</text>`);
  parts.push(...valueAxis(left, countMax, 5, formatCount, 'records'));
  CLASS_SIZE_BUCKETS.forEach((b, i) => {
    parts.push(...barGroup(left, i, CLASS_SIZE_BUCKETS.length, b.label, series.map((s) => ({ series: s, value: buckets.get(s)![i]! })), countMax, formatCount));
  });
  parts.push(...groupLabels(left, CLASS_SIZE_BUCKETS.map((b) => b.label), 'size of the equivalence class (records)'));
  if (input.k !== null) {
    const x = kPosition(left, input.k);
    parts.push(`<line x1="${n(x)}" y1="${n(left.y - 6)}" x2="${n(x)}" y2="${n(left.y + left.height)}" stroke="${COLORS.k}" stroke-width="1.5" stroke-dasharray="5 3" data-marker="k" data-k="${input.k}"/>`);
    parts.push(`<text x="${n(x + 4)}" y="${n(left.y + 6)}" font-size="12" ${FONT} fill="${COLORS.k}">${escapeXml(`k = ${input.k}`)}</text>`);
  }

  // Panel 2: risk figures on 0–1.
  const threshold = input.before.recordsAtRisk.threshold;
  const measures: readonly { label: readonly string[]; value: (f: RiskFigures) => number }[] = [
    { label: ['highest', 'prosecutor risk'], value: (f) => f.prosecutor.highest },
    { label: ['average', 'prosecutor risk'], value: (f) => f.prosecutor.average },
    { label: ['records at risk', `(risk > ${threshold})`], value: (f) => f.recordsAtRisk.share },
    { label: ['sample uniques'], value: (f) => f.sampleUniques },
  ];
  parts.push(`<text x="${n(right.x + right.width / 2)}" y="${n(right.y - 22)}" font-size="14" text-anchor="middle" ${FONT} fill="#111">Re-identification risk</text>`);
  parts.push(...valueAxis(right, 1, 5, (v) => v.toFixed(1), 'risk / share of records'));
  measures.forEach((m, i) => {
    parts.push(...barGroup(right, i, measures.length, m.label.join(' '), series.map((s) => ({ series: s, value: m.value(figures(s)) })), 1, formatShare));
  });
  parts.push(...wrappedGroupLabels(right, measures.map((m) => m.label)));

  // Legend.
  const legendY = HEIGHT - 22;
  series.forEach((s, i) => {
    const x = WIDTH / 2 - (series.length * 210) / 2 + i * 210;
    const f = figures(s);
    parts.push(`<rect x="${n(x)}" y="${n(legendY - 10)}" width="12" height="12" fill="${COLORS[s]}"/>`);
    parts.push(`<text x="${n(x + 18)}" y="${n(legendY)}" font-size="12" ${FONT} fill="#222">${escapeXml(`${s} (${f.records} records)`)}</text>`);
  });

  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img">`,
    `<title>${escapeXml(input.title)}</title>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** Measure names under their bars, one line per part. */
function wrappedGroupLabels(panel: Panel, labels: readonly (readonly string[])[]): string[] {
  const slot = panel.width / labels.length;
  const baseline = panel.y + panel.height;
  return labels.map((lines, i) => {
    const x = n(panel.x + slot * (i + 0.5));
    const tspans = lines.map((line, j) => `<tspan x="${x}" dy="${j === 0 ? 0 : 13}">${escapeXml(line)}</tspan>`).join('');
    return `<text x="${x}" y="${n(baseline + 16)}" font-size="11" text-anchor="middle" ${FONT} fill="${COLORS.axis}">${tspans}</text>`;
  });
}
