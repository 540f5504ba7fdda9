// Owns serving stored run files to the workbench: traversal-proof paths, tails, content types, safe headers.
import fs from 'node:fs';
import path from 'node:path';
import type { Response } from 'express';
import { AppError, notFound } from '../../core/errors';
import type { PreviewKind } from './admin-types';

/** Absolute path of a stored file; refuses anything that resolves outside `root`. */
export function resolveInside(root: string, stored: string): string {
  const base = path.resolve(root);
  const abs = path.resolve(base, stored);
  if (abs !== base && !abs.startsWith(base + path.sep)) throw new AppError('Forbidden', 'path is outside the data directory');
  return abs;
}

const TAIL_BYTES = 4096;

/** The last 4 KiB of a text file (decoded leniently), and the file's size; null if it is gone. */
export async function readTail(file: string, bytes = TAIL_BYTES): Promise<{ text: string; size: number } | null> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(file, 'r');
    const { size } = await handle.stat();
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    let text = new TextDecoder('utf-8').decode(buffer);
    // A cut through a multi-byte character decodes to U+FFFD at the start; drop it.
    if (start > 0) text = text.replace(/^\uFFFD+/, '');
    return { text, size };
  } catch {
    return null;
  } finally {
    await handle?.close();
  }
}

// Never text/html or anything a browser would run: results are untrusted and share the UI's origin.
const TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.bmp': 'image/bmp',
  '.pdf': 'application/pdf',
  '.json': 'application/json; charset=utf-8',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.tar': 'application/x-tar',
};
const IMAGE = /^image\//;

function looksLikeText(head: Buffer): boolean {
  if (head.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.length === 4096 ? trimPartial(head) : head);
    return true;
  } catch {
    return false;
  }
}

// A sniffed head may end inside a multi-byte character; trim up to 3 continuation bytes.
function trimPartial(head: Buffer): Buffer {
  let end = head.length;
  for (let i = 0; i < 4 && end > 0 && (head[end - 1] & 0xc0) === 0x80; i++) end--;
  if (end > 0 && head[end - 1] >= 0xc0) end--;
  return head.subarray(0, end);
}

async function readHead(file: string): Promise<Buffer> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buffer, 0, 4096, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Content-Type by extension; unknown extensions (A_A results: `.count`, `.ss2`) are sniffed as text or binary. */
export async function contentTypeOf(file: string): Promise<string> {
  const known = TYPES[path.extname(file).toLowerCase()];
  if (known) return known;
  try {
    return looksLikeText(await readHead(file)) ? 'text/plain; charset=utf-8' : 'application/octet-stream';
  } catch {
    return 'application/octet-stream';
  }
}

/** How the run page can preview a file. */
export async function previewKindOf(file: string): Promise<PreviewKind> {
  const type = await contentTypeOf(file);
  if (IMAGE.test(type)) return 'image';
  if (type.startsWith('text/') || type.startsWith('application/json')) return 'text';
  return 'none';
}

/** Streams a stored file with a safe Content-Type; `download` asks the browser to save it. */
export async function sendStored(res: Response, abs: string, name: string, download: boolean): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(abs);
  } catch {
    throw notFound('File not found.');
  }
  if (!stat.isFile()) throw notFound('File not found.');
  // attachment() also guesses a Content-Type from the name, so ours is set after it.
  res.attachment(name);
  if (!download) res.setHeader('Content-Disposition', String(res.getHeader('Content-Disposition')).replace(/^attachment/, 'inline'));
  res.setHeader('Content-Type', await contentTypeOf(abs));
  res.setHeader('Content-Length', String(stat.size));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox");
  res.setHeader('Cache-Control', 'no-store');
  await new Promise<void>((resolve, reject) => {
    const stream = fs.createReadStream(abs);
    stream.on('error', reject);
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}
