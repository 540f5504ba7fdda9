// Streams a multipart or urlencoded form to disk with busboy: fields in order, file parts fsynced, capped.
// One parser serves both service surfaces; they differ in which file parts they keep and how refusals read.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Request } from 'express';
import busboy from 'busboy';
import { AppError } from '../core/errors';
import type { SubmissionForm } from '../core/api';
import { safeFileName } from '../core/intake/aa-intake';
import type { UploadedFile } from '../core/intake/native-intake';
import { uploadPolicyOf } from './middleware/upload-policy';

export interface UploadLimits {
  fileBytes: number;
  fields: number;
  fieldBytes: number;
  files: number;
}

export const DEFAULT_UPLOAD_LIMITS: Omit<UploadLimits, 'fileBytes'> = { fields: 1000, fieldBytes: 1024 * 1024, files: 4 };

/** A parsed form plus the temporary folder to remove once the request is done. */
export interface ParsedUpload {
  form: SubmissionForm;
  cleanup(): Promise<void>;
}

export interface ParsedForm {
  fields: Array<[string, string]>;
  files: UploadedFile[];
  /** Removes whatever the intake did not move away. */
  cleanup(): Promise<void>;
}

/** How one surface words its refusals (A_A: `{"error": …}` bodies; native: problem documents built later). */
type Refusal = (kind: 'TooLarge' | 'Invalid' | 'InsufficientStorage', message: string) => AppError;

interface StreamOptions {
  /** Everything kept lies under it; it goes when the form is refused. */
  dir: string;
  limits: UploadLimits;
  /** The per-file cap as it stands: the A_A form may lower it once it names its Job. */
  fileCap(): number;
  /** Where file part `index` (counting kept parts) goes, or null to drain it unread. */
  place(field: string, fileName: string | undefined, index: number): string | null;
  /** Seen for each field in order; returns a refusal message for a field the surface does not take. */
  onField?(name: string, value: string): string | null;
  /** Refuse parts without a name (the native API names every value). */
  namedParts: boolean;
  refuse: Refusal;
  /** Punctuation at the end of each message. */
  stop: '' | '.';
}

/** Uploads up to this size are held in memory until their part ends, then written at once. */
const SMALL_FILE = 64 * 1024;

/** Writes a small file and makes it durable: one trip to the thread pool (the fsync) rather than five. */
async function writeSmallFile(target: string, chunks: Buffer[]): Promise<void> {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const fd = fs.openSync(target, 'w');
  try {
    const data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    for (let at = 0; at < data.length; ) at += fs.writeSync(fd, data, at);
    await new Promise<void>((resolve, reject) => fs.fsync(fd, (error) => (error ? reject(error) : resolve())));
  } finally {
    fs.closeSync(fd);
  }
}

function streamForm(req: IncomingMessage, o: StreamOptions): Promise<ParsedForm> {
  const cleanup = () => fs.promises.rm(o.dir, { recursive: true, force: true });
  const say = (kind: Parameters<Refusal>[0], message: string) => o.refuse(kind, message + o.stop);
  const malformed = (why: string) => say('Invalid', `Malformed request body: ${why}`);

  return new Promise((resolve, reject) => {
    const fields: Array<[string, string]> = [];
    const files: UploadedFile[] = [];
    const pending: Array<Promise<void>> = [];
    const sinks: fs.WriteStream[] = [];
    let failed = false;
    let settled = () => {};
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      settled();
      // A part may never end once the body stops flowing: close its file rather than leak it.
      for (const sink of sinks) sink.destroy();
      req.unpipe();
      req.resume();
      void cleanup().finally(() => reject(error));
    };

    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        limits: { fileSize: o.limits.fileBytes, fields: o.limits.fields, fieldSize: o.limits.fieldBytes, files: o.limits.files, fieldNameSize: 256 },
      });
    } catch (error) {
      reject(malformed((error as Error).message));
      return;
    }

    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(say('TooLarge', `Field "${name}" exceeds ${o.limits.fieldBytes} bytes`));
      if (info.nameTruncated) return fail(say('TooLarge', 'Field name too long'));
      if (o.namedParts && !name) return fail(malformed('a form part has no name'));
      const refused = o.onField?.(name, value);
      if (refused) return fail(malformed(refused));
      fields.push([name, value]);
    });
    bb.on('file', (name, stream, info) => {
      if (failed) return void stream.resume();
      if (o.namedParts && !name) {
        stream.resume();
        return fail(malformed('a file part has no name'));
      }
      const target = o.place(name, info.filename, files.length);
      if (target === null) return void stream.resume();
      const entry: UploadedFile = { field: name, path: target, originalName: info.filename || name, size: 0 };
      files.push(entry);
      const tooBig = () => say('TooLarge', `Upload exceeds the limit of ${o.fileCap()} bytes`);
      const done = new Promise<void>((resolve, reject) => {
        // A form that ends inside this part errors it, possibly before anything was written.
        stream.on('error', (error: Error) => reject(malformed(error.message)));
        // Up to SMALL_FILE bytes are held and written with one call when the part ends: most uploads are small, and
        // here each call handed to the thread pool costs more than the write itself. Past that the part streams.
        const head: Buffer[] = [];
        let sink: fs.WriteStream | null = null;
        const openSink = (): fs.WriteStream => {
          fs.mkdirSync(path.dirname(target), { recursive: true });
          // flush: fsync before close, so the file is durable before the submission is acknowledged.
          const out = fs.createWriteStream(target, { flush: true });
          sinks.push(out);
          out.on('error', reject);
          // Refused while the file was being written: the clean-up may have run before it was opened.
          out.on('close', () => (failed ? void cleanup().finally(resolve) : resolve()));
          return out;
        };
        stream.on('limit', () => fail(tooBig()));
        stream.on('data', (chunk: Buffer) => {
          if (failed) return;
          entry.size += chunk.length;
          if (entry.size > o.fileCap()) return fail(tooBig());
          if (!sink && entry.size <= SMALL_FILE) return void head.push(chunk);
          if (!sink) {
            sink = openSink();
            for (const held of head.splice(0)) sink.write(held);
          }
          // Backpressure: the body waits while the disk catches up.
          if (!sink.write(chunk)) {
            stream.pause();
            sink.once('drain', () => stream.resume());
          }
        });
        stream.on('end', () => {
          if (failed) return resolve();
          if (sink) return void sink.end();
          writeSmallFile(target, head).then(resolve, reject);
        });
      });
      done.catch((error: NodeJS.ErrnoException) =>
        fail(error.code === 'ENOSPC' ? say('InsufficientStorage', 'Insufficient storage: the server disk is full') : error),
      );
      pending.push(done);
    });
    bb.on('fieldsLimit', () => fail(say('TooLarge', `Too many fields (limit ${o.limits.fields})`)));
    bb.on('filesLimit', () => fail(say('TooLarge', `Too many files (limit ${o.limits.files})`)));
    bb.on('partsLimit', () => fail(say('TooLarge', 'Too many parts')));
    bb.on('error', (error: Error) => fail(malformed(error.message)));
    bb.on('close', () => {
      if (failed) return;
      Promise.all(pending)
        .then(() => {
          if (failed) return;
          settled();
          resolve({ fields, files, cleanup });
        })
        .catch(fail);
    });
    req.on('aborted', () => fail(say('Invalid', 'Request aborted')));
    // A connection closed after the request was answered early (a stalled body got its 408) ends it without 'aborted'.
    const socket = req.socket;
    const closed = () => {
      if (!req.complete) fail(say('Invalid', 'Request aborted'));
    };
    socket.once('close', closed);
    settled = () => socket.off('close', closed);
    req.pipe(bb);
  });
}

/** The guard's limits for this request (settings and the service's policy) when it set some, else `limits`. */
function limitsFor(req: IncomingMessage, limits: UploadLimits): UploadLimits {
  const policy = uploadPolicyOf(req);
  return policy ? { fileBytes: policy.fileBytes, fields: policy.fields, fieldBytes: policy.fieldBytes, files: policy.files } : limits;
}

/**
 * A_A intake: only `fileField` is stored (streamed to `<tmpDir>/<random>/<name>`, or `<tmpDir>/<name>` in place,
 * and fsynced); other file parts are drained and ignored, as A_A ignores unknown fields.
 */
export async function parseUpload(req: IncomingMessage, tmpDir: string, limits: UploadLimits, fileField = 'input_data', inPlace = false): Promise<ParsedUpload> {
  const type = req.headers['content-type'] ?? '';
  if (!/^(multipart\/form-data|application\/x-www-form-urlencoded)/i.test(type)) {
    const mediaType = type.split(';')[0].trim();
    throw new AppError('Unsupported', 'unsupported media type', { detail: `Unsupported media type "${mediaType}" in request.` });
  }
  // inPlace: the file is written straight into `tmpDir` (its final folder), saving a rename.
  const dir = inPlace ? tmpDir : path.join(tmpDir, crypto.randomBytes(12).toString('hex'));
  const policy = uploadPolicyOf(req);
  const caps = limitsFor(req, limits);
  /** Once the form names its Job, that service's own cap. */
  let fileCap = caps.fileBytes;
  const { fields, files, cleanup } = await streamForm(req, {
    dir,
    limits: caps,
    fileCap: () => fileCap,
    place: (field, fileName, index) => (field === fileField && index === 0 ? path.join(dir, safeFileName(fileName ?? fileField)) : null),
    onField: (name, value) => {
      if (policy && name === 'job') fileCap = Math.min(caps.fileBytes, ...value.split(',').map((job) => policy.fileBytesFor(job)));
      return null;
    },
    namedParts: false,
    refuse: (kind, message) => new AppError(kind, message, { error: message }),
    stop: '',
  });
  return { form: { fields, file: files[0] ?? null }, cleanup };
}

/**
 * Native API intake: every file part is kept (under `<tmpDir>/<random>/<part n>/<name>`), so the intake can check
 * each against the service's fields; parts must be named.
 */
export async function parseForm(req: Request, tmpDir: string, limits: UploadLimits): Promise<ParsedForm> {
  const dir = path.join(tmpDir, `v1-${crypto.randomBytes(12).toString('hex')}`);
  const policy = uploadPolicyOf(req);
  const caps = policy ? { ...limitsFor(req, limits), files: Math.min(policy.files, limits.files) } : limits;
  const fileCap = policy ? Math.min(caps.fileBytes, policy.fileBytesFor(String(req.params.job ?? ''))) : caps.fileBytes;
  return streamForm(req, {
    dir,
    limits: { ...caps, fileBytes: fileCap },
    fileCap: () => fileCap,
    place: (field, fileName, index) => path.join(dir, String(index), safeFileName(fileName || field)),
    namedParts: true,
    refuse: (kind, message) => new AppError(kind, message),
    stop: '.',
  });
}
