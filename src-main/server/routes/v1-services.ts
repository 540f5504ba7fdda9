// Native API service routes: submit (JSON or multipart, optional ?wait), the service list and the OpenAPI documents.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { CoreInternals } from '../../core';
import { AppError, notFound } from '../../core/errors';
import type { NativeSubmission } from '../../core/intake/native-intake';
import { serviceFor } from '../../core/intake/native-intake';
import { listVersions, publishedServices, publishedVersion, type JobVersion } from '../../core/publish';
import { buildDocument, fieldsOf, MAX_WAIT_SECONDS, servicePath, type DocumentEntry } from '../../core/openapi/document';
import { DEFAULT_UPLOAD_LIMITS, parseForm } from '../upload';
import { clientIp } from '../client-ip';
import { callerOf } from '../middleware/service-guard';
import { rememberSource } from './v1-problem';
import { runDocument, wrap } from './v1-runs';
import { takeCallbackUrl } from '../../core/notify/callbacks';

/** JSON bodies carry files inline (base64 grows them by a third); larger uploads belong in multipart. */
const JSON_LIMIT_BYTES = 64 * 1024 * 1024;
const MULTIPART = /^(multipart\/form-data|application\/x-www-form-urlencoded)/i;
const JSON_TYPE = /^application\/([\w.-]+\+)?json/i;

/** `?wait=N`: whole seconds, 0 to MAX_WAIT_SECONDS; absent is 0. */
function waitSeconds(req: Request): number {
  const raw = req.query.wait;
  if (raw === undefined) return 0;
  const text = Array.isArray(raw) ? String(raw[raw.length - 1]) : String(raw);
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > MAX_WAIT_SECONDS) {
    throw new AppError('Invalid', 'Invalid query parameter.', undefined, [
      { path: '?wait', message: `must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}` },
    ]);
  }
  return n;
}

/** `v<n>` from the route, or NotFound: a malformed version names no version. */
function versionParam(req: Request): number | undefined {
  const raw = (req.params as { version?: string }).version;
  if (raw === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/.test(raw)) throw notFound(`No version "v${raw}".`);
  return Number(raw);
}

const serverUrl = (req: Request): string => `${req.protocol}://${req.get('host') ?? 'localhost'}${req.baseUrl}`;

/** Every published version of a Job, newest flagged latest. */
function entriesOf(core: CoreInternals, latest: JobVersion): DocumentEntry[] {
  return listVersions(core.db, latest.name)
    .map((v) => (v.version === latest.version ? latest : publishedVersion(core.db, latest.name, v.version)))
    .filter((v): v is JobVersion => v !== null)
    .map((service) => ({ service, latest: service.version === latest.version }));
}

export function serviceRoutes(router: Router, core: CoreInternals): void {
  const submit = wrap(async (req, res) => {
    const job = String(req.params.job);
    const version = versionParam(req);
    const wait = waitSeconds(req);
    const type = req.headers['content-type'] ?? '';
    let request: NativeSubmission;
    let cleanup = async () => {};
    if (JSON_TYPE.test(type)) {
      rememberSource(req, 'json');
      const body: unknown = req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new AppError('Invalid', 'The body must be a JSON object of field values.', undefined, [{ path: '', message: 'must be a JSON object' }]);
      }
      request = { job, version, source: 'json', values: Object.entries(body), files: [] };
    } else if (MULTIPART.test(type)) {
      rememberSource(req, 'multipart');
      // Refuse an unknown or disabled service before streaming its upload to disk.
      const service = serviceFor(core.db, job, version, false);
      const fileFields = fieldsOf(service).filter((f) => f.type === 'file').length;
      const form = await parseForm(req, core.paths.tmp, {
        ...DEFAULT_UPLOAD_LIMITS,
        files: fileFields + 4,
        fileBytes: core.settings().upload_limit_bytes,
      });
      cleanup = form.cleanup;
      request = { job, version, source: 'multipart', values: form.fields, files: form.files };
    } else {
      throw new AppError('Unsupported', `Unsupported media type "${type.split(';')[0].trim()}": send application/json or multipart/form-data.`);
    }

    let accepted;
    let callback: string | null = null;
    try {
      // callback_url is the workbench's field, not the service's: checked here, kept from the intake.
      const callbackUrl = takeCallbackUrl(request);
      if (callbackUrl !== undefined) callback = core.callbacks.check(job, callbackUrl);
      accepted = await core.submitNative(request, { ip: clientIp(req), caller: callerOf(req) });
    } finally {
      // The intake moved what it kept; removing the rest need not hold up the answer.
      void cleanup().catch(() => undefined);
    }
    if (callback) core.callbacks.register(accepted.uuid, callback, serverUrl(req));
    const finished = wait > 0 ? await core.waitFor(accepted.uuid, wait * 1000) : false;
    const sub = core.runs.submission(accepted.uuid);
    if (!sub) throw notFound(`Run ${accepted.uuid} was removed.`);
    const doc = runDocument(core, sub, req.baseUrl);
    res.status(finished ? 200 : 202).location(doc.links.self).json(doc);
  });
  // Built per request: the upload limit is a setting that can change while the server runs.
  const json = (req: Request, res: Response, next: NextFunction) =>
    express.json({
      limit: Math.min(JSON_LIMIT_BYTES, Math.ceil(core.settings().upload_limit_bytes * 1.4)),
      type: (r) => JSON_TYPE.test(r.headers['content-type'] ?? ''),
    })(req, res, next);
  router.post('/services/:job', json, submit);
  router.post('/services/:job/v:version', json, submit);

  router.get('/services', (req, res) => {
    res.json(
      publishedServices(core.db).map((s) => ({
        name: s.name,
        description: s.snapshot.job.description,
        version: s.version,
        published_at: s.published_at,
        versions: listVersions(core.db, s.name).map((v) => v.version),
        url: `${req.baseUrl}${servicePath(s.name)}`,
        openapi: `${req.baseUrl}${servicePath(s.name)}/openapi.json`,
      })),
    );
  });

  router.get('/openapi.json', (req, res) => {
    const entries = publishedServices(core.db).flatMap((latest) => entriesOf(core, latest));
    res.json(
      buildDocument(entries, {
        serverUrl: serverUrl(req),
        title: 'A_A Workbench services',
        version: '1',
        description: 'Every published service of this workbench. Submit, follow a run by its events, download its results.',
      }),
    );
  });

  router.get('/services/:job/openapi.json', (req, res) => {
    const latest = serviceFor(core.db, String(req.params.job), undefined, false);
    res.json(
      buildDocument(entriesOf(core, latest), {
        serverUrl: serverUrl(req),
        title: `${latest.name} service`,
        version: String(latest.version),
        ...(latest.snapshot.job.description ? { description: latest.snapshot.job.description } : {}),
      }),
    );
  });

  router.get('/services/:job/v:version/openapi.json', (req, res) => {
    const service = serviceFor(core.db, String(req.params.job), versionParam(req), false);
    res.json(
      buildDocument([{ service, latest: false }], {
        serverUrl: serverUrl(req),
        title: `${service.name} service, version ${service.version}`,
        version: String(service.version),
      }),
    );
  });
}
