/**
 * `npm run demo` (scripts/demo.ts): starts the simulator and the gateway, prints the URLs and a
 * curl line that works, and stops both cleanly on Ctrl-C (SIGINT), letting a stream in flight
 * finish. The command is package.json's own: run through tsx's CLI, the demo sat under a parent
 * that re-sent SIGINT (and then SIGKILL) when the demo had not confirmed the first within 30 ms,
 * which the demo took for a second Ctrl-C and quit with every stream cut.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../helpers/free-port.js';
import { eventually } from '../helpers/stack.js';

/** `npm run demo`'s command as argv, run by this Node: the process the signal reaches is the demo itself. */
function demoCommand(): string[] {
  const script = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts.demo!;
  const [program, ...args] = script.split(/\s+/);
  assert.equal(program, 'node', `npm run demo must start node itself, with no wrapper process to relay signals: ${script}`);
  return args;
}

test('the demo prints a working curl line and stops cleanly on SIGINT, finishing a stream in flight', async () => {
  const [gw, grpc, http, metrics] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const child = spawn(process.execPath, demoCommand(), {
    env: { ...process.env, DEMO_PORT: String(gw), DEMO_SIM_GRPC_PORT: String(grpc), DEMO_SIM_HTTP_PORT: String(http), DEMO_SIM_METRICS_PORT: String(metrics), GATEWAY_ADMIN_TOKEN: 'demo-admin-token-0123456', GATEWAY_EVENT_LOG: join(mkdtempSync(join(tmpdir(), 'gw-demo-')), 'events.jsonl') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await eventually(() => output.includes('Ctrl-C stops both.'), 30_000, 'the demo banner');
    assert.match(output, new RegExp(`gateway\\s+http://127\\.0\\.0\\.1:${gw}`));
    assert.ok(!output.includes('not ready yet'), output);
    const curl = /curl -s (\S+\/v1\/completions) -H 'content-type: application\/json' \\\n\s+-d '(.+)'/.exec(output);
    assert.ok(curl, 'a curl line is printed');
    const res = await fetch(curl[1]!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: curl[2] });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { choices: Array<{ text: string }> };
    assert.ok(body.choices[0]!.text.length > 0);
    // The demo's simulator takes ~8 ms a token: 200 tokens outlast the signal.
    const stream = await fetch(curl[1]!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'llama-3-8b', prompt: 'a long one', max_tokens: 200, stream: true }) });
    assert.equal(stream.status, 200);
    const reader = stream.body!.getReader();
    await reader.read();
    child.kill('SIGINT');
    let sse = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) sse += Buffer.from(chunk.value).toString();
    assert.match(sse, /data: \[DONE\]/, 'the stream in flight finished');
    assert.equal(await exited, 0, output);
    assert.match(output, /stopped\./);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
