/**
 * radanon's library: the one public surface. The command line and any service are thin faces
 * over these functions.
 */
export { readDicom, type ReadOptions } from './dicom/reader.js';
export { encodeDicom, encodeDicomToBuffer, type WriteInput } from './dicom/writer.js';
export { DicomParseError, NotDicomError } from './dicom/errors.js';
export { tag, parseTag, formatTag, Tags, type Tag } from './dicom/tag.js';
export type { VR } from './dicom/vr.js';
export type { Dataset, DicomFile, Element, ValueElement, SequenceElement, EncapsulatedElement, TransferSyntax } from './dicom/dataset.js';
export { parseSpecificCharacterSet, decodeText, encodeText, type CharacterSets } from './dicom/charset.js';
export { keywordOf, tagOfKeyword, lookupEntry } from './dicom/dictionary.js';

export { deidentify, type DeidPlan, type DeidResult, type DeidAction, type ActionKind } from './deid/engine.js';
export { Pseudonymizer, ProjectSecret, type PseudonymSettings } from './deid/pseudonyms.js';
export { PRESETS, resolveOptions, loadRecipe, parseLookupTable, loadLookupTable, parseDayRange, type PresetName } from './deid/plan.js';
export { parseRecipe, RecipeError, EMPTY_RECIPE, type Recipe, type RecipeRule } from './deid/recipe.js';
export { PROFILE_EDITION } from './deid/profile.generated.js';
export { OPTION_NAMES, DEIDENTIFICATION_METHOD_CODES, profileRuleFor, resolveAction, type OptionName } from './deid/profile.js';
export { shiftDate, shiftDateTime, shiftMultiValue, NotADateError } from './deid/dates.js';

export { runDeid, UsageError, type RunOptions, type Progress } from './pipeline/run.js';
export { summarize, type RunReport } from './pipeline/report.js';
export type { JobSettings } from './pipeline/settings.js';

export { verifyFolder, checkFile, summarizeVerify, type VerifyReport, type VerifyOptions, type Finding, type FindingKind } from './qa/verify.js';

export type { Vec3, Grid, Volume, Mask, VoxelArray } from './volume/volume.js';
export { readNifti, writeNifti, encodeNifti } from './volume/nifti.js';
export { readDicomSeries, listDicomSeries, type DicomSeriesVolume, type SeriesSummary } from './volume/dicom-series.js';
export { seriesOf, sourceOf, type SeriesReference, type SeriesEncoding } from './volume/source.js';
export { readSegmentation, listSegments } from './volume/segmentation.js';
export { readRtStruct, listRtStructRois } from './volume/rtstruct.js';
export { loadImage, loadMask, type LoadedImage } from './volume/load.js';
export { VolumeError, VolumeFormatError, VolumeGeometryError, VolumeSelectionError } from './volume/errors.js';

export { computeFeatures, type FeatureResult, type FeatureOptions } from './radiomics/engine.js';
export { FAMILIES, FAMILY_NAMES } from './radiomics/families.js';
export { PRESETS as RADIOMICS_PRESETS, PRESET_NAMES as RADIOMICS_PRESET_NAMES, loadSettings as loadRadiomicsSettings, parseSettings as parseRadiomicsSettings, validateSettings as validateRadiomicsSettings, type RadiomicsSettings, type PresetName as RadiomicsPresetName } from './radiomics/settings.js';
export { formatFeatures, parseFeatureTable, compareFeatures, formatComparison, type FeatureComparison, type FeatureChange, type Tolerance } from './radiomics/feature-table.js';
export { RadiomicsInputError, RadiomicsSettingsError } from './radiomics/errors.js';
export type { Feature, FamilyShort, Aggregation, Discretisation } from './radiomics/types.js';

export { defaceVolume, DefaceError, type DefaceOptions, type DefaceResult } from './volume/deface/deface.js';
export { checkFaces, type FaceCheckReport } from './volume/deface/face-check.js';
export { runDeface, findHeadSeries } from './volume/deface/run.js';
export { writeDicomSeries, type WrittenSeries, type WrittenFile } from './volume/dicom-series-writer.js';

export { anonymize, type AnonymizationResult } from './privacy/anonymize.js';
export { assessRisk } from './privacy/risk.js';
export { loadTable, parseCsv, writeCsv, RiskInputError } from './privacy/table.js';
export { loadHierarchies } from './privacy/hierarchy.js';
export { buildHierarchy, parseHierarchySpec, type HierarchySpec } from './privacy/builders.js';
export { extractDicomTable } from './privacy/from-dicom.js';
export { riskChartSvg } from './privacy/chart.js';
export { recipeForGeneralization } from './privacy/recipe-export.js';
export { optimalSearch, exhaustiveSearch } from './privacy/search.js';
export type { Table, Hierarchy, Transformation, RiskFigures } from './privacy/types.js';

export { runCoordinator } from './federated/coordinator.js';
export { runSite } from './federated/site.js';
export { createCredentials } from './federated/credentials.js';
export { createStrategy } from './federated/strategies.js';
export { trainLocal, trainCentral } from './federated/train.js';
export { predict, saveModel, loadModel, type SavedModel } from './federated/model.js';
export { evaluateModel } from './federated/evaluate.js';
export { RdpAccountant } from './federated/rdp.js';
export type { ModelSpec, Dataset as FederatedDataset, RoundPlan, SiteResult, Strategy, StrategyName } from './federated/types.js';
