import { readFileSync } from 'node:fs';

/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): where the time went, by
 * area (the engine's files, each package, Node internals, GC, idle) and by
 * function, self and inclusive.
 *   node -r @swc-node/register bench/tools/cpuprofile-summary.ts <file.cpuprofile> [top] [--callers=<function>]
 * --callers shows whose calls a hot leaf (say writeUtf8String, the socket
 * write) serves: the nearest frame on its stack from lib/ or a package.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function area(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native/V8)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'node internals';
  const local = /\/(lib|bench|test)\/(.*)$/.exec(url);
  return local ? `${local[1]}/${local[2]}` : url;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${area(url, functionName)}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
}

function main(): void {
  const args = process.argv.slice(2);
  const callersOf = args.find((arg) => arg.startsWith('--callers='))?.slice('--callers='.length);
  const [file, topArg] = args.filter((arg) => !arg.startsWith('--'));
  if (!file) throw new Error('usage: cpuprofile-summary.ts <file.cpuprofile> [top]');
  const top = Number(topArg ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const selfByNode = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + dt);
    total += dt;
  });

  const callers = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  const selfByFn = new Map<string, number>();
  const inclusiveByFn = new Map<string, number>();
  for (const [id, micros] of selfByNode) {
    const node = byId.get(id)!;
    const a = area(node.callFrame.url, node.callFrame.functionName);
    selfByArea.set(a, (selfByArea.get(a) ?? 0) + micros);
    selfByFn.set(label(node), (selfByFn.get(label(node)) ?? 0) + micros);
    if (callersOf && node.callFrame.functionName === callersOf) {
      const owners: string[] = [];
      for (let at = parent.get(id); at !== undefined && owners.length < 2; at = parent.get(at)) {
        const frame = byId.get(at)!;
        if (/\/lib\/engine\/|node_modules\/bullmq/.test(frame.callFrame.url)) owners.push(label(frame));
      }
      const key = owners.join(' <- ') || '(no engine or BullMQ frame)';
      callers.set(key, (callers.get(key) ?? 0) + micros);
    }
    // Inclusive: credit each distinct function on the stack once (recursion is not double counted).
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = label(byId.get(at)!);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusiveByFn.set(name, (inclusiveByFn.get(name) ?? 0) + micros);
    }
  }

  const busy = total - (selfByArea.get('(idle)') ?? 0);
  const print = (title: string, map: Map<string, number>, n: number, filter: (key: string) => boolean = () => true) => {
    console.log(`\n${title}`);
    for (const [key, micros] of [...map.entries()].filter(([key]) => filter(key)).sort((a, b) => b[1] - a[1]).slice(0, n)) {
      console.log(`  ${((micros / busy) * 100).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${key}`);
    }
  };
  console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy (percentages are of busy time)`);
  print('Self time by area', selfByArea, top);
  print('Self time by function', selfByFn, top);
  print('Inclusive time, GoTick engine functions', inclusiveByFn, top, (key) => / lib\//.test(key));
  if (callersOf) print(`Whose work ${callersOf} does (nearest engine/BullMQ frames)`, callers, top);
}

main();
