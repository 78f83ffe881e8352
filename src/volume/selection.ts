/**
 * Choosing one labelled region (a SEG segment, an RTSTRUCT ROI) by number or by name, the same
 * way for both.
 */
import { VolumeSelectionError } from './errors.js';

/** A region chosen by its number, or by its label / name. */
export type RegionSelection = number | string;

export interface LabelledRegion {
  readonly number: number;
  readonly label: string | undefined;
}

/** "2: GTV" for lists in messages. */
export function describeRegion(region: LabelledRegion): string {
  return region.label === undefined ? String(region.number) : `${region.number}: ${region.label}`;
}

/**
 * The region a selection names. A string matches a label exactly, then ignoring case and
 * surrounding spaces if that is unique, then (all digits) a number; a number matches a number.
 * Without a selection the only region is chosen; with several, that is an error listing them.
 */
export function selectRegion<R extends LabelledRegion>(regions: readonly R[], selection: RegionSelection | undefined, kind: string, file: string): R {
  const choices = regions.map(describeRegion);
  if (regions.length === 0) throw new VolumeSelectionError(`the file holds no ${kind}`, file, []);
  if (selection === undefined) {
    if (regions.length === 1) return regions[0]!;
    throw new VolumeSelectionError(`the file holds ${regions.length} ${kind}s; choose one by number or name`, file, choices);
  }
  if (typeof selection === 'number') {
    const found = regions.find((r) => r.number === selection);
    if (found) return found;
    throw new VolumeSelectionError(`no ${kind} numbered ${selection}`, file, choices);
  }
  const exact = regions.filter((r) => r.label === selection);
  if (exact.length === 1) return exact[0]!;
  if (exact.length > 1) throw new VolumeSelectionError(`${exact.length} ${kind}s are named "${selection}"; choose one by number`, file, choices);
  const wanted = selection.trim().toLowerCase();
  const loose = regions.filter((r) => r.label?.trim().toLowerCase() === wanted);
  if (loose.length === 1) return loose[0]!;
  if (loose.length > 1) throw new VolumeSelectionError(`${loose.length} ${kind}s are named "${selection}" (ignoring case); choose one by number`, file, choices);
  if (/^\s*\d+\s*$/.test(selection)) {
    const found = regions.find((r) => r.number === Number(selection));
    if (found) return found;
  }
  throw new VolumeSelectionError(`no ${kind} named "${selection}"`, file, choices);
}
