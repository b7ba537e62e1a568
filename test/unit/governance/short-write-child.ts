/**
 * Run by jsonl-file.short-write.test.ts in a child process under a file-size limit (`ulimit -f`, with
 * SIGXFSZ ignored): the kernel then writes only up to the limit, a real short write. Appends
 * through one JsonlAppender and prints what each append did, one JSON line per step.
 */
import { readFileSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { JsonlAppender } from '../../../src/governance/jsonl-file.js';

const path = process.argv[2]!;
// The limit in bytes, whatever block size the shell's ulimit counted in.
const limit = Number(/^Max file size\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]);
const log = new JsonlAppender(path);

async function step(name: string, record: unknown): Promise<void> {
  try {
    await log.append(record);
    console.log(JSON.stringify({ step: name, ok: true }));
  } catch (err) {
    console.log(JSON.stringify({ step: name, ok: false, error: (err as Error).message }));
  }
}

await step('small', { n: 1 });
// Larger than the room left: the kernel writes up to the limit and stops.
await step('past the limit', { n: 2, pad: 'x'.repeat(limit) });
// The file is at the limit now: nothing at all is written.
await step('at the limit', { n: 3 });
// Room again (as when disk space is freed); the fragment of record 2 stays in the file.
await truncate(path, limit - 100);
await step('after room was made', { n: 4 });
await log.close();
