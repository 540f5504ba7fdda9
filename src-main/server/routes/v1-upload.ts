// Streams a native API form to disk with busboy: every field in order and every file part (one folder each), fsynced, capped.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Request } from 'express';
import busboy from 'busboy';
import { AppError } from '../../core/errors';
import { safeFileName } from '../../core/intake/aa-intake';
import type { UploadedFile } from '../../core/intake/native-intake';
import type { UploadLimits } from '../upload';
import { uploadPolicyOf } from '../middleware/upload-policy';

export interface ParsedForm {
  fields: Array<[string, string]>;
  files: UploadedFile[];
  /** Removes whatever the intake did not move away. */
  cleanup(): Promise<void>;
}

const tooLarge = (what: string) => new AppError('TooLarge', what);
const malformed = (why: string) => new AppError('Invalid', `Malformed request body: ${why}`);

/**
 * Unlike the A_A parser, which keeps only `input_data`, every file part is kept (under
 * `<tmpDir>/<random>/<part n>/<name>`), so the intake can check each against the service's fields.
 * Limits are the guard's upload policy for this request when it set one, else `limits`.
 */
export function parseForm(req: Request, tmpDir: string, limits: UploadLimits): Promise<ParsedForm> {
  const dir = path.join(tmpDir, `v1-${crypto.randomBytes(12).toString('hex')}`);
  const cleanup = () => fs.promises.rm(dir, { recursive: true, force: true });
  const policy = uploadPolicyOf(req);
  const jobCap = policy ? policy.fileBytesFor(String(req.params.job ?? '')) : Infinity;
  const caps: UploadLimits = policy
    ? { fileBytes: Math.min(policy.fileBytes, jobCap), fields: policy.fields, fieldBytes: policy.fieldBytes, files: Math.min(policy.files, limits.files) }
    : limits;

  return new Promise<ParsedForm>((resolve, reject) => {
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
        limits: { fileSize: caps.fileBytes, fields: caps.fields, fieldSize: caps.fieldBytes, files: caps.files, fieldNameSize: 256 },
      });
    } catch (error) {
      reject(malformed((error as Error).message));
      return;
    }

    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(tooLarge(`Field "${name}" exceeds ${caps.fieldBytes} bytes.`));
      if (info.nameTruncated) return fail(tooLarge('A field name is too long.'));
      if (!name) return fail(malformed('a form part has no name.'));
      fields.push([name, value]);
    });
    bb.on('file', (name, stream, info) => {
      if (failed) {
        stream.resume();
        return;
      }
      if (!name) {
        stream.resume();
        return fail(malformed('a file part has no name.'));
      }
      const original = info.filename || name;
      const target = path.join(dir, String(files.length), safeFileName(original));
      const entry: UploadedFile = { field: name, path: target, originalName: original, size: 0 };
      files.push(entry);
      stream.on('limit', () => fail(tooLarge(`Upload "${name}" exceeds the limit of ${caps.fileBytes} bytes.`)));
      // A form that ends inside this part errors it, possibly before it is piped anywhere.
      stream.on('error', (error: Error) => fail(malformed(error.message)));
      const done = (async () => {
        await fs.promises.mkdir(path.dirname(target), { recursive: true });
        // Refused while the folder was being made: the clean-up may have run first, so make sure it goes.
        if (failed) return void (await cleanup());
        // flush: fsync before close, so the file is durable before the submission is acknowledged.
        const sink = fs.createWriteStream(target, { flush: true });
        sinks.push(sink);
        stream.on('data', (chunk: Buffer) => {
          entry.size += chunk.length;
        });
        await new Promise<void>((res, rej) => {
          sink.on('close', res);
          sink.on('error', rej);
          stream.on('error', rej);
          stream.pipe(sink);
        });
      })();
      done.catch((error: NodeJS.ErrnoException) =>
        fail(error.code === 'ENOSPC' ? new AppError('InsufficientStorage', 'The server disk is full.') : error),
      );
      pending.push(done);
    });
    bb.on('fieldsLimit', () => fail(tooLarge(`Too many fields (limit ${caps.fields}).`)));
    bb.on('filesLimit', () => fail(tooLarge(`Too many files (limit ${caps.files}).`)));
    bb.on('partsLimit', () => fail(tooLarge('Too many parts.')));
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
    req.on('aborted', () => fail(new AppError('Invalid', 'Request aborted.')));
    // A connection closed after the request was answered early (a stalled body got its 408) ends it without 'aborted'.
    const socket = req.socket;
    const closed = () => {
      if (!req.complete) fail(new AppError('Invalid', 'Request aborted.'));
    };
    socket.once('close', closed);
    settled = () => socket.off('close', closed);
    req.pipe(bb);
  });
}
