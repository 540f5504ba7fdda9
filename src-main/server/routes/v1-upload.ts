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

export interface ParsedForm {
  fields: Array<[string, string]>;
  files: UploadedFile[];
  /** Removes whatever the intake did not move away. */
  cleanup(): Promise<void>;
}

const tooLarge = (what: string) => new AppError('TooLarge', what);

/**
 * Unlike the A_A parser, which keeps only `input_data`, every file part is kept (under
 * `<tmpDir>/<random>/<part n>/<name>`), so the intake can check each against the service's fields.
 */
export function parseForm(req: Request, tmpDir: string, limits: UploadLimits): Promise<ParsedForm> {
  const dir = path.join(tmpDir, `v1-${crypto.randomBytes(12).toString('hex')}`);
  const cleanup = () => fs.promises.rm(dir, { recursive: true, force: true });

  return new Promise<ParsedForm>((resolve, reject) => {
    const fields: Array<[string, string]> = [];
    const files: UploadedFile[] = [];
    const pending: Array<Promise<void>> = [];
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
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
      reject(new AppError('Invalid', `Malformed request body: ${(error as Error).message}`));
      return;
    }

    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(tooLarge(`Field "${name}" exceeds ${limits.fieldBytes} bytes.`));
      if (info.nameTruncated) return fail(tooLarge('A field name is too long.'));
      fields.push([name, value]);
    });
    bb.on('file', (name, stream, info) => {
      if (failed) {
        stream.resume();
        return;
      }
      const original = info.filename || name;
      const target = path.join(dir, String(files.length), safeFileName(original));
      const entry: UploadedFile = { field: name, path: target, originalName: original, size: 0 };
      files.push(entry);
      stream.on('limit', () => fail(tooLarge(`Upload "${name}" exceeds the limit of ${limits.fileBytes} bytes.`)));
      const done = (async () => {
        await fs.promises.mkdir(path.dirname(target), { recursive: true });
        // flush: fsync before close, so the file is durable before the submission is acknowledged.
        const out = fs.createWriteStream(target, { flush: true });
        stream.on('data', (chunk: Buffer) => {
          entry.size += chunk.length;
        });
        await new Promise<void>((res, rej) => {
          out.on('close', res);
          out.on('error', rej);
          stream.on('error', rej);
          stream.pipe(out);
        });
      })();
      done.catch((error: NodeJS.ErrnoException) =>
        fail(error.code === 'ENOSPC' ? new AppError('InsufficientStorage', 'The server disk is full.') : error),
      );
      pending.push(done);
    });
    bb.on('fieldsLimit', () => fail(tooLarge(`Too many fields (limit ${limits.fields}).`)));
    bb.on('filesLimit', () => fail(tooLarge(`Too many files (limit ${limits.files}).`)));
    bb.on('partsLimit', () => fail(tooLarge('Too many parts.')));
    bb.on('error', (error: Error) => fail(new AppError('Invalid', `Malformed request body: ${error.message}`)));
    bb.on('close', () => {
      if (failed) return;
      Promise.all(pending)
        .then(() => {
          if (!failed) resolve({ fields, files, cleanup });
        })
        .catch(fail);
    });
    req.on('aborted', () => fail(new AppError('Invalid', 'Request aborted.')));
    req.pipe(bb);
  });
}
