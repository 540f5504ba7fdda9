// The workbench API's wire types, shared with the server by type-only import (nothing of the server is bundled).
export type * from '../../../src-main/server/routes/admin-types';
import type { Settings } from '../../../src-main/server/routes/admin-types';
import type { Configuration, ParameterType } from '../../../src-main/core/model/types';
import type { WorkerView } from '../../../src-main/core/queue/protocol';
import type { WorkerToken } from '../../../src-main/core/queue/worker-registry';
import type { ApiKeyInfo, NewApiKey } from '../../../src-main/core/security/api-keys';
import type { ServicePolicy } from '../../../src-main/core/security/service-policy';
import type { StorageGauge, SweepReport } from '../../../src-main/core/run/retention';
import type { CallbackDelivery } from '../../../src-main/core/notify/callbacks';
import type { CwlImportSummary } from '../../../src-main/core/cwl';
import type { notifyView } from '../../../src-main/server/routes/admin-notify';

export type { Configuration, ParameterType, WorkerView, WorkerToken, ApiKeyInfo, NewApiKey, ServicePolicy, StorageGauge, SweepReport, CallbackDelivery, CwlImportSummary };

/** Completion notices: SMTP settings (the password is only ever said to be set) and callback policy. */
export type NotifyView = ReturnType<typeof notifyView>;
export type EmailSettingsPatch = Partial<Omit<NotifyView['email'], 'enabled' | 'password_set'>> & { smtp_password?: string | null };
export type CallbackSettingsPatch = Partial<
  Pick<Settings, 'callbacks_enabled' | 'callback_services' | 'callback_max_attempts' | 'callback_backoff_ms' | 'callback_backoff_max_ms' | 'callback_timeout_ms'>
>;

/** GET /workers: the workers heard from lately, and whether this server dispatches to them at all. */
export interface WorkersResponse {
  scale_out: boolean;
  workers: WorkerView[];
}

/** POST /worker-tokens: the only answer that carries the token itself. */
export interface CreatedWorkerToken {
  id: number;
  name: string;
  token: string;
}

/** POST /keys: the key's public facts plus its secret, shown this once. */
export interface CreatedApiKey extends ApiKeyInfo {
  key: string;
}

/** Settings on the protection screen (GET/PUT /security). */
export type SecuritySettingKey =
  | 'lan_publish'
  | 'cors_origins'
  | 'client_requests_per_minute'
  | 'key_requests_per_minute'
  | 'service_max_active'
  | 'upload_limit_bytes'
  | 'upload_max_fields'
  | 'upload_max_field_bytes'
  | 'upload_max_files'
  | 'upload_idle_timeout_ms'
  | 'min_free_bytes'
  | 'job_deadline_s'
  | 'shutdown_grace_ms';

export type SecurityView = Pick<Settings, SecuritySettingKey | 'host'>;
export interface SecuritySaved extends SecurityView {
  restart_required: string[];
}

/** Settings on the retention screen (GET/PUT /retention). */
export type RetentionSettingKey = 'retain_days' | 'retain_count' | 'retain_bytes' | 'retention_interval_s';
export type RetentionView = Pick<Settings, RetentionSettingKey> & { last_sweep: SweepReport | null };
