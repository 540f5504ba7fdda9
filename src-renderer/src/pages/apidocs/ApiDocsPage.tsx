// API docs: renders the native API's OpenAPI document (every published service) with a "try it" form that submits and follows the run.
import { useEffect, useMemo, useState } from 'react';
import { constraints, curlFor, formBody, operations, type DocField, type DocOperation, type Json, type TryValues } from './schema';

const FINAL = new Set(['Complete', 'Error', 'Crash', 'Cancelled']);

/** Descriptions mark code with backticks, as in the OpenAPI document (CommonMark). */
function Text({ text }: { text: string }) {
  return (
    <>
      {text.split('`').map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : part))}
    </>
  );
}

interface RunView {
  id: string;
  state: string;
  message: string;
  steps: Array<{ key: string; task: string; state: string }>;
  results: Array<{ name: string; size: number; url: string }>;
  links: { self: string; events: string; cancel: string };
}

function FieldInput({ field, value, onChange }: { field: DocField; value: TryValues[string] | undefined; onChange: (v: TryValues[string]) => void }) {
  const id = `try-${field.name}`;
  if (field.kind === 'file') return <input id={id} type="file" onChange={(e) => onChange(e.target.files?.[0] ?? null)} />;
  if (field.kind === 'boolean') {
    return (
      <select id={id} value={typeof value === 'string' ? value : ''} onChange={(e) => onChange(e.target.value)}>
        <option value="">{field.default !== undefined ? `default (${String(field.default)})` : 'choose…'}</option>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  }
  if (field.enum) {
    return (
      <select id={id} value={typeof value === 'string' ? value : ''} onChange={(e) => onChange(e.target.value)}>
        <option value="">{field.default !== undefined ? `default (${String(field.default)})` : 'choose…'}</option>
        {field.enum.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    );
  }
  const numeric = field.kind === 'integer' || field.kind === 'number';
  return (
    <input
      id={id}
      type={numeric ? 'number' : 'text'}
      step={field.kind === 'integer' ? 1 : 'any'}
      min={field.minimum}
      max={field.maximum}
      maxLength={field.maxLength}
      placeholder={field.default !== undefined ? String(field.default) : ''}
      value={typeof value === 'string' ? value : ''}
      onChange={(e) => onChange(e.target.value)}
    />
  );
}

/** Kept for the tab's life, so trying several services needs the key typed once. */
let rememberedKey = '';

function TryIt({ op, serverUrl, origin }: { op: DocOperation; serverUrl: string; origin: string }) {
  const [values, setValues] = useState<TryValues>({});
  const [wait, setWait] = useState('5');
  const [apiKey, setApiKey] = useState(rememberedKey);
  const [busy, setBusy] = useState(false);
  const [reply, setReply] = useState<{ status: number; body: unknown } | null>(null);
  const [run, setRun] = useState<RunView | null>(null);
  const url = `${serverUrl}${op.path}`;

  useEffect(() => {
    setValues({});
    setReply(null);
    setRun(null);
  }, [op.path]);

  // Follow a run that is still going through its server-sent events.
  useEffect(() => {
    if (!run || FINAL.has(run.state) || typeof EventSource === 'undefined') return;
    const source = new EventSource(origin + run.links.events);
    source.addEventListener('state', (e) => {
      const data = JSON.parse((e as MessageEvent).data as string) as { state: string; message: string };
      setRun((r) => (r ? { ...r, state: data.state, message: data.message } : r));
    });
    source.addEventListener('end', (e) => {
      setRun(JSON.parse((e as MessageEvent).data as string) as RunView);
      source.close();
    });
    source.onerror = () => source.close();
    return () => source.close();
  }, [run?.id, origin]);

  const submit = async () => {
    setBusy(true);
    setReply(null);
    setRun(null);
    try {
      const query = /^\d+$/.test(wait) && wait !== '0' ? `?wait=${wait}` : '';
      const headers: Record<string, string> = apiKey.trim() ? { 'X-API-Key': apiKey.trim() } : {};
      const res = await fetch(`${origin}/api/v1${op.path}${query}`, { method: 'POST', headers, body: formBody(op.fields, values) });
      const body = (await res.json()) as unknown;
      setReply({ status: res.status, body });
      if (res.status === 200 || res.status === 202) setRun(body as RunView);
    } catch (error) {
      setReply({ status: 0, body: { detail: (error as Error).message } });
    } finally {
      setBusy(false);
    }
  };

  const problems = (reply?.body as { errors?: Array<{ field?: string; pointer?: string; detail: string }> } | undefined)?.errors ?? [];
  return (
    <section className="card" style={{ padding: 16, marginTop: 12 }} aria-label="Try it">
      <h3 style={{ marginTop: 0 }}>Try it</h3>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {op.fields.map((f) => {
          const problem = problems.find((p) => p.field === f.name);
          return (
            <div className="field" key={f.name}>
              <label htmlFor={`try-${f.name}`}>
                <span className="mono">{f.name}</span> {f.required ? <span className="badge">required</span> : <span className="muted small">optional</span>}
              </label>
              <FieldInput field={f} value={values[f.name]} onChange={(v) => setValues((old) => ({ ...old, [f.name]: v }))} />
              {problem && (
                <span className="small" role="alert" style={{ color: 'var(--danger, #c0392b)' }}>
                  {problem.detail}
                </span>
              )}
            </div>
          );
        })}
        <div className="try-options">
          <div className="field">
            <label htmlFor="try-wait">Wait for the result (seconds)</label>
            <input id="try-wait" type="number" min={0} max={300} value={wait} onChange={(e) => setWait(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="try-key">
              API key <span className="muted small">needed once services are published on the LAN</span>
            </label>
            <input
              id="try-key"
              className="mono"
              value={apiKey}
              placeholder="aak_…"
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => {
                rememberedKey = e.target.value;
                setApiKey(e.target.value);
              }}
            />
          </div>
        </div>
        <button className="btn primary" type="submit" disabled={busy}>
          {busy ? 'Sending…' : 'Send'}
        </button>
      </form>
      <h4 style={{ marginTop: 16 }}>The same request with curl</h4>
      <pre className="code">{curlFor(url, op.fields, values, apiKey.trim() ? { 'X-API-Key': apiKey.trim() } : {})}</pre>
      {reply && (
        <div aria-live="polite">
          <h4>
            Response <span className="badge">{reply.status || 'network error'}</span>
          </h4>
          {run && (
            <div style={{ marginBottom: 8 }}>
              <span className={`badge state-${run.state.toLowerCase()}`}>{run.state}</span> <span className="muted">{run.message}</span>
              {run.results.length > 0 && (
                <ul>
                  {run.results.map((r) => (
                    <li key={r.url}>
                      <a href={origin + r.url} download>
                        {r.name}
                      </a>{' '}
                      <span className="muted small">{r.size} bytes</span>
                    </li>
                  ))}
                </ul>
              )}
            </div>
          )}
          <pre className="code">{JSON.stringify(run ?? reply.body, null, 2)}</pre>
        </div>
      )}
    </section>
  );
}

function Operation({ op, serverUrl, origin }: { op: DocOperation; serverUrl: string; origin: string }) {
  return (
    <article className="card" style={{ padding: 16 }} data-testid={`api-op-${op.service}`}>
      <h2 style={{ marginTop: 0 }}>{op.summary}</h2>
      <p>
        <span className="badge">POST</span> <code>{`${serverUrl}${op.path}`}</code>
      </p>
      {op.description.split('\n\n').map((para) => (
        <p key={para} className="muted">
          <Text text={para} />
        </p>
      ))}
      <div className="table-wrap">
        <table className="runs-table">
          <thead>
            <tr>
              <th>Field</th>
              <th>Type</th>
              <th>Required</th>
              <th>Default</th>
              <th>Constraints</th>
              <th>Description</th>
            </tr>
          </thead>
          <tbody>
            {op.fields.map((f) => (
              <tr key={f.name}>
                <td className="mono">{f.name}</td>
                <td>{f.kind}</td>
                <td>{f.required ? 'yes' : 'no'}</td>
                <td className="mono">{f.default === undefined ? '' : String(f.default)}</td>
                <td>{constraints(f)}</td>
                <td>
                  <Text text={f.description ?? ''} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="muted small">
        Send <code>multipart/form-data</code> (files as file parts) or <code>application/json</code> (a file field holds its content, or{' '}
        <code>{'{ "content": "…", "encoding": "base64", "filename": "…" }'}</code>). The answer is <code>202</code> with the run and a{' '}
        <code>Location</code>; with <code>?wait=N</code> it is <code>200</code> with the finished run when it ends within N seconds. Follow a run at{' '}
        <code>GET /runs/{'{id}'}/events</code> (server-sent events), download results from the URLs it lists, cancel with{' '}
        <code>POST /runs/{'{id}'}/cancel</code>. Errors are RFC 9457 problem details with an entry per invalid field.
      </p>
      <TryIt op={op} serverUrl={serverUrl} origin={origin} />
    </article>
  );
}

/**
 * The native API reference: fetches `<origin>/api/v1/openapi.json` and renders each published service.
 * `origin` is empty in the browser (same origin); `service` opens that service's latest version first.
 */
export function ApiDocsPage({ origin = '', service }: { origin?: string; service?: string }) {
  const [doc, setDoc] = useState<Json | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    fetch(`${origin}/api/v1/openapi.json`)
      .then(async (res) => {
        if (!res.ok) throw new Error(`the API description could not be loaded (HTTP ${res.status})`);
        return (await res.json()) as Json;
      })
      .then((d) => live && setDoc(d))
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [origin]);

  // A link to another service replaces whatever was picked by hand.
  useEffect(() => setSelected(null), [service]);

  const ops = useMemo(() => (doc ? operations(doc) : []), [doc]);
  const wanted = service === undefined ? undefined : ops.find((o) => o.service === service && o.version === null);
  const current = ops.find((o) => o.path === selected) ?? wanted ?? ops[0] ?? null;
  const serverUrl = String(doc?.servers?.[0]?.url ?? `${origin}/api/v1`);

  return (
    <div className="page api-docs-page">
      <header className="page-head">
        <h1>API</h1>
        <p className="lead">
          Every published service as a typed API. Generate a client from the{' '}
          <a href={`${origin}/api/v1/openapi.json`} target="_blank" rel="noreferrer">
            OpenAPI document
          </a>{' '}
          or try a service here.
        </p>
      </header>
      {error && (
        <div className="error-note" role="alert">
          {error}
        </div>
      )}
      {doc && ops.length === 0 && <p className="muted">No service is published yet: publish a job in the Designer.</p>}
      {doc && service !== undefined && ops.length > 0 && !wanted && (
        <p className="note" role="status">
          {service} is not published, so it has no API yet.
        </p>
      )}
      {ops.length > 0 && (
        <div style={{ display: 'grid', gridTemplateColumns: 'minmax(180px, 240px) 1fr', gap: 16, alignItems: 'start' }}>
          <nav className="card" style={{ padding: 8 }} aria-label="Services">
            {ops.map((o) => (
              <button
                key={o.path}
                type="button"
                className={`btn ghost small${current?.path === o.path ? ' active' : ''}`}
                style={{ display: 'block', width: '100%', textAlign: 'left' }}
                onClick={() => setSelected(o.path)}
              >
                {o.service} <span className="muted small">{o.version === null ? 'latest' : `v${o.version}`}</span>
              </button>
            ))}
          </nav>
          {current && <Operation op={current} serverUrl={serverUrl} origin={origin} />}
        </div>
      )}
    </div>
  );
}

export default ApiDocsPage;
