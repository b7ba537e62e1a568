/**
 * The bytes a destination receives are hashed as they are read for the copy and compared with
 * the manifest, which was built from an earlier read. A file replaced between the two (an engine
 * redeployed while the backup runs) would otherwise land under a manifest that does not describe
 * it, and only a later `backup verify`, or the restore, would find out.
 */
import { createHash } from 'node:crypto';

/** What the manifest says one file holds. */
export interface ExpectedContent {
  /** Relative to the repository root: the name the error gives. */
  path: string;
  bytes: number;
  sha256: string;
}

export class SourceChangedError extends Error {
  constructor(expected: ExpectedContent, detail: string) {
    super(`source changed during the backup: ${expected.path} ${detail}; nothing was written under its name and this copy has no manifest, run the backup again`);
    this.name = 'SourceChangedError';
  }
}

export class CopyCheck {
  private readonly hash = createHash('sha256');
  private seen = 0;

  constructor(readonly expected: ExpectedContent) {}

  update(chunk: Buffer): void {
    this.hash.update(chunk);
    this.seen += chunk.length;
  }

  /**
   * Throws SourceChangedError unless the bytes seen are the manifest's. Readers read one byte
   * past the expected size, so a file that grew is seen as larger.
   */
  assertMatches(): void {
    const { bytes, sha256 } = this.expected;
    if (this.seen > bytes) throw new SourceChangedError(this.expected, `grew past the ${bytes} B it had when hashed`);
    if (this.seen < bytes) throw new SourceChangedError(this.expected, `is now ${this.seen} B, it was ${bytes} B when hashed`);
    const got = this.hash.digest('hex');
    if (got !== sha256) throw new SourceChangedError(this.expected, `has the same size but sha256 ${got}, it was ${sha256} when hashed`);
  }
}
