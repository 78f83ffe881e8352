import type { IndexEntry } from './process-file.js';

/** Placeholder replaced by the DICOMDIR writer. */
export async function writeDicomdir(outputDir: string, entries: readonly IndexEntry[]): Promise<string> {
  void outputDir;
  void entries;
  throw new Error('DICOMDIR writing is not available yet');
}
