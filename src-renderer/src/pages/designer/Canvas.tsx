// The React Flow canvas: renders the store's graph and turns drops, drags and connections into store actions.
import { useCallback, useEffect, type DragEvent } from 'react';
import { Background, Controls, MiniMap, ReactFlow, useReactFlow, type Connection, type Edge } from '@xyflow/react';
import { designerStore, useDesigner } from './store';
import { nodeTypes } from './nodes';
import { canConnect, type DesignEdge, type DesignNode } from './graph';

/** What the palette puts on a drag. */
export type PaletteItem = { kind: 'task'; name: string } | { kind: 'new-task' } | { kind: 'validator'; name: string };
export const PALETTE_MIME = 'application/x-aa-palette';

// Half a step node, so a dropped node lands centred under the pointer.
const DROP_OFFSET = { x: 110, y: 45 };
const EMPTY_NODES: DesignNode[] = [];
const EMPTY_EDGES: DesignEdge[] = [];
// Hoisted: React Flow copies these props into its store whenever their identity changes,
// and every such copy re-runs all of its per-node and per-edge subscriptions.
const EDGE_OPTIONS = { type: 'default' };
const SNAP_GRID: [number, number] = [10, 10];
const MULTI_SELECT_KEYS = ['Meta', 'Control'];

export function dropPalette(item: PaletteItem, position: { x: number; y: number }): void {
  const s = designerStore.getState();
  if (item.kind === 'validator') s.addValidator(item.name);
  else s.addStep(item.kind === 'task' ? item.name : null, { x: position.x - DROP_OFFSET.x, y: position.y - DROP_OFFSET.y });
}

const minimapColour = (n: { type?: string }) => (n.type === 'step' ? '#6b8afd' : '#9aa4b2');

export function Canvas() {
  const nodes = useDesigner((s) => s.doc?.nodes ?? EMPTY_NODES);
  const edges = useDesigner((s) => s.doc?.edges ?? EMPTY_EDGES);
  const fitRequest = useDesigner((s) => s.fitRequest);
  const rf = useReactFlow();

  useEffect(() => {
    const id = requestAnimationFrame(() => void rf.fitView({ padding: 0.2, duration: 200, maxZoom: 1 }));
    return () => cancelAnimationFrame(id);
  }, [fitRequest, rf]);

  const onDragOver = useCallback((e: DragEvent) => {
    if (!e.dataTransfer.types.includes(PALETTE_MIME)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  }, []);

  const onDrop = useCallback(
    (e: DragEvent) => {
      const raw = e.dataTransfer.getData(PALETTE_MIME);
      if (!raw) return;
      e.preventDefault();
      dropPalette(JSON.parse(raw) as PaletteItem, rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
    },
    [rf],
  );

  const isValidConnection = useCallback(
    (c: Connection | Edge) => canConnect(c.source, c.target, designerStore.getState().doc?.edges ?? []),
    [],
  );

  const s = designerStore.getState();
  return (
    <div className="canvas" onDragOver={onDragOver} onDrop={onDrop} data-testid="canvas">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={s.applyNodeChanges}
        onEdgesChange={s.applyEdgeChanges}
        onConnect={s.connect}
        onNodeDragStart={s.beginDrag}
        onSelectionDragStart={s.beginDrag}
        isValidConnection={isValidConnection}
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={MULTI_SELECT_KEYS}
        defaultEdgeOptions={EDGE_OPTIONS}
        minZoom={0.1}
        maxZoom={2}
        snapToGrid
        snapGrid={SNAP_GRID}
      >
        <Background gap={20} size={1.2} color="#d5dae3" />
        <Controls showInteractive={false} position="top-left" />
        <MiniMap pannable zoomable nodeColor={minimapColour} nodeStrokeWidth={2} />
      </ReactFlow>
    </div>
  );
}
