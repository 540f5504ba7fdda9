// Services: each Job as a web service with its URL, switch, version, A_A endpoints string, client snippets and stats.
import { useEffect, useState } from 'react';
import { subscribeEvents } from '../../api/client';
import type { ServiceInfo } from '../../api/types';
import { navigate } from '../../app/router';
import { CopyButton, Empty, ErrorNote, Switch } from '../../components/ui';
import { formatDuration, formatPercent } from '../../components/format';
import { servicesStore, useServices } from './store';

const LANGS = [
  { key: 'curl', label: 'curl' },
  { key: 'python', label: 'Python requests' },
  { key: 'javascript', label: 'JavaScript fetch' },
] as const;

function Snippets({ service }: { service: ServiceInfo }) {
  const [lang, setLang] = useState<(typeof LANGS)[number]['key']>('curl');
  const code = service.snippets[lang];
  return (
    <div className="snippets">
      <div className="tabs" role="tablist" aria-label={`Client snippets for ${service.name}`}>
        {LANGS.map((l) => (
          <button key={l.key} type="button" role="tab" aria-selected={lang === l.key} className={lang === l.key ? 'active' : ''} onClick={() => setLang(l.key)}>
            {l.label}
          </button>
        ))}
        <span className="tabs-spacer" />
        <CopyButton text={code} label="Copy snippet" />
      </div>
      <pre className="code" data-testid={`snippet-${service.name}-${lang}`}>
        {code}
      </pre>
    </div>
  );
}

function ServiceCard({ service }: { service: ServiceInfo }) {
  const switching = useServices((s) => s.switching.includes(service.name));
  const st = service.stats;
  return (
    <article className={`card service${service.runnable ? '' : ' off'}`} data-testid={`service-${service.name}`}>
      <header className="service-head">
        <div>
          <h2>
            <a
              href={`#/designer/${encodeURIComponent(service.name)}`}
              onClick={(e) => {
                e.preventDefault();
                navigate(`#/designer/${encodeURIComponent(service.name)}`);
              }}
            >
              {service.name}
            </a>
          </h2>
          <p className="muted small">
            {service.description ?? `${service.steps} step${service.steps === 1 ? '' : 's'}`}
            {service.validators.length > 0 && ` · validates ${service.validators.join(', ')}`} · version <span className="mono">{service.version}</span>
            {service.runnable && (
              <>
                {' · '}
                <a
                  href={`#/api/${encodeURIComponent(service.name)}`}
                  data-testid="api-docs-link"
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(`#/api/${encodeURIComponent(service.name)}`);
                  }}
                >
                  API docs
                </a>
              </>
            )}
          </p>
        </div>
        <div className="service-switch">
          <span className={service.runnable ? 'on-label' : 'muted'}>{service.runnable ? 'Accepting submissions' : 'Not published'}</span>
          <Switch label={`${service.name} runnable`} checked={service.runnable} disabled={switching} onChange={(on) => void servicesStore.getState().setRunnable(service.name, on)} />
        </div>
      </header>
      <div className="stats">
        <div className="stat">
          <span className="stat-value" data-testid="runs-today">{st.runs_today}</span>
          <span className="stat-label">runs today</span>
        </div>
        <div className="stat">
          <span className="stat-value">{formatPercent(st.success_rate)}</span>
          <span className="stat-label">success (last 100)</span>
        </div>
        <div className="stat">
          <span className="stat-value">{formatDuration(st.p50_ms)}</span>
          <span className="stat-label">p50 duration</span>
        </div>
        <div className="stat">
          <span className="stat-value">{st.queued}</span>
          <span className="stat-label">queued · {st.running} running</span>
        </div>
      </div>
      <div className="service-url">
        <span className="preview-label">POST to</span>
        <code data-testid="submit-url">{service.submit_url}</code>
        <CopyButton text={service.submit_url} label="Copy URL" />
        <span className={`badge ${service.lan ? 'state-running' : 'muted'}`}>{service.lan ? 'LAN' : 'this computer only'}</span>
      </div>
      <div className="service-url">
        <span className="preview-label" title="What GET /analytics_automated/endpoints/ lists for this job">Fields</span>
        <code className="wrap" data-testid="endpoints">
          {service.endpoints}
        </code>
        <CopyButton text={service.endpoints} />
      </div>
      <Snippets service={service} />
    </article>
  );
}

export function ServicesPage() {
  const services = useServices((s) => s.services);
  const loaded = useServices((s) => s.loaded);
  const error = useServices((s) => s.error);
  useEffect(() => {
    void servicesStore.getState().load();
    return subscribeEvents((e) => servicesStore.getState().applyEvent(e));
  }, []);
  return (
    <div className="page services-page">
      <header className="page-head">
        <h1>Services</h1>
        <p className="lead">Published jobs accept A_A-compatible submissions at these addresses. The switch takes a job on or off line.</p>
      </header>
      <ErrorNote message={error} onClose={() => servicesStore.setState({ error: null })} />
      {loaded && services.length === 0 && (
        <Empty title="No services yet">
          Build a job in the{' '}
          <a
            href="#/designer"
            onClick={(e) => {
              e.preventDefault();
              navigate('#/designer');
            }}
          >
            Designer
          </a>{' '}
          and publish it.
        </Empty>
      )}
      {services.map((s) => (
        <ServiceCard key={s.name} service={s} />
      ))}
    </div>
  );
}
