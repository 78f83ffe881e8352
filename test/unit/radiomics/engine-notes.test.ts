/**
 * computeFeatures tells its caller when the image's pixels were lossy compressed: the values are
 * the decoded ones, not the acquisition's.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { computeFeatures } from '../../../src/radiomics/engine.js';
import { loadSettings } from '../../../src/radiomics/settings.js';
import { readNifti } from '../../../src/volume/nifti.js';
import { withSource, type SeriesReference } from '../../../src/volume/source.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/ibsi');

function series(lossy: boolean, transferSyntaxUid: string): SeriesReference {
  return {
    seriesInstanceUid: '1.2.826.0.1.3680043.10.999.5',
    frameOfReferenceUid: undefined,
    sliceOfInstance: new Map(),
    encoding: { transferSyntaxUids: [transferSyntaxUid], compressed: transferSyntaxUid !== '1.2.840.10008.1.2.1', lossy },
  };
}

describe('computeFeatures notes', () => {
  it('notes a lossy compressed series, and nothing for a lossless one or a NIfTI file', async () => {
    const image = await readNifti(path.join(fixtures, 'phantom.nii.gz'));
    const maskVolume = await readNifti(path.join(fixtures, 'mask.nii.gz'));
    const mask = { grid: image.grid, data: Uint8Array.from(maskVolume.data, (v) => (v > 0.5 ? 1 : 0)) };
    const settings = await loadSettings('ibsi-phantom');
    const plain = computeFeatures(image, mask, settings, { families: ['stat'] });
    expect(plain.notes).toEqual([]);

    const lossless = computeFeatures({ grid: withSource(image.grid, 'series', series(false, '1.2.840.10008.1.2.4.70')), data: image.data }, mask, settings, { families: ['stat'] });
    expect(lossless.notes).toEqual([]);

    const lossy = computeFeatures({ grid: withSource(image.grid, 'series', series(true, '1.2.840.10008.1.2.4.91')), data: image.data }, mask, settings, { families: ['stat'] });
    expect(lossy.notes).toHaveLength(1);
    expect(lossy.notes[0]).toMatch(/lossy compressed \(transfer syntax 1\.2\.840\.10008\.1\.2\.4\.91\)/);
    // The note changes nothing in the values.
    expect(lossy.features).toEqual(plain.features);
  });
});
