/** Burned-in text detection: OCR with a pre-filter, header hints and device rules. */
export { createTextDetector, type FrameHints, type TextDetector, type TextDetectorOptions, WORD_PADDING } from './detector.js';
export { headerFindings, ultrasoundDataRegions, type HeaderFindings } from './header-hints.js';
export { loadDeviceRules, parseDeviceRules, shippedDeviceRules, shippedDeviceRulesPath, matchDeviceRules, DeviceRulesError, type DeviceRule, type DeviceRules, type DeviceMatch } from './device-rules.js';
export { maskText, TextDigester } from './text-mask.js';
