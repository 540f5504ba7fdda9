// Streams a multipart or urlencoded form to disk with busboy: fields in order, one file, fsynced, capped.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Request } from 'express';
import busboy from 'busboy';
import { AppError } from '../core/errors';
import type { SubmissionForm } from '../core/api';
import { safeFileName } from '../core/intake/aa-intake';
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

const tooLarge = (what: string) => new AppError('TooLarge', what, { error: what });

/**
 * Parses the request body. Only `fileField` is stored (streamed to `<tmpDir>/<random>/<name>`, or
 * `<tmpDir>/<name>` in place, and fsynced);
 * other file parts are drained and ignored, as A_A ignores unknown fields.
 */
export function parseUpload(req: Request, tmpDir: string, limits: UploadLimits, fileField = 'input_data', inPlace = false): Promise<ParsedUpload> {
  const type = req.headers['content-type'] ?? '';
  if (!/^(multipart\/form-data|application\/x-www-form-urlencoded)/i.test(type)) {
    const mediaType = type.split(';')[0].trim();
    return Promise.reject(
      new AppError('Unsupported', 'unsupported media type', { detail: `Unsupported media type "${mediaType}" in request.` }),
    );
  }
  // inPlace: the file is written straight into `tmpDir` (its final folder), saving a rename.
  const dir = inPlace ? tmpDir : path.join(tmpDir, crypto.randomBytes(12).toString('hex'));
  const cleanup = () => fs.promises.rm(dir, { recursive: true, force: true });
  // On the service routes the guard has set this request's limits (from the settings and the service's policy).
  const policy = uploadPolicyOf(req);
  if (policy) limits = { fileBytes: policy.fileBytes, fields: policy.fields, fieldBytes: policy.fieldBytes, files: policy.files };

  return new Promise<ParsedUpload>((resolve, reject) => {
    const fields: Array<[string, string]> = [];
    let file: SubmissionForm['file'] = null;
    let pendingFile: Promise<void> | null = null;
    let failed = false;
    /** Once the form names its Job, that service's own cap. */
    let fileCap = limits.fileBytes;
    let out: fs.WriteStream | null = null;
    let settled = () => {};
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      settled();
      // The file part may never end once the body stops flowing: close its file rather than leak it.
      out?.destroy();
      req.unpipe();
      req.resume();
      void cleanup().finally(() => reject(error));
    };

    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        limits: { fileSize: limits.fileBytes, fields: limits.fields, fieldSize: limits.fieldBytes, files: limits.files, fieldNameSize: 256 },
      });
    } catch (error) {
      reject(new AppError('Invalid', 'malformed body', { error: `Malformed request body: ${(error as Error).message}` }));
      return;
    }

    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(tooLarge(`Field "${name}" exceeds ${limits.fieldBytes} bytes`));
      if (info.nameTruncated) return fail(tooLarge('Field name too long'));
      if (policy && name === 'job') fileCap = Math.min(limits.fileBytes, ...value.split(',').map((job) => policy.fileBytesFor(job)));
      fields.push([name, value]);
    });
    bb.on('file', (name, stream, info) => {
      if (name !== fileField || file !== null || failed) {
        stream.resume();
        return;
      }
      const target = path.join(dir, safeFileName(info.filename ?? fileField));
      const entry = { field: name, path: target, originalName: info.filename ?? fileField, size: 0 };
      file = entry;
      stream.on('limit', () => fail(tooLarge(`Upload exceeds the limit of ${limits.fileBytes} bytes`)));
      // A form that ends inside this part errors it, possibly before it is piped anywhere.
      stream.on('error', (error: Error) => fail(new AppError('Invalid', 'malformed body', { error: `Malformed request body: ${error.message}` })));
      pendingFile = (async () => {
        await fs.promises.mkdir(dir, { recursive: true });
        // Refused while the folder was being made: the clean-up may have run first, so make sure it goes.
        if (failed) return void (await cleanup());
        // flush: fsync before close, so the file is durable before the submission is acknowledged.
        out = fs.createWriteStream(target, { flush: true });
        const sink = out;
        // The part stays paused (backpressure) until it is piped here, so nothing is lost meanwhile.
        stream.on('data', (chunk: Buffer) => {
          entry.size += chunk.length;
          if (entry.size > fileCap) fail(tooLarge(`Upload exceeds the limit of ${fileCap} bytes`));
        });
        await new Promise<void>((res, rej) => {
          sink.on('close', res);
          sink.on('error', rej);
          stream.on('error', rej);
          stream.pipe(sink);
        });
      })();
      pendingFile.catch((error: NodeJS.ErrnoException) =>
        fail(
          error.code === 'ENOSPC'
            ? new AppError('InsufficientStorage', 'disk full', { error: 'Insufficient storage: the server disk is full' })
            : error,
        ),
      );
    });
    bb.on('fieldsLimit', () => fail(tooLarge(`Too many fields (limit ${limits.fields})`)));
    bb.on('filesLimit', () => fail(tooLarge(`Too many files (limit ${limits.files})`)));
    bb.on('partsLimit', () => fail(tooLarge('Too many parts')));
    bb.on('error', (error: Error) => fail(new AppError('Invalid', 'malformed body', { error: `Malformed request body: ${error.message}` })));
    bb.on('close', () => {
      if (failed) return;
      Promise.resolve(pendingFile)
        .then(() => {
          if (failed) return;
          settled();
          resolve({ form: { fields, file }, cleanup });
        })
        .catch(fail);
    });
    req.on('aborted', () => fail(new AppError('Invalid', 'request aborted', { error: 'Request aborted' })));
    // A connection closed after the request was answered early (a stalled body got its 408) ends it without 'aborted'.
    const socket = req.socket;
    const closed = () => {
      if (!req.complete) fail(new AppError('Invalid', 'request aborted', { error: 'Request aborted' }));
    };
    socket.once('close', closed);
    settled = () => socket.off('close', closed);
    req.pipe(bb);
  });
}
