import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Command-line and worker-thread tests run the compiled program, as users do: build it once
 * before any test file runs.
 */
export default function setup(): void {
  // Library-only test files can skip the build (RADANON_SKIP_BUILD=1) while other parts of the
  // tree are being changed; CLI and worker tests need it.
  if (process.env.RADANON_SKIP_BUILD === '1') return;
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
}
