#!/usr/bin/env node
// `npm test`: every *.test.ts under test/, through tsx, with Node's own test runner.
// Node 20's --test neither expands globs nor strips types, so the files are listed here.
// Pass file or folder paths to run a subset: `npm test -- test/unit`.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) collect(join(path, entry), out);
  } else if (path.endsWith('.test.ts')) {
    out.push(relative(process.cwd(), path));
  }
  return out;
}

const roots = process.argv.slice(2);
const files = (roots.length > 0 ? roots : ['test']).flatMap((r) => collect(r, []));
if (files.length === 0) {
  console.error('no test files found under', roots.join(', ') || 'test');
  process.exit(1);
}
console.log(`running ${files.length} test files`);
const started = Date.now();
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`, ...files],
  { stdio: 'inherit' },
);
child.on('exit', (code, signal) => {
  console.log(`tests finished in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  process.exit(signal ? 1 : (code ?? 1));
});
