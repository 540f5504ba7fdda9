// The workbench shell: left navigation, the current page, the leave-without-saving question and notices.
import { useEffect, useState } from 'react';
import { api, hasToken, subscribeEvents, watchLiveStatus } from './api/client';
import type { Overview } from './api/types';
import { hashOf, navigate, routerStore, useRouter, type Route } from './app/router';
import { toastStore, useToasts } from './app/toasts';
import { Dialog, Icon } from './components/ui';
import { DesignerPage } from './pages/designer/DesignerPage';
import { ServicesPage } from './pages/services/ServicesPage';
import { RunsPage } from './pages/runs/RunsPage';
import { RunPage } from './pages/runs/RunPage';
import { SettingsPage } from './pages/settings/SettingsPage';
import { SchedulesPage } from './pages/schedules/SchedulesPage';
import { ApiDocsPage } from './pages/apidocs/ApiDocsPage';
import { AccessPage } from './pages/access/AccessPage';
import { WorkersPage } from './pages/workers/WorkersPage';

const NAV: Array<{ page: Route['page']; label: string; icon: string; hash: string }> = [
  { page: 'designer', label: 'Designer', icon: 'designer', hash: '#/designer' },
  { page: 'services', label: 'Services', icon: 'services', hash: '#/services' },
  { page: 'api', label: 'API', icon: 'api', hash: '#/api' },
  { page: 'runs', label: 'Runs', icon: 'runs', hash: '#/runs' },
  { page: 'schedules', label: 'Schedules', icon: 'schedules', hash: '#/schedules' },
  { page: 'access', label: 'Access', icon: 'access', hash: '#/access' },
  { page: 'workers', label: 'Workers', icon: 'workers', hash: '#/workers' },
  { page: 'settings', label: 'Settings', icon: 'settings', hash: '#/settings' },
];

function NavStatus() {
  const [live, setLive] = useState(false);
  const [overview, setOverview] = useState<Overview | null>(null);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const refresh = () => {
      api.overview().then(setOverview, () => undefined);
    };
    watchLiveStatus(setLive);
    refresh();
    const off = subscribeEvents(() => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        refresh();
      }, 1000);
    });
    const poll = setInterval(refresh, 15_000);
    return () => {
      off();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
    };
  }, []);
  const q = overview?.queue;
  return (
    <div className="nav-status">
      <div title={live ? 'Receiving live updates' : 'Live updates disconnected; retrying'}>
        <span className={`dot ${live ? 'on' : 'off'}`} /> {live ? 'Live' : 'Offline'}
      </div>
      {q && (
        <div className="nav-queue" data-testid="nav-queue">
          {q.paused ? 'Queue paused' : `${q.running} running · ${q.queued} waiting`}
        </div>
      )}
    </div>
  );
}

function LeaveDialog() {
  const pending = useRouter((s) => s.pending);
  const [saving, setSaving] = useState(false);
  if (!pending) return null;
  const { confirmLeave, cancelLeave } = routerStore.getState();
  const saveAndLeave = async () => {
    setSaving(true);
    const ok = await pending.save?.();
    setSaving(false);
    if (ok) confirmLeave();
  };
  return (
    <Dialog
      title="Leave without saving?"
      onClose={cancelLeave}
      actions={
        <>
          <button type="button" className="btn" onClick={cancelLeave}>
            Stay
          </button>
          <button type="button" className="btn danger" onClick={confirmLeave}>
            Discard changes
          </button>
          {pending.save && (
            <button type="button" className="btn primary" onClick={saveAndLeave} disabled={saving}>
              {saving ? 'Saving…' : 'Save and leave'}
            </button>
          )}
        </>
      }
    >
      <p>{pending.question}</p>
    </Dialog>
  );
}

function Toasts() {
  const toasts = useToasts((s) => s.toasts);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast ${t.kind}`} onClick={() => toastStore.getState().dismiss(t.id)}>
          {t.text}
        </div>
      ))}
    </div>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'designer':
      return <DesignerPage job={route.job} />;
    case 'services':
      return <ServicesPage />;
    case 'runs':
      return <RunsPage />;
    case 'run':
      return <RunPage uuid={route.uuid} />;
    case 'schedules':
      return <SchedulesPage />;
    case 'api':
      return <ApiDocsPage service={route.service} />;
    case 'access':
      return <AccessPage />;
    case 'workers':
      return <WorkersPage />;
    case 'settings':
      return <SettingsPage />;
  }
}

export function App() {
  const route = useRouter((s) => s.route);
  if (!hasToken()) {
    return (
      <div className="no-token">
        <h1>A_A Workbench</h1>
        <p>
          Open the workbench from the address the server printed when it started (it ends in <code>#token=…</code>). The
          token keeps other programs on this computer out of your workbench.
        </p>
      </div>
    );
  }
  const active = route.page === 'run' ? 'runs' : route.page;
  return (
    <div className="shell">
      <nav className="nav" aria-label="Main">
        <div className="brand">
          <span className="brand-mark">A_A</span> Workbench
        </div>
        <ul>
          {NAV.map((item) => (
            <li key={item.page}>
              <a
                href={item.hash}
                className={active === item.page ? 'active' : ''}
                aria-current={active === item.page ? 'page' : undefined}
                onClick={(e) => {
                  e.preventDefault();
                  navigate(item.hash);
                }}
              >
                <Icon name={item.icon} /> {item.label}
              </a>
            </li>
          ))}
        </ul>
        <NavStatus />
      </nav>
      <main className="main" key={hashOf(route).split('/')[1]}>
        <Page route={route} />
      </main>
      <LeaveDialog />
      <Toasts />
    </div>
  );
}
