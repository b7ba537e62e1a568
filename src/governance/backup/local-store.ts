/**
 * A local (or mounted network) directory as a backup destination. Each file is copied to a
 * temporary name, checked against the manifest, fsynced and renamed, so a crash or a source file
 * that changed never leaves a wrong or half-written file under its real name.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, opendir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CopyCheck, type ExpectedContent } from './copy-check.js';
import { assertSafeKey, type BackupStore } from './store.js';

async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class LocalStore implements BackupStore {
  constructor(readonly uri: string) {}

  locate(key: string): string {
    return join(this.uri, ...key.split('/'));
  }

  private path(key: string): string {
    assertSafeKey(key);
    return this.locate(key);
  }

  async putFile(key: string, file: string, expected: ExpectedContent): Promise<void> {
    const dest = this.path(key);
    await mkdir(dirname(dest), { recursive: true });
    const tmp = `${dest}.partial`;
    const check = new CopyCheck(expected);
    try {
      // `end` is inclusive: one byte past the expected size, so a file that grew is noticed.
      await pipeline(
        createReadStream(file, { end: expected.bytes }),
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            check.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(tmp),
      );
      check.assertMatches();
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    await syncFile(tmp);
    await rename(tmp, dest);
  }

  async putDirectory(key: string): Promise<void> {
    await mkdir(this.path(key), { recursive: true });
  }

  async putBytes(key: string, body: Buffer): Promise<void> {
    const dest = this.path(key);
    await mkdir(dirname(dest), { recursive: true });
    const tmp = `${dest}.partial`;
    await writeFile(tmp, body);
    await syncFile(tmp);
    await rename(tmp, dest);
  }

  async openRead(key: string): Promise<Readable | undefined> {
    const p = this.path(key);
    const s = await stat(p).catch(() => undefined);
    if (!s?.isFile()) return undefined;
    return createReadStream(p);
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.locate(prefix.replace(/\/$/, ''));
    const out: string[] = [];
    async function walk(dir: string): Promise<void> {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const abs = join(dir, e.name);
        if (e.isDirectory()) {
          out.push(`${prefix}${relative(base, abs).split(sep).join('/')}/`);
          await walk(abs);
          // Anything else is listed as a file too, a symlink or a FIFO included (not followed):
          // one added to a copy is then reported as not in the manifest, where it went unseen
          // while Triton would still load what a link points to.
        } else out.push(`${prefix}${relative(base, abs).split(sep).join('/')}`);
      }
    }
    await walk(base);
    return out.sort();
  }

  async rootProblem(): Promise<string | null> {
    try {
      await (await opendir(this.uri)).close();
      return null;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return 'it does not exist';
      if (code === 'ENOTDIR') return (await stat(this.uri).catch(() => undefined)) ? 'it is not a folder' : 'it does not exist';
      throw err; // EACCES and the like: the copy may be there but cannot be read
    }
  }

  close(): void {}
}
