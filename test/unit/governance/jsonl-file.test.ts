/**
 * The JSONL primitives under the event and incident logs: fsynced appends in call order, a torn
 * last line reported (not thrown) on read, and repaired on open so the next record is readable.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { JsonlAppender, readJsonl } from '../../../src/governance/jsonl-file.js';

const dir = await mkdtemp(join(tmpdir(), 'jsonl-'));
after(() => rm(dir, { recursive: true, force: true }));
const any = (v: unknown) => v as { n: number };

test('appends keep call order and read back whole', async () => {
  const path = join(dir, 'order', 'log.jsonl');
  const log = new JsonlAppender(path);
  await Promise.all(Array.from({ length: 50 }, (_, n) => log.append({ n })));
  await log.close();
  const read = await readJsonl(path, any);
  assert.deepEqual(read.records.map((r) => r.n), Array.from({ length: 50 }, (_, n) => n));
  assert.equal(read.problems.length, 0);
  assert.equal(read.tornTail, undefined);
});

test('a torn last line is reported on read, and open() isolates it so the next record survives', async () => {
  const path = join(dir, 'torn.jsonl');
  await writeFile(path, '{"n":1}\n{"n":2}\n{"n":3,"tru');
  const before = await readJsonl(path, any);
  assert.deepEqual(before.records.map((r) => r.n), [1, 2]);
  assert.equal(before.tornTail?.bytes, Buffer.byteLength('{"n":3,"tru'));

  const log = new JsonlAppender(path);
  const repaired = await log.open();
  assert.equal(repaired?.excerpt, '{"n":3,"tru');
  await log.append({ n: 4 });
  await log.close();
  assert.equal(await readFile(path, 'utf8'), '{"n":1}\n{"n":2}\n{"n":3,"tru\n{"n":4}\n');

  const afterRepair = await readJsonl(path, any);
  assert.deepEqual(afterRepair.records.map((r) => r.n), [1, 2, 4]);
  assert.equal(afterRepair.tornTail, undefined);
  assert.equal(afterRepair.problems.length, 1);
  assert.equal(afterRepair.problems[0]!.line, 3);
  assert.match(afterRepair.problems[0]!.reason, /not valid JSON/);
});

test('records the schema rejects are skipped and reported with their line', async () => {
  const path = join(dir, 'schema.jsonl');
  await writeFile(path, '{"n":1}\n{"m":2}\n{"n":3}\n');
  const read = await readJsonl(path, (v) => {
    if (typeof (v as { n?: unknown }).n !== 'number') throw new Error('n missing');
    return v as { n: number };
  });
  assert.deepEqual(read.records.map((r) => r.n), [1, 3]);
  assert.deepEqual(read.problems.map((p) => p.line), [2]);
});

test('a missing file reads as empty; maxBytes reads only whole lines of the tail', async () => {
  assert.deepEqual((await readJsonl(join(dir, 'nope.jsonl'), any)).records, []);
  const path = join(dir, 'big.jsonl');
  await writeFile(path, '');
  for (let n = 0; n < 100; n++) await appendFile(path, `${JSON.stringify({ n, pad: 'x'.repeat(20) })}\n`);
  const read = await readJsonl(path, any, { maxBytes: 200 });
  assert.ok(read.records.length > 0 && read.records.length < 10);
  assert.equal(read.records.at(-1)!.n, 99);
  assert.equal(read.problems.length, 0, 'the cut first line is dropped, not reported');
  assert.ok(read.skippedBytes > 0);
});

test('maxBytes keeps a whole first line when the window starts exactly on it', async () => {
  const path = join(dir, 'boundary.jsonl');
  const lines = ['{"n":1}\n', '{"n":2}\n', '{"n":3}\n'];
  await writeFile(path, lines.join(''));
  const read = await readJsonl(path, any, { maxBytes: Buffer.byteLength(lines[1]! + lines[2]!) });
  assert.deepEqual(read.records.map((r) => r.n), [2, 3]);
  assert.equal(read.skippedBytes, Buffer.byteLength(lines[0]!));
  const oneMore = await readJsonl(path, any, { maxBytes: Buffer.byteLength(lines[1]! + lines[2]!) + 1 });
  assert.deepEqual(oneMore.records.map((r) => r.n), [2, 3], 'a window one byte into the first line drops only that line');
});

test("a fragment another process left at the file's end does not swallow the next record", async () => {
  const path = join(dir, 'other-writer.jsonl');
  const log = new JsonlAppender(path);
  await log.append({ n: 1 });
  // `backup record`, a separate process, appending to the same file and stopped part-way.
  await appendFile(path, '{"event":"llm_backup_recorded","id":"ab');
  await log.append({ n: 2 });
  await log.close();
  const read = await readJsonl(path, any);
  assert.deepEqual(read.records.map((r) => r.n), [1, 2]);
  assert.equal(read.problems.length, 1, 'the fragment is its own bad line');
});
