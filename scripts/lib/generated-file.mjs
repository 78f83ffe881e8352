// Shared by the generators under scripts/: where the repository is, and the "run as a script"
// step that writes a generated file, so each generator is only its pure render function.
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** True when the module at `moduleUrl` is the script node was started with. */
export function isMain(moduleUrl) {
  return Boolean(process.argv[1]) && resolve(process.argv[1]) === fileURLToPath(moduleUrl);
}

/** Writes a generated file (path relative to the repository) and says so. */
export function writeGenerated(outputPath, text, from) {
  writeFileSync(join(repoRoot, outputPath), text);
  console.log(`wrote ${outputPath} (${text.length} bytes) from ${from}`);
}
