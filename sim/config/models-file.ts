/** Reading the simulator's YAML file (format in sim/README.md). */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { SimModelConfig } from '../types.js';
import { parseOrThrow, simFileSchema, type SimFile } from './schema.js';

export function loadSimFile(path: string): SimFile {
  let doc: unknown;
  try {
    doc = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read simulator models file ${path}: ${(err as Error).message}`);
  }
  return parseOrThrow(simFileSchema, doc, `simulator models file ${path}`);
}

export function loadModelsFile(path: string): SimModelConfig[] {
  return loadSimFile(path).models as SimModelConfig[];
}
