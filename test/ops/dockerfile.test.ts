/**
 * The Dockerfile: multi-stage, production dependencies only in the image, a non-root user, a
 * HEALTHCHECK that works without curl, and the same entry point as `npm start` in exec form, so
 * SIGTERM reaches node and the drain runs.
 */
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { describe, test } from 'node:test';
import { gatewayProcessEnv } from '../../bench/lib/processes.js';
import { parseConfig } from '../../src/config.js';
import { exists, listFiles, readJson, readText } from './support/repo-files.js';

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    });
}

const all = instructions(readText('Dockerfile'));
const stages: Instruction[][] = [];
for (const ins of all) {
  if (ins.keyword === 'FROM') stages.push([]);
  stages.at(-1)?.push(ins);
}
const runtime = stages.at(-1)!;
const find = (stage: Instruction[], keyword: string) => stage.filter((i) => i.keyword === keyword);

describe('Dockerfile', () => {
  test('builds in one stage and runs from a second one with production dependencies only', () => {
    assert.ok(stages.length >= 2, 'multi-stage');
    const buildRuns = stages.slice(0, -1).flat().filter((i) => i.keyword === 'RUN').map((i) => i.args).join(' && ');
    assert.match(buildRuns, /npm ci\b/);
    assert.match(buildRuns, /npm run build\b/);
    assert.match(buildRuns, /npm prune --omit=dev\b/);
    assert.deepEqual(find(runtime, 'RUN'), [], 'nothing is installed in the runtime stage');
    const copied = find(runtime, 'COPY').map((i) => i.args);
    assert.ok(copied.some((a) => /--from=\S+ \/app\/node_modules/.test(a)));
    assert.ok(copied.some((a) => /--from=\S+ \/app\/dist/.test(a)));
  });

  test('copies only sources that exist into the build', () => {
    const copies = stages[0]!.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from'));
    assert.ok(copies.length >= 3, 'the build stage copies the package files and the sources');
    for (const ins of copies) {
      const sources = ins.args.split(/\s+/).slice(0, -1);
      for (const source of sources) assert.ok(exists(source), `COPY ${source}: no such file`);
    }
  });

  test("the runtime user can write the event log's default directory (a container configured by env only starts)", () => {
    const workdir = find(runtime, 'WORKDIR').at(-1)!.args;
    const defaultLog = parseConfig({}, { TRITON_GRPC_URL: 'triton:8001' }).governance.eventLog;
    const dir = posix.resolve(workdir, posix.dirname(defaultLog));
    const user = find(runtime, 'USER').at(-1)!.args;
    const owned = find(runtime, 'COPY').filter((i) => i.args.includes(`--chown=${user}`) && i.args.trim().endsWith(` ${dir}`));
    assert.equal(owned.length, 1, `no COPY --chown=${user} creates ${dir}`);
  });

  test('ships the post-incident review template that the CLI renders, which .dockerignore lets through', () => {
    const copy = find(runtime, 'COPY').find((i) => i.args.startsWith('runbooks/post-incident-review-template.md '));
    assert.ok(copy, 'no COPY of runbooks/post-incident-review-template.md in the runtime stage');
    assert.ok(exists('runbooks/post-incident-review-template.md'));
    // The postmortem command looks for runbooks/<template> above its own dist/src/cli folder.
    const workdir = find(runtime, 'WORKDIR').at(-1)!.args;
    assert.equal(posix.resolve(workdir, copy.args.split(/\s+/).at(-1)!), posix.join(workdir, 'runbooks/post-incident-review-template.md'));
    // .dockerignore: the last pattern that matches decides; the exception must come after the exclusions.
    const lines = readText('.dockerignore').split('\n').map((l) => l.trim());
    const exception = lines.lastIndexOf('!runbooks/post-incident-review-template.md');
    assert.ok(exception > lines.lastIndexOf('runbooks') && exception > lines.lastIndexOf('**/*.md'), '.dockerignore excludes the template');
  });

  test('runs as a non-root user', () => {
    const users = find(runtime, 'USER');
    assert.equal(users.length, 1);
    const user = users[0]!.args.split(':')[0]!;
    assert.ok(user !== 'root' && user !== '0' && user !== '', `USER ${users[0]!.args}`);
  });

  test('caps glibc malloc arenas as the benchmark runs the gateway (MALLOC_ARENA_MAX=2)', () => {
    const env = find(runtime, 'ENV').map((i) => i.args).join(' ');
    assert.match(env, /(^|\s)MALLOC_ARENA_MAX=2(\s|$)/);
    assert.equal(gatewayProcessEnv({}).MALLOC_ARENA_MAX, '2', 'bench/lib/processes.ts starts the gateway without the image setting');
  });

  test('checks /livez with node (the slim image has no curl), in exec form', () => {
    const [healthcheck] = find(runtime, 'HEALTHCHECK');
    assert.ok(healthcheck, 'HEALTHCHECK');
    const cmd = /CMD (\[.*\])$/.exec(healthcheck.args);
    assert.ok(cmd, 'exec-form HEALTHCHECK CMD');
    const argv = JSON.parse(cmd[1]!) as string[];
    assert.equal(argv[0], 'node');
    assert.match(argv.join(' '), /\/livez/);
  });

  test('starts like npm start, tracing preloaded, in exec form so SIGTERM reaches node', () => {
    const cmds = find(runtime, 'CMD');
    assert.equal(cmds.length, 1);
    const argv = JSON.parse(cmds[0]!.args) as string[];
    assert.deepEqual(argv, ['node', '--import', './dist/src/telemetry/tracing.js', 'dist/src/server.js']);
    const start = readJson<{ scripts: Record<string, string> }>('package.json').scripts.start;
    assert.equal(start, argv.join(' '));
    assert.ok(exists('src/telemetry/tracing.ts') && exists('src/server.ts'), 'the entry points exist in src/');
    assert.deepEqual(find(runtime, 'ENTRYPOINT'), [], 'no shell entrypoint in front of node');
  });
});

describe('the image', () => {
  // The runtime stage keeps production dependencies only (npm prune --omit=dev): a package that
  // src/ or sim/ loads at run time but package.json lists under devDependencies crashes the image.
  test('has every package that src/ and sim/ import at run time among the production dependencies', () => {
    const pkg = readJson<{ dependencies?: Record<string, string> }>('package.json');
    const production = new Set(Object.keys(pkg.dependencies ?? {}));
    const missing = new Map<string, string>();
    for (const file of [...listFiles('src', ['.ts']), ...listFiles('sim', ['.ts'])].filter((f) => !f.endsWith('.d.ts'))) {
      const text = readText(file);
      const specifiers = [
        ...[...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s+'([^'.][^']*)'/gm)].map((m) => m[1]!),
        ...[...text.matchAll(/^\s*import\s+'([^'.][^']*)'/gm)].map((m) => m[1]!),
        ...[...text.matchAll(/\bimport\(\s*'([^'.][^']*)'\s*\)/g)].map((m) => m[1]!),
      ];
      for (const spec of specifiers) {
        if (spec.startsWith('node:')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!production.has(name) && !missing.has(name)) missing.set(name, file);
      }
    }
    assert.deepEqual(Object.fromEntries(missing), {}, 'move these to dependencies (package → first file importing it)');
  });
});

describe('.dockerignore', () => {
  const ignored = readText('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

  test('keeps local builds, dependencies and git history out of the context', () => {
    for (const entry of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(entry), entry);
  });

  /** Docker's rule: the last pattern that matches the path or one of its parent folders decides; `!` keeps. */
  const isIgnored = (path: string): boolean => {
    const toRegExp = (pattern: string): RegExp =>
      new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '(?:.*/)?').replace(/\*/g, '[^/]*')}$`);
    const parts = path.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let result = false;
    for (const line of ignored) {
      const keep = line.startsWith('!');
      const re = toRegExp(keep ? line.slice(1) : line);
      if (candidates.some((c) => re.test(c))) result = !keep;
    }
    return result;
  };

  test('keeps what the build copies', () => {
    const sources = stages[0]!.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    assert.ok(sources.includes('src') && sources.includes('package.json'), sources.join(' '));
    for (const source of sources) assert.ok(!isIgnored(source.replace(/\/$/, '')), `${source} is ignored but the build copies it`);
    assert.ok(isIgnored('scripts/demo.ts') && isIgnored('README.md') && isIgnored('docs/x.md'), 'the patterns are read as Docker reads them');
  });
});
