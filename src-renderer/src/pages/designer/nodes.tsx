// The three node kinds on the canvas: Input + Validators, Step (one Task), Output.
import { memo } from 'react';
import { Handle, Position, type NodeProps } from '@xyflow/react';
import { problemIndex, useDesigner } from './store';
import type { InputNode, OutputNode, StepNode } from './graph';

function useProblems(key: string): { count: number; first: string } {
  const count = useDesigner((s) => problemIndex(s.problems).get(key)?.count ?? 0);
  const first = useDesigner((s) => problemIndex(s.problems).get(key)?.first ?? '');
  return { count, first };
}

const RUN_LABEL: Record<string, string> = {
  waiting: 'waiting',
  queued: 'queued',
  running: 'running',
  done: 'done',
  failed: 'failed',
  crash: 'crashed',
  cancelled: 'cancelled',
  skipped: 'not run',
};

const NONE: string[] = [];

export const InputNodeView = memo(function InputNodeView({ selected }: NodeProps<InputNode>) {
  const validators = useDesigner((s) => s.doc?.validators ?? NONE);
  return (
    <div className={`flow-node io-node input-node${selected ? ' selected' : ''}`} data-testid="node-input">
      <div className="io-title">Input</div>
      <div className="io-sub">the uploaded file</div>
      <div className="validators">
        {validators.length === 0 ? (
          <span className="chip muted">no validators</span>
        ) : (
          validators.map((v) => (
            <span key={v} className="chip validator">
              ✓ {v}
            </span>
          ))
        )}
      </div>
      <Handle type="source" position={Position.Right} className="handle" />
    </div>
  );
});

export const OutputNodeView = memo(function OutputNodeView({ selected }: NodeProps<OutputNode>) {
  const done = useDesigner((s) => s.testRun?.status);
  return (
    <div className={`flow-node io-node output-node${selected ? ' selected' : ''}${done ? ` run-${done.toLowerCase()}` : ''}`} data-testid="node-output">
      <Handle type="target" position={Position.Left} className="handle" />
      <div className="io-title">Output</div>
      <div className="io-sub">{done ? done : 'result files'}</div>
    </div>
  );
});

export const StepNodeView = memo(function StepNodeView({ id, data, selected }: NodeProps<StepNode>) {
  const draft = useDesigner((s) => s.doc?.drafts[data.tid]);
  const stage = useDesigner((s) => s.stages[id]?.stage ?? 0);
  const width = useDesigner((s) => s.stages[id]?.width ?? 1);
  const run = useDesigner((s) => s.testRun?.steps[id]?.state);
  const problems = useProblems(id);
  const command = draft?.executable.split('\n')[0] ?? '';
  return (
    <div
      className={`flow-node step-node${selected ? ' selected' : ''}${run ? ` run-${run}` : ''}${problems.count ? ' has-problem' : ''}`}
      data-testid={`step-${id}`}
      data-task={draft?.name ?? ''}
      data-run-state={run ?? ''}
    >
      <Handle type="target" position={Position.Left} className="handle" />
      <div className="step-head">
        <span className="step-task">{draft?.name || 'no task'}</span>
        <span className="stage-chip" title={width > 1 ? `Stage ${stage + 1}: runs in parallel with ${width - 1} other step${width > 2 ? 's' : ''}` : `Stage ${stage + 1}`}>
          stage {stage + 1}
          {width > 1 ? ` ∥${width}` : ''}
        </span>
      </div>
      <div className={`step-cmd${command ? '' : ' muted'}`}>{command || 'no command yet'}</div>
      <div className="step-meta">
        <span className="backend">{draft?.backend ?? 'no backend'}</span>
        <span className="globs" title="in_glob → out_glob">
          {draft?.in_glob || '∅'} → {draft?.out_glob || '∅'}
        </span>
      </div>
      {run && <div className={`run-state run-${run}`}>{RUN_LABEL[run] ?? run}</div>}
      {problems.count > 0 && (
        <div className="problem-dot" title={problems.first}>
          {problems.count}
        </div>
      )}
      <Handle type="source" position={Position.Right} className="handle" />
    </div>
  );
});

export const nodeTypes = { jobInput: InputNodeView, step: StepNodeView, jobOutput: OutputNodeView };
