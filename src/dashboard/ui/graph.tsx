/** A workflow's DAG, laid out by elkjs (layered, left to right) and drawn by React Flow. */
import { Background, Controls, Handle, MarkerType, Position, ReactFlow } from '@xyflow/react';
import type { Edge, Node, NodeChange, NodeProps } from '@xyflow/react';
import ELK from 'elkjs/lib/elk.bundled.js';
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { Graph, NodeState } from './types.js';

const elk = new ELK();
const WIDTH = 170;
const HEIGHT = 54;

type Positions = Record<string, { x: number; y: number }>;
type Sizes = Record<string, { width: number; height: number }>;

async function layout(graph: Graph): Promise<Positions> {
  const laid = await elk.layout({
    id: 'root',
    layoutOptions: { 'elk.algorithm': 'layered', 'elk.direction': 'RIGHT', 'elk.spacing.nodeNode': '30', 'elk.layered.spacing.nodeNodeBetweenLayers': '60' },
    children: graph.nodes.map((n) => ({ id: n.id, width: WIDTH, height: HEIGHT })),
    edges: graph.nodes.flatMap((n) => n.outputs.map((to) => ({ id: `${n.id}->${to}`, sources: [n.id], targets: [to] }))),
  });
  const out: Positions = {};
  for (const c of laid.children ?? []) out[c.id] = { x: c.x ?? 0, y: c.y ?? 0 };
  return out;
}

type StepData = { label: string; type: string; state: NodeState | undefined; attempts: number | undefined; selected: boolean };

function Step({ data, id }: NodeProps<Node<StepData>>) {
  return (
    <div className={`step state-${data.state ?? 'none'}${data.selected ? ' selected' : ''}`} data-testid={`node-${id}`} data-state={data.state ?? ''}>
      <Handle type="target" position={Position.Left} />
      <div className="step-label">{data.label}</div>
      <div className="step-meta">
        <span>{data.type}</span>
        {data.state !== undefined && <span className={`badge state-${data.state}`}>{data.state}</span>}
        {data.attempts !== undefined && data.attempts > 1 && <span>×{data.attempts}</span>}
      </div>
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

const nodeTypes = { step: Step };

/** The graph; `states` colours the nodes, `onSelect` is called with a clicked node's id. */
export function WorkflowGraph(props: {
  graph: Graph;
  states?: Record<string, NodeState>;
  attempts?: Record<string, number>;
  selected?: string;
  onSelect?: (id: string) => void;
  height?: number;
}) {
  const { graph, states, attempts, selected, onSelect } = props;
  const [positions, setPositions] = useState<Positions | undefined>();
  const shape = graph.nodes.map((n) => `${n.id}:${n.outputs.join(',')}`).join(';');
  useEffect(() => {
    let live = true;
    void layout(graph).then((p) => live && setPositions(p));
    return () => {
      live = false;
    };
    // Laid out again only when the shape changes, not on each state change.
  }, [shape]);
  // The nodes are controlled: React Flow takes each node object as new and, without the size it
  // measured, hides the node until measured again (a frame or more), so that a click during a
  // live update fell through to the pane. The sizes it reports are handed back with each node.
  const [sizes, setSizes] = useState<Sizes>({});
  const onNodesChange = useCallback((changes: NodeChange<Node<StepData>>[]) => {
    const measured = changes.flatMap((c) => (c.type === 'dimensions' && c.dimensions !== undefined ? [[c.id, c.dimensions] as const] : []));
    if (measured.length > 0) setSizes((s) => ({ ...s, ...Object.fromEntries(measured) }));
  }, []);
  const nodes = useMemo<Node<StepData>[]>(
    () =>
      graph.nodes.map((n) => ({
        id: n.id,
        type: 'step',
        position: positions?.[n.id] ?? { x: 0, y: 0 },
        ...(sizes[n.id] !== undefined && { measured: sizes[n.id] }),
        data: { label: n.name ?? n.id, type: n.type, state: states?.[n.id], attempts: attempts?.[n.id], selected: selected === n.id },
      })),
    [graph, positions, sizes, states, attempts, selected],
  );
  const edges = useMemo<Edge[]>(
    () =>
      graph.nodes.flatMap((n) =>
        n.outputs.map((to) => ({
          id: `${n.id}->${to}`,
          source: n.id,
          target: to,
          markerEnd: { type: MarkerType.ArrowClosed },
          animated: states?.[to] === 'running',
          className: states?.[to] === 'skipped' ? 'edge-skipped' : '',
        })),
      ),
    [graph, states],
  );
  if (positions === undefined) return <div className="graph" style={{ height: props.height ?? 320 }} />;
  return (
    <div className="graph" style={{ height: props.height ?? 320 }} data-testid="graph">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        fitView
        fitViewOptions={{ maxZoom: 1 }}
        nodesDraggable={false}
        nodesConnectable={false}
        proOptions={{ hideAttribution: true }}
        onNodeClick={(_e, n) => onSelect?.(n.id)}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
