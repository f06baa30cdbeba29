/**
 * Examples added to a run's labeled set that are not dataset rows (a digit drawn on the page's pad):
 * how a round record writes them (`RoundRecord.added`: the label and the uint8 pixels as base64)
 * and reads them back. Plain data, no tfjs: the results schema and the page import it.
 */
import type { AddedExample } from './oracle.ts';

/** An added example as the results record it: its label and its uint8 values as base64. */
export interface AddedRecord {
  label: number;
  /** The example's uint8 values (row-major, the dataset's example shape), base64. */
  pixels: string;
}

/** Base64 of `bytes` (btoa, as in browsers and Node). */
export function encodePixels(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x2000) s += String.fromCharCode(...bytes.subarray(i, i + 0x2000));
  return btoa(s);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The bytes of base64 `text`, or null when it is not base64. */
export function decodePixels(text: string): Uint8Array | null {
  if (!BASE64.test(text)) return null;
  const s = atob(text);
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

export const addedRecord = (e: AddedExample): AddedRecord => ({ label: e.label, pixels: encodePixels(e.pixels) });

/** Whether a dataset of this kind takes added examples (uint8 images). */
export const takesAdded = (kind: string): boolean => kind === 'image';
