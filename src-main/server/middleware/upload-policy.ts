// The upload limits the service guard sets for one request, read by the multipart parser.
import type { IncomingMessage } from 'node:http';

export interface UploadPolicy {
  /** Largest file, bytes, before the Job is known (the most any service this caller may use allows). */
  fileBytes: number;
  fields: number;
  fieldBytes: number;
  files: number;
  /** A service's own file cap, applied as soon as the form names the Job. */
  fileBytesFor(jobName: string): number;
}

const policies = new WeakMap<IncomingMessage, UploadPolicy>();

export function setUploadPolicy(req: IncomingMessage, policy: UploadPolicy): void {
  policies.set(req, policy);
}

export function uploadPolicyOf(req: IncomingMessage): UploadPolicy | undefined {
  return policies.get(req);
}
