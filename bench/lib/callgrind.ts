/**
 * Running the gateway under valgrind's callgrind, which counts the instructions a process executes
 * (user space, every thread) instead of timing it: the count for the same build and the same
 * requests hardly moves with how busy the host is, where CPU time on this VM moves ±20% between
 * rounds. Kernel time (socket writes, wake-ups) is not counted.
 *
 * The gateway starts with instrumentation off (valgrind then runs it ~10× slower, not ~50×), is
 * warmed up, and `callgrind_control` switches counting on for the measured requests only.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the instructions went, by what ran them; the first matching area wins. */
export const instructionAreas: ReadonlyArray<readonly [string, RegExp]> = [
  ['JIT compiler', /v8::internal::(compiler|maglev|baseline)::|v8::internal::(Pipeline|OptimizedCompilationJob|TurbofanCompilationJob|Compiler::|interpreter::BytecodeGenerator|Parser|PreParser|Scanner|Zone::)/],
  ['garbage collector', /v8::internal::(Scavenger|ScavengerCollector|Heap::|MarkCompactCollector|MinorMarkCompactCollector|MinorMarkSweepCollector|Sweeper|ConcurrentMarking|MarkingVisitor|MainMarkingVisitor|IncrementalMarking|Evacuat|PointersUpdating|RememberedSet|SlotSet|MemoryAllocator|PagedSpace|NewSpace|SemiSpace|ArrayBufferSweeper|GlobalHandles)|heap::base::|cppgc::/],
  ['JIT-compiled JavaScript', /^\?\?\?:0x[0-9a-f]+ \[\?\?\?\]$/],
  ['V8 builtins', /Builtins_/],
  ['V8 runtime', /\bv8::/],
  ['libc', /\/libc\.so|\/ld-linux/],
  ['Node, libuv and other native code', /./],
];

export interface InstructionCount {
  total: number;
  byArea: Record<string, number>;
}

/** Sums `callgrind_annotate --inclusive=no` output (self cost per function) by area. */
export function instructionsByArea(annotated: string): InstructionCount {
  const byArea: Record<string, number> = Object.fromEntries(instructionAreas.map(([name]) => [name, 0]));
  let total = 0;
  for (const line of annotated.split('\n')) {
    const m = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.+)$/.exec(line);
    if (!m || m[2]!.startsWith('PROGRAM TOTALS')) continue;
    const ir = Number(m[1]!.replaceAll(',', ''));
    const fn = m[2]!.trim();
    const area = instructionAreas.find(([, re]) => re.test(fn))![0];
    byArea[area]! += ir;
    total += ir;
  }
  return { total, byArea };
}

/** Whether valgrind and callgrind_control are on PATH; the error to print when not. */
export function callgrindMissing(): string | undefined {
  for (const tool of ['valgrind', 'callgrind_control', 'callgrind_annotate']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} not found: install Debian's valgrind package (apt-get install -y valgrind)`;
    }
  }
  return undefined;
}

/**
 * An executable that runs `node` under callgrind with instrumentation off, for startGateway's
 * `node` option. Its dumps go to `<outDir>/callgrind.out.<pid>.<n>`, valgrind's own lines to
 * `<outDir>/valgrind.err`.
 */
export function callgrindNode(outDir: string, node = process.execPath): string {
  const wrapper = join(outDir, 'node-under-callgrind.sh');
  writeFileSync(
    wrapper,
    `#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes --callgrind-out-file=${join(outDir, 'callgrind.out.%p')} ${node} "$@" 2>>${join(outDir, 'valgrind.err')}\n`,
  );
  chmodSync(wrapper, 0o755);
  return wrapper;
}

/** Sends a callgrind_control command (`-i on`, `--dump=NAME`, …) to a process under callgrind. */
export function callgrindControl(pid: number, ...args: string[]): void {
  execFileSync('callgrind_control', [...args, String(pid)], { stdio: 'ignore' });
}

/** One dump's instructions: the main thread (the event loop) apart from every other thread. */
export interface DumpCount {
  main: InstructionCount;
  /** V8's GC and compiler helpers, libuv's pool, worker threads (the span exporter). */
  others: InstructionCount;
  /** On the main thread, object literals whose properties V8 defined in its runtime (`literalRuntimePattern`). */
  literalRuntime: CallsInto;
}

/**
 * V8's runtime function for a property of an object literal after a computed key or a spread,
 * which optimised code calls only once the literal's feedback has gone megamorphic. Node's
 * `process.nextTick` builds its tick object that way (`{[async_id_symbol]: …, callback, args}`),
 * ~24 times per request; in some gateway processes under valgrind (6 of 26 on 2026-11-25), not
 * in others, that feedback ends up megamorphic and each tick object costs ~5,000 instructions
 * more: ~120 thousand per request, a process's luck rather than its build (bench/HISTORY.md,
 * the tick objects).
 */
export const literalRuntimePattern = /Runtime_DefineKeyedOwnPropertyInLiteral\b/;

export interface CallsInto {
  calls: number;
  /** Inclusive: the instructions of the calls and of everything they called. */
  instructions: number;
}

/**
 * Calls to the functions whose names match `callee` in one callgrind dump, and the instructions
 * under them, from its call lines (`cfn=(id) name`, `calls=N …`, then the call's inclusive cost).
 * Names are written once and then referred to by id alone.
 */
export function callsInto(dump: string, callee: RegExp): CallsInto {
  const names = new Map<string, string>();
  let current: string | undefined;
  let pendingCalls: number | undefined;
  const out: CallsInto = { calls: 0, instructions: 0 };
  for (const line of dump.split('\n')) {
    if (pendingCalls !== undefined) {
      out.calls += pendingCalls;
      out.instructions += Number(line.split(' ')[1] ?? 0);
      pendingCalls = undefined;
      continue;
    }
    const named = /^c?fn=\((\d+)\)(?: (.*))?$/.exec(line);
    if (named) {
      if (named[2] !== undefined) names.set(named[1]!, named[2]);
      if (line.startsWith('cfn=')) current = names.get(named[1]!);
      continue;
    }
    const calls = /^calls=(\d+)/.exec(line);
    if (calls && current !== undefined && callee.test(current)) pendingCalls = Number(calls[1]);
  }
  return out;
}

function add(into: InstructionCount, more: InstructionCount): void {
  into.total += more.total;
  for (const [area, n] of Object.entries(more.byArea)) into.byArea[area] = (into.byArea[area] ?? 0) + n;
}

/**
 * The instructions of the dump callgrind wrote for `--dump=<name>` of process `pid`, by thread
 * (`--separate-threads=yes` writes one file per thread, `callgrind.out.<pid>.<part>-<thread>`;
 * thread 1 is the main one) and area.
 */
export function readDump(outDir: string, pid: number, name: string): DumpCount {
  const empty = (): InstructionCount => ({ total: 0, byArea: {} });
  const out: DumpCount = { main: empty(), others: empty(), literalRuntime: { calls: 0, instructions: 0 } };
  let found = false;
  for (const file of readdirSync(outDir)) {
    const thread = new RegExp(`^callgrind\\.out\\.${pid}\\.\\d+-(\\d+)$`).exec(file)?.[1];
    if (thread === undefined) continue;
    const path = join(outDir, file);
    const dump = readFileSync(path, 'utf8');
    if (!dump.includes(`desc: Trigger: dump ${name}\n`)) continue;
    found = true;
    const count = instructionsByArea(execFileSync('callgrind_annotate', ['--threshold=100', '--inclusive=no', path], { encoding: 'utf8', maxBuffer: 1 << 28 }));
    add(Number(thread) === 1 ? out.main : out.others, count);
    if (Number(thread) === 1) out.literalRuntime = callsInto(dump, literalRuntimePattern);
  }
  if (!found) throw new Error(`no callgrind dump '${name}' of pid ${pid} in ${outDir}`);
  return out;
}
