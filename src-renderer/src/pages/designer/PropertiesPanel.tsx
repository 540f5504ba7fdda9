// The properties panel: the Job, the Input's validators, or the selected Step's Task (with its live command preview).
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import type { Configuration, EnvironmentVar, Parameter } from '../../api/types';
import { CONFIGURATION_TYPES } from '../../../../src-main/core/model/types';
import { PARAMETER_TYPES, TYPE_LABELS, optionalNumber, parseList, typeOf, withSwitch, withType, type ParameterType } from './parameters';
import { designerStore, selectedNodes, useDesigner } from './store';
import { INPUT_ID, OUTPUT_ID, isStep, type TaskDraft } from './graph';
import { AttemptView } from './TestRunPanel';
import { shellLine } from '../../components/format';
// Pure rule modules (no Node imports) shared with the server: the same glob splitting as the worker's.
import { splitGlobs } from '../../../../src-main/core/plan/plan';

function Field(props: { label: string; hint?: ReactNode; children: (id: string) => ReactNode; wide?: boolean }) {
  const id = useId();
  return (
    <div className={`field${props.wide ? ' wide' : ''}`}>
      <label htmlFor={id}>{props.label}</label>
      {props.children(id)}
      {props.hint && <div className="hint">{props.hint}</div>}
    </div>
  );
}

const COMPLETION = [
  { value: 0, label: 'Continue running tasks' },
  { value: 1, label: 'Stop, job completes' },
  { value: 3, label: 'Stop with an error' },
];


/** The placeholders a template may use, given the task's globs and parameters. */
export function placeholdersOf(draft: Pick<TaskDraft, 'in_glob' | 'out_glob' | 'parameters'>): Array<{ token: string; meaning: string }> {
  const out: Array<{ token: string; meaning: string }> = [];
  splitGlobs(draft.in_glob).forEach((g, i) => out.push({ token: `$I${i + 1}`, meaning: `input file <id>${g}` }));
  splitGlobs(draft.out_glob).forEach((g, i) => out.push({ token: `$O${i + 1}`, meaning: `output file <id>${g}` }));
  let n = 0;
  for (const p of draft.parameters) {
    if (p.flag.includes('VALUE')) out.push({ token: '$VALUE', meaning: `value of ${p.alias}` });
    else out.push({ token: `$P${++n}`, meaning: `parameter ${p.alias} (${p.flag})` });
  }
  out.push({ token: '$ID', meaning: 'submission id' }, { token: '$TMP', meaning: 'backend root path' });
  return out;
}

/** Enum values typed as one comma-separated line; the text is kept while typing so a trailing comma does not vanish. */
function ListInput(props: { label: string; values: string[]; onChange: (values: string[]) => void; placeholder?: string }) {
  const [text, setText] = useState(props.values.join(', '));
  // Undo, redo or another editor changed the values: show theirs.
  useEffect(() => {
    if (parseList(text).join('\n') !== props.values.join('\n')) setText(props.values.join(', '));
  }, [props.values]);
  return (
    <input
      aria-label={props.label}
      value={text}
      placeholder={props.placeholder}
      onChange={(e) => {
        setText(e.target.value);
        props.onChange(parseList(e.target.value));
      }}
    />
  );
}

/** The native API side of a parameter: its type, the constraints that type carries, and a description for clients. */
function ParameterTyping({ p, i, set }: { p: Parameter; i: number; set: (next: Parameter, field: string) => void }) {
  const validatorTypes = useDesigner((s) => s.validatorTypes);
  const type = typeOf(p);
  const n = i + 1;
  const number = (key: 'min' | 'max' | 'max_length', text: string) => {
    const next = { ...p };
    const v = optionalNumber(text);
    if (v === undefined) delete next[key];
    else next[key] = v;
    set(next, key);
  };
  return (
    <>
      <div className="param-type">
        <label>
          type
          <select aria-label={`Parameter ${n} type`} title={TYPE_LABELS[type]} value={type} onChange={(e) => set(withType(p, e.target.value as ParameterType), 'type')}>
            {PARAMETER_TYPES.map((t) => (
              <option key={t} value={t} title={TYPE_LABELS[t]} disabled={p.bool_valued && t !== 'boolean'}>
                {t}
              </option>
            ))}
          </select>
        </label>
        {(type === 'integer' || type === 'number') && (
          <>
            <label>
              min
              <input aria-label={`Parameter ${n} min`} type="number" step={type === 'integer' ? 1 : 'any'} value={p.min ?? ''} onChange={(e) => number('min', e.target.value)} />
            </label>
            <label>
              max
              <input aria-label={`Parameter ${n} max`} type="number" step={type === 'integer' ? 1 : 'any'} value={p.max ?? ''} onChange={(e) => number('max', e.target.value)} />
            </label>
          </>
        )}
        {type === 'string' && (
          <>
            <label>
              pattern
              <input
                aria-label={`Parameter ${n} pattern`}
                className="mono"
                value={p.pattern ?? ''}
                placeholder="regular expression"
                onChange={(e) => {
                  const { pattern: _old, ...rest } = p;
                  set(e.target.value === '' ? rest : { ...p, pattern: e.target.value }, 'pattern');
                }}
              />
            </label>
            <label>
              max length
              <input aria-label={`Parameter ${n} max length`} type="number" min={0} step={1} value={p.max_length ?? ''} onChange={(e) => number('max_length', e.target.value)} />
            </label>
          </>
        )}
        {type === 'enum' && (
          <label className="span-2">
            values
            <ListInput label={`Parameter ${n} values`} values={p.enum ?? []} placeholder="fast, slow" onChange={(values) => set({ ...p, enum: values }, 'enum')} />
          </label>
        )}
        {type === 'file' && (
          <div className="span-2 param-validators" role="group" aria-label={`Parameter ${n} validators`}>
            <span>checked as</span>
            <div>
              {validatorTypes
                .filter((v) => v.name !== 'none')
                .map((v) => (
                  <label key={v.name} className="check" title={v.description}>
                    <input
                      type="checkbox"
                      checked={p.validators?.includes(v.name) ?? false}
                      onChange={(e) => {
                        const list = (p.validators ?? []).filter((x) => x !== v.name).concat(e.target.checked ? [v.name] : []);
                        const { validators: _old, ...rest } = p;
                        set(list.length ? { ...rest, validators: list } : rest, 'validators');
                      }}
                    />
                    {v.name}
                  </label>
                ))}
            </div>
          </div>
        )}
      </div>
      <input
        className="param-desc"
        aria-label={`Parameter ${n} description`}
        value={p.description ?? ''}
        placeholder="description shown to API clients"
        onChange={(e) => {
          const { description: _old, ...rest } = p;
          set(e.target.value === '' ? rest : { ...p, description: e.target.value }, 'description');
        }}
      />
    </>
  );
}

function ParametersTable({ draft }: { draft: TaskDraft }) {
  const samples = useDesigner((s) => s.samples[draft.tid]);
  const s = designerStore.getState();
  const set = (i: number, patch: Partial<Parameter>, field: string) =>
    s.updateTask(draft.tid, { parameters: draft.parameters.map((p, j) => (j === i ? { ...p, ...patch } : p)) }, `param:${i}:${field}`);
  const replace = (i: number, next: Parameter, field: string) =>
    s.updateTask(draft.tid, { parameters: draft.parameters.map((p, j) => (j === i ? next : p)) }, `param:${i}:${field}`);
  const add = () =>
    s.updateTask(draft.tid, {
      parameters: [...draft.parameters, { flag: '', alias: '', default: null, bool_valued: false, spacing: true, switchless: false }],
    });
  const remove = (i: number) => s.updateTask(draft.tid, { parameters: draft.parameters.filter((_, j) => j !== i) });
  return (
    <div className="table-field">
      <div className="table-head">
        <span>Parameters</span>
        <button type="button" className="btn small" onClick={add}>
          + Parameter
        </button>
      </div>
      {draft.parameters.length === 0 ? (
        <p className="muted small">None. Clients send one field per parameter, named {draft.name || 'task'}_alias.</p>
      ) : (
        <div className="param-list" aria-label="Parameters">
          {draft.parameters.map((p, i) => (
            <div className="param" key={i}>
              <div className="param-fields">
                <label>
                  flag
                  <input aria-label={`Parameter ${i + 1} flag`} value={p.flag} onChange={(e) => set(i, { flag: e.target.value }, 'flag')} placeholder="-t" />
                </label>
                <label>
                  alias
                  <input aria-label={`Parameter ${i + 1} alias`} value={p.alias} onChange={(e) => set(i, { alias: e.target.value }, 'alias')} placeholder="alias" />
                </label>
                <label>
                  default
                  <input
                    aria-label={`Parameter ${i + 1} default`}
                    disabled={typeOf(p) === 'file'}
                    value={p.default ?? ''}
                    onChange={(e) => set(i, { default: e.target.value === '' ? null : e.target.value }, 'default')}
                  />
                </label>
                <label title="Used only for the preview above">
                  sample
                  <input
                    aria-label={`Parameter ${i + 1} sample value`}
                    value={samples?.[p.alias] ?? ''}
                    placeholder={p.default ?? (p.bool_valued ? 'TRUE' : '')}
                    onChange={(e) => s.setSample(draft.tid, p.alias, e.target.value)}
                  />
                </label>
              </div>
              <div className="param-flags">
                <label title="A switch: present or absent (send TRUE or FALSE)">
                  <input type="checkbox" aria-label={`Parameter ${i + 1} bool`} checked={p.bool_valued} onChange={(e) => replace(i, withSwitch(p, e.target.checked), 'bool')} />
                  bool
                </label>
                <label title="A space between flag and value: -t 12, not -t12">
                  <input type="checkbox" aria-label={`Parameter ${i + 1} spacing`} checked={p.spacing} onChange={(e) => set(i, { spacing: e.target.checked }, 'spacing')} />
                  spacing
                </label>
                <label title="Only the value, without the flag">
                  <input type="checkbox" aria-label={`Parameter ${i + 1} switchless`} checked={p.switchless} onChange={(e) => set(i, { switchless: e.target.checked }, 'switchless')} />
                  switchless
                </label>
                <button type="button" className="btn small ghost" aria-label={`Remove parameter ${i + 1}`} onClick={() => remove(i)}>
                  Remove
                </button>
              </div>
              <ParameterTyping p={p} i={i} set={(next, field) => replace(i, next, field)} />
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

function EnvironmentTable({ draft }: { draft: TaskDraft }) {
  const s = designerStore.getState();
  const set = (i: number, patch: Partial<EnvironmentVar>, field: string) =>
    s.updateTask(draft.tid, { environment: draft.environment.map((v, j) => (j === i ? { ...v, ...patch } : v)) }, `env:${i}:${field}`);
  return (
    <div className="table-field">
      <div className="table-head">
        <span>Environment</span>
        <button type="button" className="btn small" onClick={() => s.updateTask(draft.tid, { environment: [...draft.environment, { env: '', value: '' }] })}>
          + Variable
        </button>
      </div>
      {draft.environment.length === 0 ? (
        <p className="muted small">Inherits the workbench's environment; variables added here are merged in.</p>
      ) : (
        draft.environment.map((v, i) => (
          <div className="env-row" key={i}>
            <input aria-label={`Variable ${i + 1} name`} value={v.env} placeholder="NAME" onChange={(e) => set(i, { env: e.target.value }, 'env')} />
            <input aria-label={`Variable ${i + 1} value`} value={v.value} placeholder="value" onChange={(e) => set(i, { value: e.target.value }, 'value')} />
            <button
              type="button"
              className="btn small ghost"
              aria-label={`Remove variable ${i + 1}`}
              onClick={() => s.updateTask(draft.tid, { environment: draft.environment.filter((_, j) => j !== i) })}
            >
              ✕
            </button>
          </div>
        ))
      )}
    </div>
  );
}

/** A_A's Configuration rows: what software or data a Task uses, shown to A_A clients by `GET job/<name>`. */
function ConfigurationTable({ draft }: { draft: TaskDraft }) {
  const s = designerStore.getState();
  const set = (i: number, patch: Partial<Configuration>, field: string) =>
    s.updateTask(draft.tid, { configuration: draft.configuration.map((c, j) => (j === i ? { ...c, ...patch } : c)) }, `config:${i}:${field}`);
  const text = (v: string) => (v === '' ? null : v);
  return (
    <div className="table-field">
      <div className="table-head">
        <span>Configuration</span>
        <button
          type="button"
          className="btn small"
          onClick={() => s.updateTask(draft.tid, { configuration: [...draft.configuration, { type: 0, name: null, parameters: null, version: null }] })}
        >
          + Entry
        </button>
      </div>
      {draft.configuration.length === 0 ? (
        <p className="muted small">The software and datasets this Task uses, with versions; A_A clients read them from the job's description.</p>
      ) : (
        <div className="param-list" aria-label="Configuration">
          {draft.configuration.map((c, i) => (
            <div className="param config" key={i}>
              <div className="param-fields config-fields">
                <label>
                  type
                  <select aria-label={`Configuration ${i + 1} type`} value={c.type} onChange={(e) => set(i, { type: Number(e.target.value) }, 'type')}>
                    {CONFIGURATION_TYPES.map((label, n) => (
                      <option key={label} value={n}>
                        {label}
                      </option>
                    ))}
                  </select>
                </label>
                <label>
                  name
                  <input aria-label={`Configuration ${i + 1} name`} value={c.name ?? ''} placeholder="e.g. blast" onChange={(e) => set(i, { name: text(e.target.value) }, 'name')} />
                </label>
                <label>
                  version
                  <input aria-label={`Configuration ${i + 1} version`} value={c.version ?? ''} placeholder="2.14" onChange={(e) => set(i, { version: text(e.target.value) }, 'version')} />
                </label>
                <button
                  type="button"
                  className="btn small ghost"
                  aria-label={`Remove configuration ${i + 1}`}
                  onClick={() => s.updateTask(draft.tid, { configuration: draft.configuration.filter((_, j) => j !== i) })}
                >
                  ✕
                </button>
              </div>
              <input
                className="param-desc"
                aria-label={`Configuration ${i + 1} parameters`}
                value={c.parameters ?? ''}
                placeholder="parameters, e.g. -evalue 0.01"
                onChange={(e) => set(i, { parameters: text(e.target.value) }, 'parameters')}
              />
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

function CommandPreview({ draft }: { draft: TaskDraft }) {
  const preview = useDesigner((s) => s.previews[draft.tid]);
  const samples = useDesigner((s) => s.samples[draft.tid]);
  useEffect(() => {
    const t = setTimeout(() => void designerStore.getState().refreshPreview(draft.tid), 200);
    return () => clearTimeout(t);
  }, [draft.tid, draft.executable, draft.parameters, draft.in_glob, draft.out_glob, draft.name, samples]);
  if (!draft.executable.trim()) return null;
  return (
    <div className="preview" data-testid="command-preview">
      <div className="preview-label">Runs as (sample values, no shell)</div>
      {!preview ? (
        <div className="muted small">…</div>
      ) : 'error' in preview ? (
        <div className="preview-error">{preview.error}</div>
      ) : (
        <>
          <code className="preview-line">{shellLine(preview.argv)}</code>
          <div className="argv">
            {preview.argv.map((a, i) => (
              <span key={i} className="argv-item" title={`argv[${i}]`}>
                {a}
              </span>
            ))}
          </div>
        </>
      )}
    </div>
  );
}

function TaskEditor({ draft, stepKey }: { draft: TaskDraft; stepKey: string }) {
  const backends = useDesigner((s) => s.backends);
  const jobs = useDesigner((s) => s.jobs);
  const original = useDesigner((s) => s.original);
  const sharedWith = jobs.filter((j) => j.name !== original && j.steps.some((st) => st.task === draft.original)).map((j) => j.name);
  const s = designerStore.getState();
  const exeRef = useRef<HTMLTextAreaElement>(null);
  const up = (patch: Partial<TaskDraft>, field?: string) => s.updateTask(draft.tid, patch, field);
  const insert = (token: string) => {
    const el = exeRef.current;
    if (!el) return;
    const start = el.selectionStart ?? draft.executable.length;
    const end = el.selectionEnd ?? start;
    const before = draft.executable.slice(0, start);
    const glue = before && !before.endsWith(' ') ? ' ' : '';
    up({ executable: `${before}${glue}${token}${draft.executable.slice(end)}` }, 'executable');
    requestAnimationFrame(() => {
      el.focus();
      const at = start + glue.length + token.length;
      el.setSelectionRange(at, at);
    });
  };
  return (
    <div className="task-editor" data-testid={`task-editor-${stepKey}`}>
      <h3 className="section-title">
        Task {draft.original === null && <span className="badge muted">new</span>}
      </h3>
      {sharedWith.length > 0 && (
        <p className="note">
          Also used by {sharedWith.join(', ')}: saving changes this Task there too.
        </p>
      )}
      <Field label="Task name" hint="Clients send its parameters as <task name>_<alias>.">
        {(id) => <input id={id} value={draft.name} onChange={(e) => up({ name: e.target.value.replace(/\s/g, '_') }, 'name')} autoComplete="off" />}
      </Field>
      <Field label="Backend">
        {(id) => (
          <select id={id} value={draft.backend ?? ''} onChange={(e) => up({ backend: e.target.value || null })}>
            <option value="">(none)</option>
            {backends.map((b) => (
              <option key={b.id} value={b.name}>
                {b.name}
                {b.queue_type ? ` · ${b.queue_type}` : ''}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Executable" hint="A command line run without a shell (or a script for script backends).">
        {(id) => (
          <textarea
            id={id}
            ref={exeRef}
            className="mono"
            rows={Math.min(8, Math.max(2, draft.executable.split('\n').length))}
            value={draft.executable}
            spellCheck={false}
            placeholder="wc -l $I1"
            onChange={(e) => up({ executable: e.target.value }, 'executable')}
          />
        )}
      </Field>
      <div className="placeholders" aria-label="Placeholders">
        {placeholdersOf(draft).map((p) => (
          <button type="button" key={p.token + p.meaning} className="chip token" title={p.meaning} onClick={() => insert(p.token)}>
            {p.token}
          </button>
        ))}
      </div>
      <CommandPreview draft={draft} />
      <div className="field-row">
        <Field label="in_glob" hint="what it reads">
          {(id) => <input id={id} className="mono" value={draft.in_glob} onChange={(e) => up({ in_glob: e.target.value }, 'in_glob')} />}
        </Field>
        <Field label="out_glob" hint="what it keeps">
          {(id) => <input id={id} className="mono" value={draft.out_glob} onChange={(e) => up({ out_glob: e.target.value }, 'out_glob')} />}
        </Field>
        <Field label="stdout_glob" hint="stdout file">
          {(id) => (
            <input
              id={id}
              className="mono"
              value={draft.stdout_glob ?? ''}
              placeholder=".stdout"
              onChange={(e) => up({ stdout_glob: e.target.value === '' ? null : e.target.value }, 'stdout_glob')}
            />
          )}
        </Field>
      </div>
      <ParametersTable draft={draft} />
      <EnvironmentTable draft={draft} />
      <ConfigurationTable draft={draft} />
      <h4 className="sub-title">Exit rules</h4>
      <div className="field-row">
        <Field label="Custom exit statuses" hint="e.g. 2,3">
          {(id) => (
            <input
              id={id}
              value={draft.custom_exit_status ?? ''}
              onChange={(e) => up({ custom_exit_status: e.target.value === '' ? null : e.target.value }, 'custom_exit_status')}
            />
          )}
        </Field>
        <Field label="On a custom status">
          {(id) => (
            <select
              id={id}
              value={draft.custom_exit_behaviour ?? ''}
              onChange={(e) => up({ custom_exit_behaviour: e.target.value === '' ? null : (Number(e.target.value) as 0 | 1 | 3) })}
            >
              <option value="">(not set)</option>
              {COMPLETION.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <Field label="Missing outputs">
        {(id) => (
          <select id={id} value={draft.incomplete_outputs_behaviour} onChange={(e) => up({ incomplete_outputs_behaviour: Number(e.target.value) as 0 | 1 | 3 })}>
            {COMPLETION.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
        )}
      </Field>
      <div className="field-row">
        <Field label="Timeout (s)" hint="empty: no limit">
          {(id) => (
            <input
              id={id}
              type="number"
              min={1}
              value={draft.timeout ?? ''}
              onChange={(e) => up({ timeout: e.target.value === '' ? null : Number(e.target.value) }, 'timeout')}
            />
          )}
        </Field>
        <Field label="Retries">
          {(id) => (
            <input id={id} type="number" min={0} max={10} value={draft.retries} onChange={(e) => up({ retries: Math.max(0, Number(e.target.value) || 0) }, 'retries')} />
          )}
        </Field>
      </div>
      <Field label="Description">
        {(id) => (
          <input id={id} value={draft.description ?? ''} onChange={(e) => up({ description: e.target.value === '' ? null : e.target.value }, 'description')} />
        )}
      </Field>
    </div>
  );
}

function StepProperties({ nodeId, tid }: { nodeId: string; tid: string }) {
  const draft = useDesigner((s) => s.doc?.drafts[tid]);
  const tasks = useDesigner((s) => s.tasks);
  const stage = useDesigner((s) => s.stages[nodeId]);
  const upstream = useDesigner((s) => s.doc?.edges.filter((e) => e.target === nodeId).length ?? 0);
  const testRun = useDesigner((s) => s.testRun);
  if (!draft) return null;
  const names = new Set(tasks.map((t) => t.name));
  return (
    <div>
      {testRun && <AttemptView stepKey={nodeId} />}
      <h3 className="section-title">Step {nodeId}</h3>
      <p className="muted small">
        Stage {(stage?.stage ?? 0) + 1}
        {stage && stage.width > 1 ? `, in parallel with ${stage.width - 1} other step${stage.width > 2 ? 's' : ''}` : ''}
        {upstream === 0 ? ' · not connected yet: drag from a handle to wire it' : ''}
      </p>
      <Field label="Uses task">
        {(id) => (
          <select id={id} value={draft.original ?? ''} onChange={(e) => designerStore.getState().setStepTask(nodeId, e.target.value)}>
            {draft.original === null && <option value="">{draft.name} (new)</option>}
            {[...names].sort().map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        )}
      </Field>
      <TaskEditor draft={draft} stepKey={nodeId} />
    </div>
  );
}

function InputProperties() {
  const validators = useDesigner((s) => s.doc?.validators);
  const types = useDesigner((s) => s.validatorTypes);
  const s = designerStore.getState();
  return (
    <div>
      <h3 className="section-title">Input and validators</h3>
      <p className="muted small">
        Clients upload one file as <code>input_data</code>. Steps wired from here read it; every validator ticked below must pass or
        the submission is refused with 400.
      </p>
      <div className="validator-list">
        {types.map((v) => (
          <label key={v.name} className="check-row">
            <input type="checkbox" checked={validators?.includes(v.name) ?? false} onChange={(e) => (e.target.checked ? s.addValidator(v.name) : s.removeValidator(v.name))} />
            <span>
              <strong>{v.name}</strong>
              <span className="muted small"> {v.description}</span>
            </span>
          </label>
        ))}
      </div>
    </div>
  );
}

function JobProperties() {
  const doc = useDesigner((s) => s.doc);
  const problems = useDesigner((s) => s.problems);
  const stages = useDesigner((s) => s.stages);
  if (!doc) return null;
  const steps = doc.nodes.filter(isStep).length;
  const stageCount = new Set(Object.values(stages).map((x) => x.stage)).size;
  const s = designerStore.getState();
  return (
    <div>
      <h3 className="section-title">Job</h3>
      <Field label="Description">
        {(id) => (
          <textarea id={id} rows={3} value={doc.description ?? ''} onChange={(e) => s.setMeta({ description: e.target.value === '' ? null : e.target.value })} />
        )}
      </Field>
      <dl className="facts">
        <dt>Steps</dt>
        <dd>{steps}</dd>
        <dt>Stages</dt>
        <dd>{stageCount}</dd>
        <dt>Validators</dt>
        <dd>{doc.validators.join(', ') || 'none'}</dd>
      </dl>
      <p className="muted small">
        Drag a Task from the palette to add a step, then drag from a node's right handle to another's left handle to set the order.
        Steps side by side in one stage run in parallel.
      </p>
      {problems.length > 0 && (
        <>
          <h4 className="sub-title">Before publishing</h4>
          <ul className="problem-list">
            {problems.map((p, i) => (
              <li key={i}>
                <button type="button" className="linkish" onClick={() => s.select(p.keys)}>
                  {p.message}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

export function PropertiesPanel() {
  // Primitive selections, so dragging a node does not re-render the panel.
  const selectedId = useDesigner((s) => {
    const sel = selectedNodes(s.doc);
    return sel.length === 1 ? sel[0].id : null;
  });
  const tid = useDesigner((s) => {
    const node = selectedId ? s.doc?.nodes.find((n) => n.id === selectedId) : undefined;
    return node && isStep(node) ? node.data.tid : null;
  });
  if (selectedId === INPUT_ID) return <InputProperties />;
  if (selectedId === OUTPUT_ID) {
    return (
      <div>
        <h3 className="section-title">Output</h3>
        <p className="muted small">
          Every file a step keeps (its out_glob) becomes a result clients can download. Steps wired here are the last ones; the
          job completes when they all finish.
        </p>
      </div>
    );
  }
  if (selectedId && tid) return <StepProperties nodeId={selectedId} tid={tid} />;
  return <JobProperties />;
}
