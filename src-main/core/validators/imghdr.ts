// Owns image type sniffing for the image validators, matching Python 3.11's imghdr where A_A relied on it.
import { readHeader } from './read';

export type ImageKind = 'jpeg' | 'png' | 'gif';

const PNG_SIGNATURE = Buffer.from('\x89PNG\r\n\x1a\n', 'latin1');
const RAW_JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xdb]);

/**
 * The kind imghdr.what() reports for these header bytes, or null for anything else. Its tests
 * run in order jpeg, png, gif and the first hit wins, so e.g. "GIF89aJFIF…" counts as jpeg.
 * Kinds imghdr tests later (tiff, bmp, …) cannot pre-empt these three and are not needed.
 */
export function imageKindOf(header: Buffer): ImageKind | null {
  const marker = header.subarray(6, 10).toString('latin1');
  if (marker === 'JFIF' || marker === 'Exif') return 'jpeg';
  if (header.subarray(0, 4).equals(RAW_JPEG)) return 'jpeg';
  if (header.subarray(0, 8).equals(PNG_SIGNATURE)) return 'png';
  const gif = header.subarray(0, 6).toString('latin1');
  if (gif === 'GIF87a' || gif === 'GIF89a') return 'gif';
  return null;
}

/** Sniffs a file from its first 32 bytes, as imghdr reads them. */
export async function imageKind(file: string): Promise<ImageKind | null> {
  return imageKindOf(await readHeader(file, 32));
}
