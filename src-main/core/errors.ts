// Errors as values with a kind; the HTTP layer maps kinds to status codes in one place.

export type ErrorKind =
  | 'Invalid'
  | 'NotFound'
  | 'Forbidden'
  | 'Unauthorized'
  | 'TooMany'
  | 'Conflict'
  | 'Unsupported'
  | 'TooLarge'
  | 'InsufficientStorage'
  | 'Internal';

export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** Exact response body where a contract fixes it (A_A compatibility); else a structured default. */
    readonly body?: unknown,
    /** Per-field problems: `{ path: 'jobs[2].steps[0].task', message: 'unknown task "foo"' }`. */
    readonly problems?: Array<{ path: string; message: string }>,
  ) {
    super(message);
  }
}

export const invalid = (message: string, body?: unknown, problems?: AppError['problems']): AppError =>
  new AppError('Invalid', message, body, problems);
export const notFound = (message = 'Not found.'): AppError => new AppError('NotFound', message);

export const HTTP_STATUS: Record<ErrorKind, number> = {
  Invalid: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  TooLarge: 413,
  Unsupported: 415,
  TooMany: 429,
  Internal: 500,
  InsufficientStorage: 507,
};
