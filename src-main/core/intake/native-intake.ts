// Native API intake: a typed request against a published Job version → checked fields and files → one durable Batch + Submission.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { v1 as uuid1 } from 'uuid';
import { AppError, notFound } from '../errors';
import type { SubmitOptions } from '../api';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../store/db';
import type { NewSubmission } from '../store/run-repo';
import type { IntakeDeps } from './aa-intake';
import { safeFileName } from './aa-intake';
import { clientPriority, unfinished } from './quota';
import { buildPlan } from '../plan/plan';
import { publishedVersion, snapshotTask, type JobVersion } from '../publish';
import { checkJsonType, checkLimits, fileSlots, INPUT_DATA, parseText, planText, serviceFields, type FieldValue, type ServiceField } from '../openapi/contract';
import { getValidator } from '../validators';

export interface NativeIntakeDeps extends IntakeDeps {
  db: Db;
  /** Where JSON-borne files are written before they are checked. */
  tmpRoot: string;
}

/** A file already streamed to disk (multipart upload). */
export interface UploadedFile {
  field: string;
  path: string;
  originalName: string;
  size: number;
}

export interface NativeSubmission {
  job: string;
  /** A fixed published version; omitted: the latest. */
  version?: number;
  /**
   * 'json': values are typed JSON and a file field holds its content (a string, or
   * `{ content, filename?, encoding?: 'utf8' | 'base64' }`). 'multipart': values are text, files are uploads.
   * Problem paths follow the source: JSON pointers ('/field') for JSON, field names for multipart.
   */
  source: 'json' | 'multipart';
  values: Array<[string, unknown]>;
  files: UploadedFile[];
}

export interface NativeSubmitResult {
  uuid: string;
  batch_uuid: string;
  job: string;
  version: number;
}

/** One stored input file of a native submission (the `inputs` column). */
export interface StoredInput {
  field: string;
  name: string;
  /** Relative to the data dir. */
  path: string;
  size: number;
}

type Problem = { path: string; message: string };

const pointer = (...segments: string[]): string => segments.map((s) => '/' + s.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const FILE_KEYS = new Set(['content', 'filename', 'encoding']);

/** The published version a request targets, or the AppError the client gets. */
export function serviceFor(db: Db, name: string, version: number | undefined, admin: boolean): JobVersion {
  const found = publishedVersion(db, name, version);
  if (!found) {
    throw notFound(version === undefined ? `No published service named "${name}".` : `Service "${name}" has no published version ${version}.`);
  }
  if (!found.runnable && !admin) throw new AppError('Forbidden', `${name} is present but currently disabled.`);
  return found;
}

export async function submitNative(deps: NativeIntakeDeps, request: NativeSubmission, options: SubmitOptions): Promise<NativeSubmitResult> {
  const service = serviceFor(deps.db, request.job, request.version, !!options.admin);
  const { snapshot } = service;
  const task = snapshotTask(snapshot);
  const job = { ...snapshot.job, name: service.name, id: service.job_id, runnable: service.runnable };
  if (job.steps.length === 0) throw new AppError('Invalid', `Service ${service.name} has no steps.`);

  const priority = options.admin ? 2 : clientPriority(deps, options.ip);
  if (priority === null) throw tooMany(unfinished(deps, options.ip));

  const fields = serviceFields(job, task);
  const json = request.source === 'json';
  const where = (name: string, ...more: string[]): string => (json ? pointer(name, ...more) : name);
  const problems: Problem[] = [];
  const values = new Map<string, FieldValue>();
  const files = new Map<string, UploadedFile>();
  const scratch = path.join(deps.tmpRoot, `native-${crypto.randomBytes(9).toString('hex')}`);

  try {
    // Each field's value: type, then limits. Every problem is reported, each with its field.
    const byName = new Map(fields.map((f) => [f.name, f]));
    const seen = new Set<string>();
    for (const [name, raw] of request.values) {
      const field = byName.get(name);
      if (!field) {
        problems.push({ path: where(name), message: 'is not a field of this service' });
        continue;
      }
      if (seen.has(name)) {
        problems.push({ path: where(name), message: 'is given more than once' });
        continue;
      }
      seen.add(name);
      if (field.type === 'file') {
        if (!json) {
          problems.push({ path: where(name), message: 'must be a file upload' });
          continue;
        }
        const file = await fileFromJson(scratch, name, raw, (message, ...more) => problems.push({ path: where(name, ...more), message }));
        if (file) files.set(name, file);
        continue;
      }
      const typed = json ? checkJsonType(field.type, raw) : parseText(field.type, String(raw));
      if ('error' in typed) {
        problems.push({ path: where(name), message: typed.error });
        continue;
      }
      const limit = checkLimits(field, typed.value);
      if (limit) problems.push({ path: where(name), message: limit });
      else values.set(name, typed.value);
    }
    for (const upload of request.files) {
      const field = byName.get(upload.field);
      if (!field) problems.push({ path: where(upload.field), message: 'is not a field of this service' });
      else if (field.type !== 'file') problems.push({ path: where(upload.field), message: `must be a ${field.type} value, not a file` });
      else if (seen.has(upload.field) || files.has(upload.field)) problems.push({ path: where(upload.field), message: 'is given more than once' });
      else files.set(upload.field, upload);
      seen.add(upload.field);
    }
    for (const field of fields) {
      if (field.required && !seen.has(field.name)) problems.push({ path: where(field.name), message: 'is required' });
    }
    // Files: not empty, then their validators (only when everything else is sound: validators read whole files).
    for (const [name, file] of files) {
      if (file.size === 0) problems.push({ path: where(name), message: 'must not be empty' });
    }
    if (problems.length === 0) {
      for (const [name, file] of files) {
        const failed = await failedValidator(byName.get(name) as ServiceField, file.path);
        if (failed) problems.push({ path: where(name), message: `could not be validated as ${failed}` });
      }
    }
    if (problems.length > 0) {
      const noun = problems.length === 1 ? 'field is' : 'fields are';
      throw new AppError('Invalid', `${problems.length} ${noun} invalid`, undefined, problems);
    }

    // Place the files, build the plan, commit.
    const uuid = uuid1();
    const batchUuid = uuid1();
    const inDir = path.join(deps.filesRoot, uuid, 'in');
    const stored: StoredInput[] = [];
    try {
      for (const [name, file] of files) {
        const dir = name === INPUT_DATA ? inDir : path.join(inDir, safeFileName(name));
        await fs.promises.mkdir(dir, { recursive: true });
        const target = path.join(dir, safeFileName(file.originalName || name));
        await fs.promises.rename(file.path, target);
        stored.push({ field: name, name: safeFileName(file.originalName || name), path: path.relative(deps.dataRoot, target), size: file.size });
      }
      const storedBy = new Map(stored.map((s) => [s.field, s]));
      const params: Record<string, string> = {};
      for (const field of fields) {
        if (field.kind !== 'parameter') continue;
        if (field.type === 'file') {
          const slot = storedBy.has(field.name) ? fileSlots(task(field.task as string) as NonNullable<ReturnType<typeof task>>, uuid).find((s) => s.field === field.name) : undefined;
          if (slot?.name) params[field.name] = slot.name;
          else if (field.default !== undefined) params[field.name] = String(field.default);
          continue;
        }
        const value = values.get(field.name) ?? field.default;
        if (value !== undefined) params[field.name] = planText(field, value);
      }
      const plan = buildPlan(job, params, priority, { task, backend: deps.lookup.backend, queueType: deps.lookup.queueType });
      if (!storedBy.has(INPUT_DATA)) {
        // Each step gets the files of its own Task's file parameters; nothing else is uploaded.
        for (const step of plan.steps) {
          const t = task(step.task);
          step.inputs = t
            ? fileSlots(t, uuid).flatMap((slot) => {
                const file = storedBy.get(slot.field);
                return file && slot.name ? [{ path: file.path, name: slot.name }] : [];
              })
            : [];
        }
      }
      const main = storedBy.get(INPUT_DATA) ?? stored[0];
      const submissionName = (values.get('submission_name') as string | undefined)?.trim() || (fields[0].default as string);
      const sub: NewSubmission = {
        uuid,
        job_id: service.job_id,
        job_name: service.name,
        submission_name: submissionName,
        email: (values.get('email') as string | undefined) ?? null,
        ip: options.ip,
        priority,
        input_path: main?.path ?? '',
        input_name: main?.name ?? '',
        input_size: stored.reduce((n, s) => n + s.size, 0),
        params,
        plan,
      };
      const accepted = await deps.writer.write(
        () => {
          // Re-checked inside the commit: concurrent requests from one client are serialised here.
          if (!options.admin && clientPriority(deps, options.ip) === null) {
            throw tooMany(unfinished(deps, options.ip));
          }
          const created = deps.runs.createBatch(batchUuid, options.ip, [sub]);
          markNative(deps.db).run(service.version, JSON.stringify(stored), created.submission_ids[0]);
          return created.accepted;
        },
        { durable: true },
      );
      deps.onAccepted(accepted);
      return { uuid, batch_uuid: batchUuid, job: service.name, version: service.version };
    } catch (error) {
      await fs.promises.rm(path.join(deps.filesRoot, uuid), { recursive: true, force: true });
      throw error;
    }
  } finally {
    await fs.promises.rm(scratch, { recursive: true, force: true });
  }
}

const marks = new WeakMap<Db, Statement>();
/** What the A_A columns cannot hold: the version a run uses and its named input files. */
function markNative(db: Db): Statement {
  let statement = marks.get(db);
  if (!statement) marks.set(db, (statement = db.prepare('UPDATE submission SET job_version = ?, inputs = ? WHERE id = ?')));
  return statement;
}

function tooMany(n: number): AppError {
  return new AppError('TooMany', `Too many unfinished runs from this client (${n}); try again when some have finished.`);
}

/** Writes a JSON-borne file to the scratch folder; reports shape problems through `problem`. */
async function fileFromJson(
  scratch: string,
  field: string,
  raw: unknown,
  problem: (message: string, ...segments: string[]) => void,
): Promise<UploadedFile | null> {
  let content: Buffer;
  let filename = field;
  if (typeof raw === 'string') content = Buffer.from(raw, 'utf8');
  else if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const o = raw as Record<string, unknown>;
    let ok = true;
    for (const key of Object.keys(o)) {
      if (!FILE_KEYS.has(key)) {
        problem('is not a member of a file object (content, filename, encoding)', key);
        ok = false;
      }
    }
    if (o.filename !== undefined && (typeof o.filename !== 'string' || o.filename === '')) {
      problem('must be a non-empty string', 'filename');
      ok = false;
    }
    if (o.encoding !== undefined && o.encoding !== 'utf8' && o.encoding !== 'base64') {
      problem('must be "utf8" or "base64"', 'encoding');
      ok = false;
    }
    if (typeof o.content !== 'string') {
      problem(o.content === undefined ? 'is required' : 'must be a string', 'content');
      ok = false;
    } else if (o.encoding === 'base64' && !BASE64.test(o.content.replace(/\s+/g, ''))) {
      problem('is not valid base64', 'content');
      ok = false;
    }
    if (!ok) return null;
    content = Buffer.from(o.content as string, o.encoding === 'base64' ? 'base64' : 'utf8');
    if (typeof o.filename === 'string') filename = o.filename;
  } else {
    problem('must be the file content (a string) or a file object { content, filename?, encoding? }');
    return null;
  }
  const dir = path.join(scratch, crypto.randomBytes(6).toString('hex'));
  await fs.promises.mkdir(dir, { recursive: true });
  const target = path.join(dir, safeFileName(filename));
  // flush: the file is durable before the submission is acknowledged, as for uploads.
  await fs.promises.writeFile(target, content, { flush: true });
  return { field, path: target, originalName: filename, size: content.length };
}

/** The name of the first validator the file fails, or null. */
async function failedValidator(field: ServiceField, file: string): Promise<string | null> {
  for (const name of field.validators ?? []) {
    const validator = getValidator(name);
    // A validator type the registry no longer has cannot pass.
    if (!validator || !(await validator.check(file))) return name;
  }
  return null;
}
