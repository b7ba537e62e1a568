#!/usr/bin/env node
// Fails when src/triton/generated is stale: regenerates into a temporary folder and compares.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const committed = 'src/triton/generated';
const scratch = mkdtempSync(join(tmpdir(), 'proto-check-'));
try {
  const template = readFileSync('buf.gen.yaml', 'utf8').replace(`out: ${committed}`, `out: ${scratch}`);
  const templatePath = join(scratch, 'buf.gen.yaml');
  writeFileSync(templatePath, template);
  execFileSync('node_modules/.bin/buf', ['generate', 'proto', '--template', templatePath], { stdio: 'inherit' });
  const fresh = readdirSync(scratch).filter((f) => f.endsWith('.ts')).sort();
  const current = readdirSync(committed).filter((f) => f.endsWith('.ts')).sort();
  const stale = [];
  if (fresh.join() !== current.join()) stale.push(`files differ: [${current}] vs [${fresh}]`);
  for (const file of fresh) {
    let old = '';
    try {
      old = readFileSync(join(committed, file), 'utf8');
    } catch {
      /* reported below as stale */
    }
    if (old !== readFileSync(join(scratch, file), 'utf8')) stale.push(file);
  }
  if (stale.length > 0) {
    console.error(`generated protobuf code is stale (${stale.join(', ')}); run \`npm run proto:gen\` and commit`);
    process.exit(1);
  }
  console.log('generated protobuf code matches proto/');
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
