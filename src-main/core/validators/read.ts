// Owns the bounded ways validators read an uploaded file: a header prefix, or UTF-8 text in chunks.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

/** Up to the first `length` bytes of `file` (fewer when the file is shorter). */
export async function readHeader(file: string, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** How a text scan ended: the visitor asked to stop, the file ran out, or it was not UTF-8. */
export type TextScanEnd = 'stopped' | 'end' | 'not-utf8';

/**
 * Feeds `file` to `visit` as UTF-8 text, chunk by chunk, until `visit` returns false or the file
 * ends. Decoding is strict like Python's `bytes.decode('utf-8')`, and a byte-order mark is kept as
 * text rather than dropped. Every character before the first invalid byte is visited, wherever
 * chunks happen to split, so the outcome depends only on the file's content.
 */
export async function scanText(file: string, visit: (text: string) => boolean): Promise<TextScanEnd> {
  const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
  let pending: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const bytes = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      const cut = completeLength(bytes);
      pending = bytes.subarray(cut);
      const whole = bytes.subarray(0, cut);
      const text = decodeStrict(whole);
      if (text === null) return visit(validPrefix(whole)) ? 'not-utf8' : 'stopped';
      if (text !== '' && !visit(text)) return 'stopped';
    }
    // A character cut off by the end of the file is invalid, as in Python.
    return pending.length > 0 ? 'not-utf8' : 'end';
  } finally {
    stream.destroy();
  }
}

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder('utf-8', { ignoreBOM: true });

function decodeStrict(bytes: Buffer): string | null {
  try {
    return strict.decode(bytes);
  } catch {
    return null;
  }
}

/** Length of `bytes` without a trailing multi-byte character that the next chunk may complete. */
function completeLength(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back];
    if (byte < 0x80) return bytes.length;
    if (byte >= 0xc0) {
      const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return needed > back ? bytes.length - back : bytes.length;
    }
  }
  return bytes.length;
}

/** The text before the first invalid byte (found by bisection: validity of prefixes is monotonic). */
function validPrefix(bytes: Buffer): string {
  const prefixValid = (end: number): boolean => {
    try {
      // Streaming mode tolerates a character cut off at `end`; only a truly bad byte throws.
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(0, end), { stream: true });
      return true;
    } catch {
      return false;
    }
  };
  let good = 0;
  let bad = bytes.length;
  while (bad - good > 1) {
    const mid = Math.floor((good + bad) / 2);
    if (prefixValid(mid)) good = mid;
    else bad = mid;
  }
  return lenient.decode(bytes.subarray(0, completeLength(bytes.subarray(0, good))));
}
