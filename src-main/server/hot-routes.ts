// The two routes A_A clients hit most, answered below Express: intake (`POST submission/`) and batch polls
// (`GET submission/<batch UUID>`). The same guard, handlers and error replies as the Express routes serve them; only
// the router's per-request work (layer matching, prototype swaps, mount trimming) is skipped, which was about a third
// of what a small request cost the server. Anything else, and any variant these do not recognise, goes to Express.
import type http from 'node:http';
import type { CoreInternals } from '../core';
import { acceptSubmission, answerBatch, BATCH_PATH, SUBMIT_PATHS } from './routes/aa-compat';
import { refusalBody, type ServiceGuard } from './middleware/service-guard';
import { applySecurityHeaders } from './middleware/headers';
import { sendError, sendJson } from './respond';

const MOUNT = '/analytics_automated';

/** Returns a handler that answers a request and says true, or says false and leaves it to Express. */
export function hotRoutes(core: CoreInternals, guard: ServiceGuard): (req: http.IncomingMessage, res: http.ServerResponse) => boolean {
  return (req, res) => {
    // Pages of other origins (CORS decides) and requests without a Host (refused with a body) take the full path.
    if (req.headers.origin !== undefined || req.headers.host === undefined) return false;
    const url = req.url ?? '';
    if (!url.startsWith(`${MOUNT}/submission`)) return false;
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const rest = pathname.slice(MOUNT.length);
    let handle: (() => unknown) | null = null;
    if (req.method === 'POST' && SUBMIT_PATHS.includes(rest)) handle = () => acceptSubmission(core, req, res);
    else if (req.method === 'GET') {
      const batch = BATCH_PATH.exec(rest);
      if (batch) handle = () => answerBatch(core, res, batch[1]);
    }
    if (!handle) return false;

    applySecurityHeaders(res, pathname);
    // As Express reads `?api_key=`: taken only when given once.
    const keys = q < 0 ? [] : new URLSearchParams(url.slice(q + 1)).getAll('api_key');
    const refusal = guard.admit(req, res, { surface: 'aa', path: rest, apiKeyParam: keys.length === 1 ? keys[0] : null });
    if (refusal && 'error' in refusal) sendError(res, refusal.error);
    else if (refusal) sendJson(res, refusal.status, refusalBody('aa', refusal.message), refusal.headers);
    else {
      Promise.resolve()
        .then(handle)
        .catch((error: unknown) => sendError(res, error));
    }
    return true;
  };
}
