// The one client of the workbench API: token handling, typed calls, file URLs and the live event stream.
import type {
  ApiKeyInfo,
  Backend,
  CallbackDelivery,
  CallbackSettingsPatch,
  CwlImportSummary,
  EmailSettingsPatch,
  NotifyView,
  BackendInput,
  CreatedApiKey,
  CreatedWorkerToken,
  Job,
  JobCheckRequest,
  JobCheckResponse,
  JobInput,
  NewApiKey,
  Overview,
  PreviewCommandRequest,
  PreviewCommandResponse,
  Problem,
  QueueStats,
  QueueType,
  QueueTypeInput,
  RetentionView,
  RunDetail,
  RunEvent,
  RunsResponse,
  SecuritySaved,
  SecurityView,
  ServiceInfo,
  ServicePolicy,
  Settings,
  SettingsSaved,
  SettingsView,
  StorageGauge,
  SweepReport,
  Task,
  TaskInput,
  TestRunResponse,
  ValidatorTypeInfo,
  WorkersResponse,
  WorkerToken,
} from './types';

const TOKEN_KEY = 'aa-workbench-token';
const API = '/api/admin';

/** Reads `#token=…` from the address the server printed, keeps it for this tab, and tidies the address bar. */
export function captureToken(location: Location = window.location, storage: Storage = window.sessionStorage): string | null {
  const match = /(?:^#|[#&])token=([^&]+)/.exec(location.hash);
  if (match) {
    storage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    window.history.replaceState(null, '', `${location.pathname}${location.search}#/designer`);
  }
  return storage.getItem(TOKEN_KEY);
}

let token: string | null = null;
// Empty in the browser (same origin); set to http://127.0.0.1:<port> when the client runs outside a page.
let origin = '';
export const setToken = (value: string | null): void => {
  token = value;
};
/** Points the client at a server from outside a browser page (Node tools and tests). */
export const configureApi = (options: { origin: string; token: string }): void => {
  origin = options.origin.replace(/\/$/, '');
  token = options.token;
};
export const hasToken = (): boolean => !!token;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly problems: Array<Problem | { path: string; message: string }> = [],
  ) {
    super(message);
  }
}

/** A readable sentence from any error body the server sends ({error: string | {field: [msg]}}). */
function messageOf(body: unknown, status: number): string {
  const error = (body as { error?: unknown; detail?: unknown } | null)?.error ?? (body as { detail?: unknown } | null)?.detail;
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object') {
    return Object.entries(error as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${[v].flat().join(' ')}`)
      .join('; ');
  }
  return `request failed (${status})`;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(`${origin}${API}${path}`, { method, headers, body: payload });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { error: text };
  }
  if (!res.ok) {
    const problems = (parsed as { problems?: ApiError['problems'] } | null)?.problems ?? [];
    throw new ApiError(res.status, messageOf(parsed, res.status), problems);
  }
  return parsed as T;
}

const seg = encodeURIComponent;

/** Adds the token to an API path for places that cannot send headers (links, <img>, EventSource). */
export function fileUrl(apiPath: string, download = false): string {
  const url = new URL(apiPath.startsWith('/api/') ? apiPath : `${API}${apiPath}`, window.location.origin);
  if (token) url.searchParams.set('token', token);
  if (download) url.searchParams.set('download', '1');
  return url.pathname + url.search;
}

export interface RunQuery {
  job?: string;
  state?: string;
  client?: string;
  since?: string;
  until?: string;
  before?: number;
  limit?: number;
}

export const api = {
  overview: () => request<Overview>('GET', '/overview'),

  queueTypes: () => request<QueueType[]>('GET', '/queue-types'),
  saveQueueType: (previousName: string, input: QueueTypeInput) => request<QueueType>('PUT', `/queue-types/${seg(previousName)}`, input),
  deleteQueueType: (name: string) => request<void>('DELETE', `/queue-types/${seg(name)}`),

  backends: () => request<Backend[]>('GET', '/backends'),
  saveBackend: (previousName: string, input: BackendInput) => request<Backend>('PUT', `/backends/${seg(previousName)}`, input),
  deleteBackend: (name: string) => request<void>('DELETE', `/backends/${seg(name)}`),

  tasks: () => request<Task[]>('GET', '/tasks'),
  saveTask: (previousName: string, input: TaskInput) => request<Task>('PUT', `/tasks/${seg(previousName)}`, input),
  deleteTask: (name: string) => request<void>('DELETE', `/tasks/${seg(name)}`),

  jobs: () => request<Job[]>('GET', '/jobs'),
  job: (name: string) => request<Job>('GET', `/jobs/${seg(name)}`),
  saveJob: (previousName: string, input: JobInput) => request<Job>('PUT', `/jobs/${seg(previousName)}`, input),
  deleteJob: (name: string) => request<void>('DELETE', `/jobs/${seg(name)}`),
  checkJob: (name: string, draft: JobCheckRequest) => request<JobCheckResponse>('POST', `/jobs/${seg(name || '_')}/check`, draft),
  publish: (name: string) => request<Job>('POST', `/jobs/${seg(name)}/publish`),
  unpublish: (name: string) => request<Job>('POST', `/jobs/${seg(name)}/unpublish`),

  validatorTypes: () => request<ValidatorTypeInfo[]>('GET', '/validator-types'),
  previewCommand: (req: PreviewCommandRequest) => request<PreviewCommandResponse>('POST', '/preview-command', req),

  services: () => request<ServiceInfo[]>('GET', '/services'),

  runs: (q: RunQuery) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') params.set(k, String(v));
    const qs = params.toString();
    return request<RunsResponse>('GET', `/runs${qs ? `?${qs}` : ''}`);
  },
  run: (uuid: string) => request<RunDetail>('GET', `/runs/${seg(uuid)}`),
  rerun: (uuid: string) => request<TestRunResponse>('POST', `/runs/${seg(uuid)}/rerun`),
  cancel: (uuid: string) => request<{ cancelled: boolean }>('POST', `/runs/${seg(uuid)}/cancel`),
  deleteRun: (uuid: string) => request<void>('DELETE', `/runs/${seg(uuid)}`),
  testRun: (form: FormData) => request<TestRunResponse>('POST', '/test-run', form),

  settings: () => request<SettingsView>('GET', '/settings'),
  saveSettings: (patch: Partial<Settings>) => request<SettingsSaved>('PUT', '/settings', patch),
  pauseQueue: () => request<QueueStats>('POST', '/queue/pause'),
  resumeQueue: () => request<QueueStats>('POST', '/queue/resume'),

  workers: () => request<WorkersResponse>('GET', '/workers'),
  workerTokens: async () => (await request<{ tokens: WorkerToken[] }>('GET', '/worker-tokens')).tokens,
  createWorkerToken: (name: string) => request<CreatedWorkerToken>('POST', '/worker-tokens', { name }),
  revokeWorkerToken: (id: number) => request<void>('DELETE', `/worker-tokens/${id}`),

  apiKeys: () => request<ApiKeyInfo[]>('GET', '/keys'),
  createApiKey: (input: NewApiKey) => request<CreatedApiKey>('POST', '/keys', input),
  revokeApiKey: (id: number) => request<void>('DELETE', `/keys/${id}`),
  security: () => request<SecurityView>('GET', '/security'),
  saveSecurity: (patch: Partial<SecurityView>) => request<SecuritySaved>('PUT', '/security', patch),
  servicePolicies: () => request<ServicePolicy[]>('GET', '/service-policies'),
  saveServicePolicy: (job: string, patch: Partial<Omit<ServicePolicy, 'job_name'>>) =>
    request<ServicePolicy>('PUT', `/service-policies/${seg(job)}`, patch),

  retention: () => request<RetentionView>('GET', '/retention'),
  saveRetention: (patch: Partial<Omit<RetentionView, 'last_sweep'>>) => request<RetentionView>('PUT', '/retention', patch),
  storage: () => request<StorageGauge>('GET', '/storage'),
  sweepNow: () => request<SweepReport>('POST', '/storage/sweep'),

  notify: () => request<NotifyView>('GET', '/notify'),
  saveEmail: (patch: EmailSettingsPatch) => request<NotifyView>('PUT', '/notify/email', patch),
  testEmail: (to: string) => request<{ sent: boolean; error?: string }>('POST', '/notify/email/test', { to }),
  saveCallbacks: (patch: CallbackSettingsPatch) => request<NotifyView>('PUT', '/notify/callbacks', patch),
  rotateCallbackSecret: () => request<NotifyView['callbacks']>('POST', '/notify/callbacks/secret'),
  deliveries: () => request<CallbackDelivery[]>('GET', '/notify/callbacks/deliveries?limit=20'),
  retryDelivery: (id: number) => request<CallbackDelivery>('POST', `/notify/callbacks/deliveries/${id}/retry`),

  importCwl: (files: Array<{ name: string; text: string }>) => request<CwlImportSummary>('POST', '/cwl/import', { files }),
  /** A download link for a Job as CWL: the workflow and its tools, zipped. */
  cwlZipUrl: (job: string) => fileUrl(`/cwl/jobs/${seg(job)}?format=zip`),
};

export type Api = typeof api;

type Listener = (event: RunEvent) => void;
const listeners = new Set<Listener>();
let source: EventSource | null = null;
let onStatus: ((live: boolean) => void) | null = null;

/** Reports whether the live event stream is connected (for the status dot in the shell). */
export const watchLiveStatus = (fn: (live: boolean) => void): void => {
  onStatus = fn;
};

/** One EventSource for the whole UI, opened on the first subscriber; it reconnects by itself. */
export function subscribeEvents(listener: Listener): () => void {
  listeners.add(listener);
  if (!source && typeof EventSource !== 'undefined') {
    source = new EventSource(fileUrl('/events'));
    source.onopen = () => onStatus?.(true);
    source.onerror = () => onStatus?.(false);
    source.onmessage = (message) => {
      let event: RunEvent;
      try {
        event = JSON.parse(message.data as string) as RunEvent;
      } catch {
        return;
      }
      for (const l of listeners) l(event);
    };
  }
  return () => {
    listeners.delete(listener);
  };
}
