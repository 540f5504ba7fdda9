// CWL over HTTP: import and export on the workbench API, and A_A v2's uploadcwl/ and downloadcwl/ (this computer only).
import busboy from 'busboy';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { zipSync, strToU8 } from 'fflate';
import type { Core } from '../../core/api';
import { AppError } from '../../core/errors';
import { exportJobCwl, exportJobCwlFiles, exportTaskCwl, importCwl, type CwlFile } from '../../core/cwl';
import { isLoopback } from '../client-ip';

/** CWL files are small text; these bound what one upload may hold. */
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_FILES = 100;

/** `.cwl` files of a multipart upload, kept in memory (every file part, whatever its field name). */
function readFiles(req: Request): Promise<{ files: CwlFile[]; fields: Map<string, string> }> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fileSize: MAX_FILE_BYTES, files: MAX_FILES, fields: 20 } });
    } catch {
      return reject(new AppError('Unsupported', 'send the CWL files as multipart/form-data or as JSON { files: [{ name, text }] }'));
    }
    const files: CwlFile[] = [];
    const fields = new Map<string, string>();
    let failed = false;
    const fail = (error: AppError) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      req.resume();
      reject(error);
    };
    const reading: Array<Promise<void>> = [];
    parser.on('file', (_field, stream, info) => {
      const chunks: Buffer[] = [];
      const index = files.length;
      files.push({ name: info.filename || `file${index + 1}.cwl`, text: '' });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => fail(new AppError('TooLarge', `${info.filename} is larger than ${MAX_FILE_BYTES} bytes`)));
      reading.push(
        new Promise<void>((done) =>
          stream.on('end', () => {
            files[index].text = Buffer.concat(chunks).toString('utf8');
            done();
          }),
        ),
      );
    });
    parser.on('field', (name, value) => fields.set(name, value));
    parser.on('filesLimit', () => fail(new AppError('TooLarge', `at most ${MAX_FILES} files in one upload`)));
    parser.on('error', () => fail(new AppError('Invalid', 'malformed multipart body')));
    parser.on('close', () => {
      void Promise.all(reading).then(() => {
        if (!failed) resolve({ files, fields });
      });
    });
    req.pipe(parser);
  });
}

/** Files from a JSON body `{ files: [{ name, text }], runnable? }` or a multipart upload (A_A v2 sends field `files`). */
async function uploadedFiles(req: Request): Promise<{ files: CwlFile[]; runnable: boolean | undefined }> {
  if (req.is('application/json')) {
    const body = req.body as { files?: unknown; runnable?: unknown };
    const list = Array.isArray(body?.files) ? body.files : null;
    if (!list || !list.every((f: unknown) => typeof (f as CwlFile)?.name === 'string' && typeof (f as CwlFile)?.text === 'string')) {
      throw new AppError('Invalid', 'expected { files: [{ name, text }] }', undefined, [{ path: 'files', message: 'must be a list of { name, text }' }]);
    }
    return { files: list as CwlFile[], runnable: typeof body.runnable === 'boolean' ? body.runnable : undefined };
  }
  const { files, fields } = await readFiles(req);
  const flag = fields.get('runnable');
  return { files, runnable: flag === undefined ? undefined : /^(true|1|yes)$/i.test(flag) };
}

function sendCwl(res: Response, file: CwlFile): void {
  res.type('application/x-yaml; charset=utf-8').attachment(file.name).send(file.text);
}

function sendZip(res: Response, name: string, files: CwlFile[]): void {
  const zip = zipSync(Object.fromEntries(files.map((f) => [f.name, strToU8(f.text)])));
  res.type('application/zip').attachment(`${name}.zip`).send(Buffer.from(zip));
}

/**
 * Workbench API routes (mount inside the authenticated /api/admin router):
 * POST /cwl/import, GET /cwl/tasks/:name, GET /cwl/jobs/:name[?format=zip].
 */
export function cwlRoutes(router: Router, core: Core): void {
  router.post('/cwl/import', async (req, res) => {
    const { files, runnable } = await uploadedFiles(req);
    res.json(await importCwl(core.db, files, { runnable }));
  });
  router.get('/cwl/tasks/:name', async (req, res) => {
    sendCwl(res, await exportTaskCwl(core.db, String(req.params.name)));
  });
  router.get('/cwl/jobs/:name', async (req, res) => {
    const name = String(req.params.name);
    if (req.query.format === 'zip') sendZip(res, name, await exportJobCwlFiles(core.db, name));
    else sendCwl(res, await exportJobCwl(core.db, name));
  });
}

/**
 * A_A v2's CWL endpoints under /analytics_automated: `POST uploadcwl/` (multipart field `files`; jobs are made
 * runnable, as v2 does) and `GET downloadcwl/?job_name=X` (a zip). They change or reveal the configuration, so only
 * this computer may call them.
 */
export function aaCwlRouter(core: Core): Router {
  const router = Router();
  const localOnly = (req: Request, _res: Response, next: NextFunction) =>
    next(isLoopback(req) ? undefined : new AppError('Forbidden', 'CWL upload and download are only available on this computer', { error: 'Forbidden' }));
  router.post(['/uploadcwl/', '/uploadcwl'], localOnly, express.json({ limit: '20mb' }), async (req, res) => {
    const { files, runnable } = await uploadedFiles(req);
    const summary = await importCwl(core.db, files, { runnable: runnable ?? true });
    res.status(201).json({ message: `Imported ${files.length} CWL file${files.length === 1 ? '' : 's'}.`, ...summary });
  });
  router.get(['/downloadcwl/', '/downloadcwl'], localOnly, async (req, res) => {
    const name = typeof req.query.job_name === 'string' ? req.query.job_name : '';
    if (!name) throw new AppError('Invalid', 'job_name is required', { error: 'job_name is required' });
    sendZip(res, name, await exportJobCwlFiles(core.db, name));
  });
  return router;
}
