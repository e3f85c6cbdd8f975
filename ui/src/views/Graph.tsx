import { Background, Controls, MarkerType, ReactFlow, type Edge, type Node } from '@xyflow/react';
import { useMemo } from 'react';
import { href } from '../hooks';
import type { Run, Step } from '../types';

const ICON: Record<string, string> = { completed: '✓', failed: '✕', running: '▶', retrying: '↻', sleeping: '☾', waiting: '✉', cancelled: '⊘', queued: '◌' };
const X = 200;
const Y = 90;

function label(step: Step) {
  return (
    <div className="node-label">
      <div className="mono ellipsis">{step.key}</div>
      <div className="node-status">
        <span aria-hidden="true">{ICON[step.status] ?? '•'}</span> {step.status} · {step.kind}
      </div>
      {step.childRunId && (
        <a className="nodrag" href={href(['runs', step.childRunId])}>
          child run →
        </a>
      )}
    </div>
  );
}

/**
 * The steps as the flow ran them: one after another, a ctx.wait fanning out
 * to its steps side by side and joining again, child runs as nodes that link
 * to them. Built from the run's steps alone (their order and waitGroup).
 */
export function buildGraph(run: Run): { nodes: Node[]; edges: Edge[] } {
  const nodes: Node[] = [];
  const edges: Edge[] = [];
  let level = 0;
  let previous: string[] = ['start'];
  nodes.push({ id: 'start', position: { x: -X / 2, y: 0 }, data: { label: `▷ ${run.flowId}` }, className: 'gnode gnode-start', type: 'input' });
  const link = (from: string[], to: string) => {
    for (const source of from) {
      edges.push({ id: `${source}->${to}`, source, target: to, markerEnd: { type: MarkerType.ArrowClosed } });
    }
  };
  const steps = run.steps;
  for (let i = 0; i < steps.length; ) {
    const group = steps[i].waitGroup;
    const members: Step[] = [];
    if (group === undefined) members.push(steps[i++]);
    else while (i < steps.length && steps[i].waitGroup === group) members.push(steps[i++]);
    level++;
    const ids: string[] = [];
    members.forEach((step, j) => {
      const id = `s:${step.key}`;
      ids.push(id);
      nodes.push({
        id,
        position: { x: (j - (members.length - 1) / 2) * X - X / 2, y: level * Y },
        data: { label: label(step) },
        className: `gnode gnode-${step.status}${step.childRunId ? ' gnode-child' : ''}`,
        ariaLabel: `step ${step.key}, ${step.kind}, ${step.status}`,
      });
      link(previous, id);
    });
    previous = ids;
    if (group !== undefined) {
      // The join: the flow goes on once every step of the wait has ended.
      level++;
      const join = `join:${group}`;
      nodes.push({ id: join, position: { x: -X / 2, y: level * Y }, data: { label: `∥ wait #${group} joined` }, className: 'gnode gnode-join' });
      link(previous, join);
      previous = [join];
    }
  }
  level++;
  nodes.push({
    id: 'end',
    position: { x: -X / 2, y: level * Y },
    data: { label: `${ICON[run.status] ?? '•'} run ${run.status}${run.waitingForSlot ? ' · waiting for slot' : ''}` },
    className: `gnode gnode-${run.status}`,
    type: 'output',
  });
  link(previous, 'end');
  return { nodes, edges };
}

export function Graph({ run }: { run: Run }) {
  const { nodes, edges } = useMemo(() => buildGraph(run), [run]);
  return (
    <div className="graph" data-testid="graph">
      <ReactFlow
        // A new step remounts the graph, so it fits the view again as a live run grows.
        key={nodes.length}
        nodes={nodes}
        edges={edges}
        fitView
        colorMode="system"
        nodesDraggable={false}
        nodesConnectable={false}
        onlyRenderVisibleElements={nodes.length > 200}
        minZoom={0.05}
        onNodeClick={(_, node) => {
          const step = run.steps.find((s) => `s:${s.key}` === node.id);
          if (step?.childRunId) window.location.hash = href(['runs', step.childRunId]);
        }}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
