// Calls of the Schedules page: the workbench API's /schedules routes, through the token the shared client holds.
import { ApiError, fileUrl } from '../../api/client';
import type { Schedule } from '../../../../src-main/core/schedule/scheduler';

export type { Schedule };

export interface NewSchedule {
  job: string;
  cron: string;
  timezone: string;
  submission_name: string;
  email: string;
  params: Record<string, string>;
  file: File | null;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers = { 'Content-Type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const res = await fetch(fileUrl(path), init);
  const parsed = (await res.json().catch(() => null)) as { error?: unknown; problems?: Array<{ path: string; message: string }> } | null;
  if (!res.ok) {
    const problems = parsed?.problems ?? [];
    const message = problems.length ? problems.map((p) => `${p.path}: ${p.message}`).join('\n') : typeof parsed?.error === 'string' ? parsed.error : `request failed (${res.status})`;
    throw new ApiError(res.status, message, problems);
  }
  return parsed as T;
}

export const schedulesApi = {
  list: () => call<Schedule[]>('GET', '/schedules'),
  create(input: NewSchedule): Promise<Schedule> {
    const form = new FormData();
    form.append('job', input.job);
    form.append('cron', input.cron);
    if (input.timezone.trim()) form.append('timezone', input.timezone.trim());
    if (input.submission_name.trim()) form.append('submission_name', input.submission_name.trim());
    if (input.email.trim()) form.append('email', input.email.trim());
    form.append('params', JSON.stringify(input.params));
    if (input.file) form.append('input_data', input.file, input.file.name);
    return call<Schedule>('POST', '/schedules', form);
  },
  update: (id: number, patch: Partial<Pick<Schedule, 'cron' | 'timezone' | 'enabled' | 'params' | 'submission_name' | 'email'>>) =>
    call<Schedule>('PATCH', `/schedules/${id}`, patch),
  remove: (id: number) => call<{ deleted: boolean }>('DELETE', `/schedules/${id}`),
  runNow: (id: number) => call<{ batch_uuid: string; submissions: Array<{ uuid: string; job: string }> }>('POST', `/schedules/${id}/run`),
  preview: (cron: string, timezone: string) => call<{ next: string[] }>('POST', '/schedules/preview', { cron, timezone: timezone.trim() || null }),
  inputUrl: (id: number) => fileUrl(`/schedules/${id}/input`),
};
