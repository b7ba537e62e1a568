/**
 * The jq filters runbooks pipe `/admin/events` into, evaluated in the test process: CI does not
 * install jq (`.ci/run`), and the check must not skip there. Only the shape runbooks use is
 * understood — `.events[] | {name, name: (.path // .path ...), ...}`, optionally after
 * `select(.path == "text") |` stages — with jq's meaning (a missing field is null; `a // b` is b
 * when a is null or false; select keeps the events whose field equals the string). Anything else
 * throws, so a runbook that outgrows it fails loudly instead of being checked wrongly.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One output column: its name and the paths tried in order (`//`). */
interface Column {
  name: string;
  paths: string[][];
}

const IDENT = '[A-Za-z_][A-Za-z0-9_]*';
const PATH = `\\.${IDENT}(?:\\.${IDENT})*`;

function parsePath(text: string, filter: string): string[] {
  if (!new RegExp(`^${PATH}$`).test(text)) throw new Error(`unsupported jq path "${text}" in: ${filter}`);
  return text.slice(1).split('.');
}

function parseColumn(text: string, filter: string): Column {
  if (new RegExp(`^${IDENT}$`).test(text)) return { name: text, paths: [[text]] };
  const named = new RegExp(`^(${IDENT})\\s*:\\s*\\(?([^()]*?)\\)?$`).exec(text);
  if (!named) throw new Error(`unsupported jq object entry "${text}" in: ${filter}`);
  return { name: named[1]!, paths: named[2]!.split('//').map((p) => parsePath(p.trim(), filter)) };
}

/** Splits on top-level commas (entries may hold parenthesised alternatives). */
function splitEntries(body: string): string[] {
  const entries: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of body) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      entries.push(current.trim());
      current = '';
    } else current += c;
  }
  if (current.trim()) entries.push(current.trim());
  return entries;
}

/** One `select(.path == "text")` stage. */
interface Selection {
  path: string[];
  equals: string;
}

function parseSelection(text: string, filter: string): Selection {
  const m = new RegExp(`^select\\(\\s*(${PATH})\\s*==\\s*"([^"\\\\]*)"\\s*\\)$`).exec(text);
  if (!m) throw new Error(`unsupported jq stage "${text}" in: ${filter}`);
  return { path: parsePath(m[1]!, filter), equals: m[2]! };
}

export interface EventProjection {
  columns: string[];
  /** Whether an event passes the filter's select stages (the rows of apply are of these events). */
  keeps(event: unknown): boolean;
  /** The rows jq would print for a parsed JSON response. */
  apply(response: unknown): Array<Record<string, Json>>;
}

export function parseEventProjection(filter: string): EventProjection {
  const m = /^\.events\[\]\s*\|\s*((?:select\([^|]*\)\s*\|\s*)*)\{(.*)\}$/.exec(filter.trim());
  if (!m) throw new Error(`unsupported jq filter (expected ".events[] | {...}"): ${filter}`);
  const selections = m[1]!.split('|').map((stage) => stage.trim()).filter(Boolean).map((stage) => parseSelection(stage, filter));
  const columns = splitEntries(m[2]!).map((e) => parseColumn(e, filter));
  const read = (value: Json, path: string[]): Json => {
    let at: Json = value;
    for (const key of path) {
      if (at === null) return null;
      if (typeof at !== 'object' || Array.isArray(at)) throw new Error(`jq: cannot index ${typeof at} with "${key}"`);
      at = at[key] ?? null;
    }
    return at;
  };
  const keeps = (event: unknown): boolean => selections.every((s) => read(event as Json, s.path) === s.equals);
  return {
    columns: columns.map((c) => c.name),
    keeps,
    apply(response) {
      const events = (response as { events?: Json }).events;
      if (!Array.isArray(events)) throw new Error('jq: .events is not an array');
      return events.filter(keeps).map((event) => {
        const row: Record<string, Json> = {};
        for (const column of columns) {
          let value: Json = null;
          for (const path of column.paths) {
            value = read(event, path);
            if (value !== null && value !== false) break;
          }
          row[column.name] = value;
        }
        return row;
      });
    },
  };
}
