/** The plug-ins radanon ships, in the order they are tried. */
import { deflateFramePlugin, rlePlugin } from './builtin.js';
import { dcmjsCodecsPlugin } from './dcmjs-codecs.js';
import type { CodecPlugin } from './plugin.js';

export const builtinPlugins: readonly CodecPlugin[] = [rlePlugin, deflateFramePlugin, dcmjsCodecsPlugin];
