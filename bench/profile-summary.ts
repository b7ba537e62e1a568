/**
 * Summarises a .cpuprofile: self time per area and the top functions.
 *
 *   npx tsx bench/profile-summary.ts FILE.cpuprofile [--since-ms N] [--top N] [--json]
 *
 * `--since-ms` skips the first N ms of the profile (start-up and module loading).
 */
import { profileMarkdown, readProfile, summarizeProfile } from './lib/cpu-profile.js';
import { parseCommandLine } from './lib/command-line.js';

const { values, positionals } = parseCommandLine({
  options: { 'since-ms': { type: 'string', default: '0' }, top: { type: 'string', default: '25' }, json: { type: 'boolean', default: false } },
  allowPositionals: true,
}, 'usage: tsx bench/profile-summary.ts FILE.cpuprofile [--since-ms N] [--top N] [--json]');
if (positionals.length === 0) {
  process.stderr.write('usage: tsx bench/profile-summary.ts FILE.cpuprofile [--since-ms N] [--top N] [--json]\n');
  process.exit(2);
}
for (const file of positionals) {
  const summary = summarizeProfile(readProfile(file), { sinceMs: Number(values['since-ms']), top: Number(values.top) });
  process.stdout.write(values.json ? `${JSON.stringify(summary, null, 2)}\n` : `${profileMarkdown(summary, file)}\n`);
}
