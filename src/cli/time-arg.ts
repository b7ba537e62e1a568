/**
 * Times on the command line: an ISO 8601 time with a zone (2025-11-18T14:30:00Z), `now`, or a
 * time relative to now: `-15m`, `15m ago`, `-2h`, `-1d`, `-30s`. A time without a zone is
 * refused: incident times are compared across people in different zones.
 */
import { CliError } from './io.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseTime(value: string, now: Date, what: string): Date {
  const v = value.trim();
  if (v === 'now') return now;
  const rel = /^(?:-(\d+(?:\.\d+)?)([smhd])|(\d+(?:\.\d+)?)\s*([smhd])\s+ago)$/.exec(v);
  if (rel) {
    const n = Number(rel[1] ?? rel[3]);
    const unit = (rel[2] ?? rel[4])!;
    return new Date(now.getTime() - n * UNIT_MS[unit]!);
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v)) {
    const d = new Date(v);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new CliError(`${what}: '${value}' is not a time: use ISO 8601 with a zone (2025-11-18T14:30:00Z), 'now', or '-15m' / '15m ago'`, 2);
}
