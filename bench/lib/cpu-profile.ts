/**
 * Reads a V8 .cpuprofile (what `node --cpu-prof` writes) and sums self time per function and
 * per area (our src/, the simulator, each npm package, Node internals, GC), optionally only
 * for samples after `sinceMs` so module loading at start-up does not drown the hot path.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTimeRow {
  name: string;
  where: string;
  area: string;
  selfMs: number;
  /** Share of the busy (non-idle) time in the window. */
  percent: number;
}

export interface ProfileSummary {
  windowMs: number;
  busyMs: number;
  idleMs: number;
  functions: SelfTimeRow[];
  areas: Array<{ area: string; selfMs: number; percent: number }>;
}

/** Which part of the code a frame belongs to. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'gc';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'program (native, unattributed)';
    return 'native';
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const ours = /\/(src|sim|bench|dist\/src|dist\/sim)\/(.*)$/.exec(url);
  if (ours) return ours[1]!.replace('dist/', '');
  return 'other';
}

function shortUrl(url: string): string {
  const pkg = /node_modules\/(.*)$/.exec(url);
  if (pkg) return pkg[1]!;
  const ours = /\/((?:dist\/)?(?:src|sim|bench)\/.*)$/.exec(url);
  if (ours) return ours[1]!;
  return url.replace(/^file:\/\//, '');
}

export function summarizeProfile(profile: CpuProfile, options: { sinceMs?: number; top?: number } = {}): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const sinceUs = (options.sinceMs ?? 0) * 1000;
  let t = 0;
  let windowUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < sinceUs) continue;
    windowUs += delta;
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + delta);
  }
  const fnTotals = new Map<string, SelfTimeRow>();
  const areaTotals = new Map<string, number>();
  let idleUs = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    const area = areaOf(frame);
    if (area === 'idle') {
      idleUs += us;
      continue;
    }
    areaTotals.set(area, (areaTotals.get(area) ?? 0) + us);
    const where = frame.url === '' ? '' : `${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    const name = frame.functionName || '(anonymous)';
    const key = `${name}@${where}`;
    const row = fnTotals.get(key) ?? { name, where, area, selfMs: 0, percent: 0 };
    row.selfMs += us / 1000;
    fnTotals.set(key, row);
  }
  const busyMs = (windowUs - idleUs) / 1000;
  const functions = [...fnTotals.values()]
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, options.top ?? 25)
    .map((r) => ({ ...r, selfMs: round(r.selfMs), percent: round((r.selfMs / busyMs) * 100) }));
  const areas = [...areaTotals.entries()]
    .map(([area, us]) => ({ area, selfMs: round(us / 1000), percent: round((us / 1000 / busyMs) * 100) }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return { windowMs: round(windowUs / 1000), busyMs: round(busyMs), idleMs: round(idleUs / 1000), functions, areas };
}

export function readProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

export function profileMarkdown(summary: ProfileSummary, title: string): string {
  const lines = [
    `#### ${title}`,
    '',
    `Window ${(summary.windowMs / 1000).toFixed(1)} s, busy ${(summary.busyMs / 1000).toFixed(1)} s (idle ${(summary.idleMs / 1000).toFixed(1)} s).`,
    '',
    '| area | self ms | % of busy |',
    '| --- | ---: | ---: |',
    ...summary.areas.slice(0, 15).map((a) => `| ${a.area} | ${a.selfMs.toFixed(0)} | ${a.percent.toFixed(1)} |`),
    '',
    '| function | where | self ms | % of busy |',
    '| --- | --- | ---: | ---: |',
    ...summary.functions.map((f) => `| \`${f.name}\` | ${f.where || f.area} | ${f.selfMs.toFixed(0)} | ${f.percent.toFixed(1)} |`),
    '',
  ];
  return lines.join('\n');
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
