import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pkg = require('../package.json') as { version: string };

export const VERSION: string = pkg.version;

/** radanon's Implementation Class UID (a UUID-derived UID under 2.25, fixed for the project). */
export const IMPLEMENTATION_CLASS_UID = '2.25.150728954857442883001997778610071747023';
/** Implementation Version Name: 16 characters at most. */
export const IMPLEMENTATION_VERSION_NAME = `RADANON_${VERSION}`.slice(0, 16);
