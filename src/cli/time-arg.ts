/**
 * Times on the command line: an ISO 8601 time with a zone (2025-11-18T14:30:00Z), `now`, or a
 * time relative to now: `-15m`, `15m ago`, `-2h`, `-1d`, `-30s`. A time without a zone is
 * refused: incident times are compared across people in different zones. So is a time that
 * does not exist (2025-02-30, 10:61): Date would roll it over into another day and the
 * incident would be recorded, and named, with that day.
 */
import { CliError, EXIT } from './io.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):(\d{2}))$/;
const FORMS = `use ISO 8601 with a zone (2025-11-18T14:30:00Z), 'now', or '-15m' / '15m ago'`;

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Whether every field of an ISO match is in range (Date takes day 31 of any month, hour 24). */
function exists(m: RegExpExecArray): boolean {
  // Seconds and the zone's offset are optional: absent reads as 0.
  const [year, month, day, hour, minute, second, zoneHours, zoneMinutes] = m.slice(1, 9).map((f) => Number(f ?? 0)) as [number, number, number, number, number, number, number, number];
  return month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month) && hour <= 23 && minute <= 59 && second <= 59 && zoneHours <= 23 && zoneMinutes <= 59;
}

export function parseTime(value: string, now: Date, what: string): Date {
  const v = value.trim();
  if (v === 'now') return now;
  const rel = /^(?:-(\d+(?:\.\d+)?)([smhd])|(\d+(?:\.\d+)?)\s*([smhd])\s+ago)$/.exec(v);
  if (rel) {
    const n = Number(rel[1] ?? rel[3]);
    const unit = (rel[2] ?? rel[4])!;
    const d = new Date(now.getTime() - n * UNIT_MS[unit]!);
    if (Number.isNaN(d.getTime())) throw new CliError(`${what}: '${value}' is too far back to be a time`, EXIT.usage);
    return d;
  }
  const iso = ISO.exec(v);
  if (iso) {
    const d = new Date(v);
    if (!exists(iso)) throw new CliError(`${what}: '${value}' is not a date and time that exists (a day, month, hour, minute or second out of range)`, EXIT.usage);
    return d;
  }
  throw new CliError(`${what}: '${value}' is not a time: ${FORMS}`, EXIT.usage);
}
