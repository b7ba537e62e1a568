/**
 * listArtifacts against real folders: symlinks are followed wherever they point (the content is
 * listed under the link's path), folders with no file are listed, and what cannot be backed up
 * (a broken link, a link to a folder it sits in, a FIFO) makes the listing fail, naming every
 * entry, instead of being left out.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { UnbackableEntriesError, listArtifacts } from '../../../../src/governance/backup/artifacts.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'artifacts-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function files(root: string, tree: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(tree)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

test('links to files and folders outside the repository are followed; empty folders are listed', async () => {
  const store = join(dir, 'a-store');
  await files(store, { 'engines/rank0.engine': 'PLAN', 'blobs/b1': '{"v":1}', 'blobs/b2': '{"b":2}' });
  await mkdir(join(store, 'snapshot'));
  await symlink('../blobs/b1', join(store, 'snapshot', 'tokenizer.json'));
  await symlink('../blobs/b2', join(store, 'snapshot', 'tokenizer_config.json'));
  await mkdir(join(store, 'empty-linked'));

  const repo = join(dir, 'a-repo');
  await files(repo, { 'llama/config.pbtxt': 'cfg', 'ensemble/config.pbtxt': 'platform: "ensemble"', '.git/HEAD': 'ref' });
  await mkdir(join(repo, 'llama', '1'));
  await mkdir(join(repo, 'ensemble', '1'));
  await mkdir(join(repo, 'a', 'b', 'c'), { recursive: true });
  await mkdir(join(repo, 'only-git', '.git'), { recursive: true });
  await symlink(join(store, 'engines', 'rank0.engine'), join(repo, 'llama', '1', 'rank0.engine'));
  await symlink(join(store, 'snapshot'), join(repo, 'llama', 'tokenizer'));
  await symlink(join(store, 'empty-linked'), join(repo, 'llama', '2'));
  // A link to a sibling inside the tree is not a loop: its content is listed under both paths.
  await symlink('1', join(repo, 'llama', 'current'));

  const listing = await listArtifacts(repo);
  assert.deepEqual(
    listing.files.map((f) => `${f.kind} ${f.path} ${f.bytes}`),
    [
      'model_config ensemble/config.pbtxt 20',
      'engine_plan llama/1/rank0.engine 4',
      'model_config llama/config.pbtxt 3',
      'engine_plan llama/current/rank0.engine 4',
      'tokenizer llama/tokenizer/tokenizer.json 7',
      'tokenizer llama/tokenizer/tokenizer_config.json 7',
    ],
  );
  // Only the deepest of nested empty folders; a folder holding only .git is empty in the backup.
  assert.deepEqual(listing.emptyDirectories, ['a/b/c', 'ensemble/1', 'llama/2', 'only-git']);
});

test('broken links, loops and FIFOs fail the listing, every one named', async () => {
  const outside = join(dir, 'b-outside');
  await mkdir(outside);
  const repo = join(dir, 'b-repo');
  await files(repo, { 'llama/config.pbtxt': 'cfg', 'llama/1/model.plan': 'PLAN' });
  await symlink(join(dir, 'gone.engine'), join(repo, 'llama', '1', 'rank1.engine'));
  await symlink('..', join(repo, 'llama', '1', 'up'));
  await symlink(repo, join(repo, 'llama', 'root'));
  await symlink('self', join(repo, 'self'));
  // A loop outside the repository, reached through a followed link.
  await symlink(outside, join(outside, 'again'));
  await symlink(outside, join(repo, 'llama', 'out'));
  execFileSync('mkfifo', [join(repo, 'llama', 'pipe')]);

  await assert.rejects(listArtifacts(repo), (err: unknown) => {
    assert.ok(err instanceof UnbackableEntriesError);
    assert.deepEqual(err.entries.map((e) => `${e.path}: ${e.reason}`), [
      'llama/1/rank1.engine: broken symlink',
      'llama/1/up: symlink loop: links to a folder it is inside',
      'llama/out/again: symlink loop: links to a folder it is inside',
      'llama/pipe: not a regular file or folder (FIFO, socket or device)',
      'llama/root: symlink loop: links to a folder it is inside',
      'self: symlink loop',
    ]);
    assert.match(err.message, /^cannot back up 6 entries under .*b-repo, nothing was copied: llama\/1\/rank1\.engine \(broken symlink\); /);
    return true;
  });
});
