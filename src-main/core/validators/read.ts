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
 * ends. Decoding is strict like Python's `bytes.decode('utf-8')`: invalid bytes end the scan as
 * 'not-utf8', and a byte-order mark is kept as text rather than silently dropped.
 */
export async function scanText(file: string, visit: (text: string) => boolean): Promise<TextScanEnd> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = decode(decoder, chunk);
      if (text === null) return 'not-utf8';
      if (text !== '' && !visit(text)) return 'stopped';
    }
    const rest = decode(decoder);
    if (rest === null) return 'not-utf8';
    if (rest !== '' && !visit(rest)) return 'stopped';
    return 'end';
  } finally {
    stream.destroy();
  }
}

/** Decodes the next chunk (or flushes, without one); null when the bytes are not UTF-8. */
function decode(decoder: TextDecoder, chunk?: Buffer): string | null {
  try {
    return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
  } catch {
    return null;
  }
}
