/**
 * A local (or mounted network) directory as a backup destination. Each file is copied to a
 * temporary name, fsynced and renamed, so a crash never leaves a half-written file under its
 * real name.
 */
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
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

  async putFile(key: string, file: string): Promise<void> {
    const dest = this.path(key);
    await mkdir(dirname(dest), { recursive: true });
    const tmp = `${dest}.partial`;
    await copyFile(file, tmp);
    await syncFile(tmp);
    await rename(tmp, dest);
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
        if (e.isDirectory()) await walk(abs);
        else if (e.isFile()) out.push(`${prefix}${relative(base, abs).split(sep).join('/')}`);
      }
    }
    await walk(base);
    return out.sort();
  }

  close(): void {}
}
