/**
 * Incident arithmetic. Each duration is between two recorded times and is null while either is
 * missing (never computed from a time that was not set):
 *   time to detect   = detected − started
 *   time to mitigate = mitigated − detected
 *   time to resolve  = resolved − detected
 *   impact duration  = mitigated − started (resolved − started when no mitigation was recorded)
 */
import type { Incident } from './incident-log.js';

const diff = (from: Date | null, to: Date | null): number | null => (from && to ? to.getTime() - from.getTime() : null);

export function timeToDetectMs(inc: Incident): number | null {
  return diff(inc.startedAt, inc.detectedAt);
}

export function timeToMitigateMs(inc: Incident): number | null {
  return diff(inc.detectedAt, inc.mitigatedAt);
}

export function timeToResolveMs(inc: Incident): number | null {
  return diff(inc.detectedAt, inc.resolvedAt);
}

export function impactDurationMs(inc: Incident): number | null {
  return diff(inc.startedAt, inc.mitigatedAt ?? inc.resolvedAt);
}

/** 0s, 45s, 12m 05s, 2h 03m, 1d 4h 10m. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  const sign = ms < 0 ? '-' : '';
  let s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (d > 0) return `${sign}${d}d ${h}h ${pad(m)}m`;
  if (h > 0) return `${sign}${h}h ${pad(m)}m`;
  if (m > 0) return `${sign}${m}m ${pad(s)}s`;
  return `${sign}${s}s`;
}
