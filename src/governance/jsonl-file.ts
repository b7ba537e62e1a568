/**
 * Durable JSON-lines files (the governance event log, the incident log): each record is a whole
 * line written to the end and fsynced before its append resolves, so a crash loses at most the
 * record being written, and then only as a torn last line. A write that fails part-way (a full
 * disk, the file-size limit) rejects the append and leaves a fragment; the next record then
 * starts with a newline, and opening a file whose last line is torn ends it with one, so the
 * fragment stays one unreadable line that readers report and skip.
 */
import { constants } from 'node:fs';
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface LineProblem {
  /** 1-based line number in the file (or in the part read, when only the tail was read). */
  line: number;
  reason: string;
  excerpt: string;
}

export interface TornTail {
  bytes: number;
  excerpt: string;
}

export interface JsonlRead<T> {
  records: T[];
  /** Lines that are not JSON or do not match the schema; skipped. */
  problems: LineProblem[];
  /** An unterminated last line that is not valid JSON: a write cut short by a crash. */
  tornTail: TornTail | undefined;
  /** Bytes at the start of the file that were not read (maxBytes). */
  skippedBytes: number;
}

const EXCERPT = 80;

function excerpt(text: string): string {
  return text.length > EXCERPT ? `${text.slice(0, EXCERPT)}…` : text;
}

/** A JSONL file could not be opened, read or written; the message names the file. */
export class JsonlFileError extends Error {
  override name = 'JsonlFileError';
  /** The errno code of the underlying failure (ENOSPC, EISDIR, ...), if there was one. */
  readonly code: string | undefined;

  constructor(readonly path: string, message: string, cause: unknown) {
    super(`${path}: ${message}`, { cause });
    this.code = (cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

function fileError(path: string, err: unknown): JsonlFileError {
  return err instanceof JsonlFileError ? err : new JsonlFileError(path, (err as Error).message, err);
}

/**
 * Reads every record; `accept` validates one parsed line (throw to reject it). With `maxBytes`
 * only the end of the file is read, starting at the first whole line. A missing file reads as empty.
 */
export async function readJsonl<T>(path: string, accept: (value: unknown) => T, options: { maxBytes?: number } = {}): Promise<JsonlRead<T>> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], problems: [], tornTail: undefined, skippedBytes: 0 };
    throw fileError(path, err);
  }
  let text: string;
  let skippedBytes = 0;
  try {
    const size = (await fh.stat()).size;
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    const start = size > maxBytes ? size - maxBytes : 0;
    // From the byte before the window: when that byte ends a line, the window starts on a whole
    // record, which must be kept; otherwise the window's first, partial line is dropped.
    const from = start > 0 ? start - 1 : 0;
    const buf = Buffer.alloc(size - from);
    if (buf.length > 0) await fh.read(buf, 0, buf.length, from);
    text = buf.toString('utf8');
    if (start > 0) {
      const nl = buf.indexOf(0x0a);
      skippedBytes = nl < 0 ? buf.length + from : from + nl + 1;
      text = nl < 0 ? '' : buf.subarray(nl + 1).toString('utf8');
    }
  } catch (err) {
    // A folder opens for reading and fails only here (EISDIR), with no path in the message.
    throw fileError(path, err);
  } finally {
    await fh.close();
  }

  const lines = text.split('\n');
  // A file that ends with a newline splits into a last empty element; anything else is unterminated.
  const tail = lines.pop() ?? '';
  const out: JsonlRead<T> = { records: [], problems: [], tornTail: undefined, skippedBytes };
  const take = (line: string, n: number): boolean => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return false;
    }
    try {
      out.records.push(accept(parsed));
    } catch (err) {
      out.problems.push({ line: n, reason: `does not match the schema: ${(err as Error).message.split('\n')[0]}`, excerpt: excerpt(line) });
    }
    return true;
  };
  lines.forEach((line, i) => {
    if (line.trim().length === 0) return;
    if (!take(line, i + 1)) out.problems.push({ line: i + 1, reason: 'not valid JSON (a write cut short by a crash or a full disk?)', excerpt: excerpt(line) });
  });
  if (tail.trim().length > 0 && !take(tail, lines.length + 1)) {
    out.tornTail = { bytes: Buffer.byteLength(tail), excerpt: excerpt(tail) };
  }
  return out;
}

/** Appends one record per line, in call order, each fsynced before its promise resolves. */
export class JsonlAppender {
  private fh: FileHandle | undefined;
  private opening: Promise<TornTail | undefined> | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** The last write stopped part-way: the file ends inside a line. */
  private endsMidLine = false;
  /** The file's size after our last write: another size means another process wrote since. */
  private sizeAfterOurs = -1;

  constructor(readonly path: string) {}

  /** Opens (creating the file and its folder); returns the torn tail it repaired, if any. */
  open(): Promise<TornTail | undefined> {
    this.opening ??= this.doOpen().catch((err: unknown) => {
      // A later call may find the path fixed (a folder created, space freed): try again then.
      this.opening = undefined;
      throw fileError(this.path, err);
    });
    return this.opening;
  }

  private async doOpen(): Promise<TornTail | undefined> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true });
    const existed = await stat(this.path).then(() => true, () => false);
    const fh = await open(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o640);
    let torn: TornTail | undefined;
    try {
      torn = await tornTailOf(this.path);
      if (torn) {
        await fh.write('\n');
        await fh.sync();
      }
      if (!existed) await syncDir(dir);
    } catch (err) {
      await fh.close();
      throw err;
    }
    this.fh = fh;
    return torn;
  }

  /** Rejects (JsonlFileError) when the record may not be in the file whole and fsynced. */
  append(record: unknown): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    const next = this.chain.then(async () => {
      await this.open();
      // After a write that stopped part-way, ours or another process's (`backup record` appends to
      // the same file), end the fragment first: the record gets a line of its own. Events are
      // rare enough to read the file's last byte before each.
      const size = (await this.fh!.stat()).size;
      const fragment = this.endsMidLine || (size !== this.sizeAfterOurs && (await fileEndsMidLine(this.path)));
      const bytes = Buffer.from(fragment ? `\n${line}` : line);
      await this.writeAll(bytes);
      this.sizeAfterOurs = size + bytes.length;
      await this.fh!.sync().catch((err: unknown) => {
        throw fileError(this.path, err);
      });
    });
    // One failed write must not wedge every later one.
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** FileHandle.write is one write(2): it may write less than asked, so loop until done or failed. */
  private async writeAll(buf: Buffer): Promise<void> {
    let written = 0;
    try {
      while (written < buf.length) {
        const { bytesWritten } = await this.fh!.write(buf, written, buf.length - written);
        if (bytesWritten === 0) throw new Error('the write made no progress');
        written += bytesWritten;
      }
    } catch (err) {
      throw new JsonlFileError(this.path, `wrote ${written} of ${buf.length} bytes of a record: ${(err as Error).message}`, err);
    } finally {
      // A failed write(2) writes nothing, so the file ends mid-line exactly when this write
      // stopped part-way, or it already did and nothing was written.
      if (written > 0) this.endsMidLine = written < buf.length;
    }
  }

  async close(): Promise<void> {
    await this.chain;
    const fh = this.fh;
    this.fh = undefined;
    this.opening = undefined;
    await fh?.close();
  }
}

/** Whether the file's last byte is not a newline (an empty file is not mid-line). */
async function fileEndsMidLine(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await fh.read(last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    await fh.close();
  }
}

/** The unterminated last line, if the file does not end with a newline. */
async function tornTailOf(path: string): Promise<TornTail | undefined> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    if (size === 0) return undefined;
    const window = Math.min(size, 1 << 20);
    const buf = Buffer.alloc(window);
    await fh.read(buf, 0, window, size - window);
    if (buf[buf.length - 1] === 0x0a) return undefined;
    const nl = buf.lastIndexOf(0x0a);
    const fragment = buf.subarray(nl + 1);
    return { bytes: fragment.length, excerpt: excerpt(fragment.toString('utf8')) };
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  // A new file's directory entry is durable only once the directory itself is fsynced.
  const fh = await open(dir, 'r').catch(() => undefined);
  if (!fh) return;
  try {
    await fh.sync().catch(() => undefined);
  } finally {
    await fh.close();
  }
}
