/**
 * `triton-gateway ops diagnose <url>`: fetches /debug/diagnostics with the admin token and prints
 * a readable summary with what looks wrong (diagnose-report.ts).
 */
import { expectPositionals, parse } from './args.js';
import { DEFAULT_LIMITS, diagnose, renderReport } from './diagnose-report.js';
import { CliError, EXIT, UsageError, line, type CliIo } from './io.js';

export const DIAGNOSE_USAGE = `Usage: triton-gateway ops diagnose <gateway-url> [options]

Reads <gateway-url>/debug/diagnostics and prints a summary of the process, the Triton targets,
the models, GPUs, breakers and recent errors, then what looks wrong: models not ready, targets
down, open breakers, GPU memory over ${DEFAULT_LIMITS.gpuMemoryPercent}%, stale Triton metrics, event-loop delay p99 over
${DEFAULT_LIMITS.eventLoopDelayMs} ms, recent gateway or upstream errors (5xx, overloaded), draining. Client errors (a
refused API key, an unknown model) are listed but do not count.

Options:
  --token <token>         admin token (default $GATEWAY_ADMIN_TOKEN)
  --stale-seconds <n>     a Triton metrics scrape older than this is stale (default ${DEFAULT_LIMITS.staleSeconds})
  --timeout-ms <n>        HTTP timeout (default 10000)
  --json                  print the raw diagnostics JSON and the findings
  -h, --help              this help

Exit: 0 nothing looks wrong, 3 something does, 1 the gateway could not be read, 2 bad usage.`;

export async function diagnoseCommand(io: CliIo, argv: string[]): Promise<number> {
  const p = parse(io, argv, { token: { type: 'string' }, 'stale-seconds': { type: 'string' }, 'timeout-ms': { type: 'string' }, json: { type: 'boolean' } }, DIAGNOSE_USAGE);
  if (!p) return EXIT.ok;
  const [base] = expectPositionals(p, ['gateway-url'], DIAGNOSE_USAGE);
  let url: URL;
  try {
    url = new URL(base!);
  } catch {
    throw new UsageError(`not a URL: '${base}'`, DIAGNOSE_USAGE);
  }
  if (!url.pathname.endsWith('/debug/diagnostics')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/debug/diagnostics`;
  const token = p.values.token ?? io.env.GATEWAY_ADMIN_TOKEN;
  if (!token) throw new UsageError('no admin token: pass --token or set GATEWAY_ADMIN_TOKEN', DIAGNOSE_USAGE);
  const staleSeconds = Number(p.values['stale-seconds'] ?? DEFAULT_LIMITS.staleSeconds);
  const timeoutMs = Number(p.values['timeout-ms'] ?? 10_000);
  if (!(staleSeconds > 0)) throw new UsageError('--stale-seconds must be a positive number', DIAGNOSE_USAGE);
  // A timer takes whole milliseconds up to 2^31 - 1; anything else would fail inside the request.
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 2_147_483_647) {
    throw new UsageError('--timeout-ms must be a whole number of milliseconds from 1 to 2147483647', DIAGNOSE_USAGE);
  }

  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new CliError(`cannot reach ${url.origin}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`);
  }
  try {
    // The timeout covers the body too: a gateway that stalls half-way through is a failure, not a crash.
    text = await res.text();
  } catch (err) {
    throw new CliError(`${url.href} stopped answering: ${(err as Error).name === 'TimeoutError' ? `no whole answer within ${timeoutMs} ms` : (err as Error).message}`);
  }
  if (res.status === 401) throw new CliError(`${url.href} answered 401: the admin token was refused`);
  if (!res.ok) throw new CliError(`${url.href} answered ${res.status}: ${text.slice(0, 300)}`);
  let snapshot: unknown;
  try {
    snapshot = JSON.parse(text);
  } catch {
    throw new CliError(`${url.href} did not answer JSON`);
  }
  const report = diagnose(snapshot, { ...DEFAULT_LIMITS, staleSeconds });
  if (p.values.json) line(io, JSON.stringify({ diagnostics: snapshot, findings: report.findings }, null, 2));
  else io.stdout(renderReport(report));
  return report.findings.length > 0 ? EXIT.findings : EXIT.ok;
}
