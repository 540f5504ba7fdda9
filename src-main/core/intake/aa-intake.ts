// A_A-compatible submission intake (reference §2.3): checks in A_A's order, exact bodies, all-or-nothing.
import fs from 'node:fs';
import path from 'node:path';
import { v1 as uuid1 } from 'uuid';
import { AppError } from '../errors';
import type { Job } from '../model/types';
import type { SubmissionForm, SubmitOptions, SubmitResult } from '../api';
import type { PlanLookup } from '../plan/plan';
import { buildPlan, jobParameterFields } from '../plan/plan';
import { sanitiseValue } from '../plan/sanitise';
import { clientPriority, unfinished } from './quota';
import type { AcceptedSubmission, RunRepo, NewSubmission } from '../store/run-repo';
import type { GroupWriter } from '../store/writer';
import { getValidator } from '../validators';

export interface IntakeDeps {
  lookup: PlanLookup & { job(name: string): Job | null };
  runs: RunRepo;
  writer: GroupWriter;
  unixCommands: ReadonlySet<string>;
  quotas: () => { hog: number | null; hard: number | null };
  /** Root of submission files; inputs land in `<filesRoot>/<submission uuid>/in/<name>`. */
  filesRoot: string;
  dataRoot: string;
  onAccepted: (accepted: AcceptedSubmission[]) => void;
}

const CORE_FIELDS = ['submission_name', 'email', 'job'];
const aaError = (kind: AppError['kind'], error: unknown, message = typeof error === 'string' ? error : 'invalid submission') =>
  new AppError(kind, message, { error });

// Django's EmailValidator, close enough for the forms clients send.
const EMAIL =
  /^[-!#$%&'*+/=?^_`{|}~0-9A-Za-z]+(\.[-!#$%&'*+/=?^_`{|}~0-9A-Za-z]+)*@(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}|localhost)$/;

/** A file name safe to store: no directories, no control characters, not empty or dot-only. */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/[<>:"|?*]/g, '_')
    .slice(0, 200);
  return /^\.*$/.test(cleaned) ? 'input_data' : cleaned;
}

/** Names inside a submission's folder that are its subfolders (logs; `in` for native API inputs). */
const RESERVED_NAMES = new Set(['logs', 'in', 'out']);

/** The name an A_A upload is stored under in its submission's folder. */
function inputFileName(original: string): string {
  const name = safeFileName(original);
  return RESERVED_NAMES.has(name) ? `${name}_input` : name;
}

export async function submitAa(deps: IntakeDeps, form: SubmissionForm, options: SubmitOptions): Promise<SubmitResult> {
  // request.data.dict(): the last value of a repeated key wins.
  const data = new Map<string, string>();
  for (const [k, v] of form.fields) data.set(k, v);

  // 1. Core fields present.
  if (!CORE_FIELDS.every((f) => data.has(f))) throw aaError('Invalid', 'Input does not contain all required fields');
  const submissionName = (data.get('submission_name') as string).trim();
  const email = (data.get('email') as string).trim();
  const jobNames = (data.get('job') as string).split(',');
  const request: Record<string, string> = {};
  for (const [k, v] of data) if (!CORE_FIELDS.includes(k) && k !== 'input_data') request[k] = v;

  // 2. Job names.
  const jobs = jobNames.map((n) => deps.lookup.job(n));
  if (jobs.some((j) => j === null)) throw aaError('Invalid', 'Job name supplied does not exist');

  // 3. Priority and limits.
  const priority = options.admin ? 2 : clientPriority(deps, options.ip);
  if (priority === null) throw tooMany(unfinished(deps, options.ip));

  // 4. Per job: runnable, steps, parameters.
  for (const job of jobs as Job[]) {
    if (!job.runnable && !options.admin) throw aaError('Forbidden', `${job.name} is present but currently disabled.`);
    if (job.steps.length === 0) throw aaError('Invalid', `Job Requested: ${job.name} appears to have no Steps`);
    const detail = parameterProblem(job, request, deps);
    if (detail) {
      throw aaError(
        'Invalid',
        `Required Parameter for ${job.name} Missing.${detail}. GET /analytics_automated/endpoints to discover all required options`,
      );
    }
  }

  // 6. Form fields (Django SubmissionForm, in field order), then the job's validators on the file.
  const formErrors: Record<string, string[]> = {};
  if (!submissionName) formErrors.submission_name = ['This field is required.'];
  else if (submissionName.length > 64)
    formErrors.submission_name = [`Ensure this value has at most 64 characters (it has ${submissionName.length}).`];
  if (!email) formErrors.email = ['This field is required.'];
  else if (email.length > 256) formErrors.email = [`Ensure this value has at most 256 characters (it has ${email.length}).`];
  else if (!EMAIL.test(email)) formErrors.email = ['Enter a valid email address.'];
  if (!form.file) formErrors.input_data = ['This field is required.'];
  else if (form.file.size === 0) formErrors.input_data = ['The submitted file is empty.'];
  else if (!(await validatorsPass(jobs as Job[], form.file.path))) formErrors.input_data = ['Input data could not be validated'];
  if (Object.keys(formErrors).length > 0) throw new AppError('Invalid', 'submission form is invalid', { error: formErrors });
  const file = form.file as NonNullable<SubmissionForm['file']>;

  // 5 + 7. Batch and Submissions in one transaction, the input file moved into place first.
  const batchUuid = uuid1();
  const name = inputFileName(file.originalName);
  const subs: NewSubmission[] = [];
  const placed: string[] = [];
  try {
    for (const job of jobs as Job[]) {
      const uuid = placed.length === 0 && options.submissionUuid ? options.submissionUuid : uuid1();
      // The input sits in the submission's folder itself, beside the results to come: one folder per submission.
      const dir = path.join(deps.filesRoot, uuid);
      const target = path.join(dir, name);
      // The first submission takes the upload (already in place when streamed there); the others
      // share it through hard links.
      if (target !== file.path) {
        await fs.promises.mkdir(dir, { recursive: true });
        if (placed.length === 0) await fs.promises.rename(file.path, target);
        else await fs.promises.link(placed[0], target).catch(() => fs.promises.copyFile(placed[0], target));
      }
      placed.push(target);
      subs.push({
        uuid,
        job_id: job.id,
        job_name: job.name,
        submission_name: submissionName,
        email,
        ip: options.ip,
        priority,
        input_path: path.relative(deps.dataRoot, target),
        input_name: name,
        input_size: file.size,
        params: request,
        plan: buildPlan(job, request, priority, deps.lookup),
      });
    }
    const accepted = await deps.writer.write(() => {
      // Re-check the quota inside the commit: concurrent requests from one client are serialised here.
      if (!options.admin && clientPriority(deps, options.ip) === null) throw tooMany(unfinished(deps, options.ip));
      return deps.runs.createBatch(batchUuid, options.ip, subs).accepted;
    }, { durable: true });
    deps.onAccepted(accepted);
  } catch (error) {
    await Promise.all(subs.map((s) => fs.promises.rm(path.join(deps.filesRoot, s.uuid), { recursive: true, force: true })));
    throw error;
  }
  return { batch_uuid: batchUuid, submission_name: submissionName, submissions: subs.map((s) => ({ uuid: s.uuid, job: s.job_name })) };
}

function tooMany(n: number): AppError {
  return aaError(
    'TooMany',
    `You have no authority to post jobs.Either you are not logged in you have too many, ${n}, concurrent jobs running`,
  );
}

function parameterProblem(job: Job, request: Record<string, string>, deps: IntakeDeps): string | null {
  const fields = jobParameterFields(job, deps.lookup);
  if (fields.some((f) => !(f.field in request))) return 'You are missing a required parameter in your web form submission';
  for (const value of Object.values(request)) {
    const problem = sanitiseValue(value, deps.unixCommands);
    if (problem) return problem;
  }
  return null;
}

async function validatorsPass(jobs: Job[], file: string): Promise<boolean> {
  for (const job of jobs) {
    for (const name of job.validators) {
      const validator = getValidator(name);
      // A validator type the registry no longer has cannot pass.
      if (!validator || !(await validator.check(file))) return false;
    }
  }
  return true;
}
