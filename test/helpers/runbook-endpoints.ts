/**
 * The HTTP calls a runbook tells on-call to make: every `curl` command in a Markdown file, with
 * its method, the base it targets (`$GATEWAY_URL`, `$TRITON_HTTP_URL`, ...), its path and its
 * headers. The ops tests check each call against the gateway's route list; the contract test
 * checks the same calls against the real app's route table.
 *
 * Runbooks write URLs as "$BASE_VAR/path" so that one command works against a port-forward, a
 * Service or the local stack; path segments that are variables (`$MODEL`, `${MODEL}`) stand for
 * route parameters.
 */

export interface CurlCall {
  method: string;
  /** The variable the URL starts with (`GATEWAY_URL`), or the literal origin. */
  base: string;
  /** The path with variable segments written as `:VAR`, query string removed. */
  path: string;
  headers: string[];
  /** 1-based line of the command in the file. */
  line: number;
  command: string;
}

/** Splits a shell command line into words, honouring single and double quotes (no expansion). */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < command.length) current += command[++i];
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else if (c === '\\' && i + 1 < command.length) {
      current += command[++i];
      inWord = true;
    } else if (c === '|' || c === ';' || c === '&' || c === '>' || c === ')') {
      // The rest of a pipeline or list is not part of this curl command.
      break;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

const DATA_FLAGS = new Set(['-d', '--data', '--data-raw', '--data-binary', '--json', '-F', '--form']);
const FLAGS_WITH_VALUE = new Set([
  '-X', '--request', '-H', '--header', '-o', '--output', '-w', '--write-out', '-m', '--max-time',
  '-u', '--user', '--data-urlencode', '--connect-timeout', '--retry', ...DATA_FLAGS,
]);

function parseUrl(word: string): { base: string; path: string } | undefined {
  const variable = /^\$\{?([A-Z][A-Z0-9_]*)\}?(\/[^?#]*)?/.exec(word);
  if (variable) return { base: variable[1]!, path: variable[2] ?? '/' };
  const literal = /^(https?:\/\/[^/?#]+)(\/[^?#]*)?/.exec(word);
  if (literal) return { base: literal[1]!, path: literal[2] ?? '/' };
  return undefined;
}

function normalisePath(path: string): string {
  return path
    .split('/')
    .map((segment) => segment.replace(/^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/, ':$1'))
    .join('/');
}

/** Every curl call in a Markdown (or shell) text. */
export function extractCurlCalls(text: string): CurlCall[] {
  const calls: CurlCall[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let command = lines[i]!;
    while (command.endsWith('\\') && i + 1 < lines.length) command = command.slice(0, -1) + ' ' + lines[++i];
    let at = command.search(/(?:^|[\s(`$'"])curl\s/);
    while (at !== -1) {
      const curlAt = command.indexOf('curl', at);
      const fromCurl = command.slice(curlAt);
      const words = shellWords(fromCurl).slice(1);
      let method: string | undefined;
      let hasData = false;
      let get = false;
      const headers: string[] = [];
      let url: { base: string; path: string } | undefined;
      for (let w = 0; w < words.length; w++) {
        const word = words[w]!;
        if (word === '-X' || word === '--request') method = words[++w]?.toUpperCase();
        else if (word === '-H' || word === '--header') headers.push(words[++w] ?? '');
        else if (DATA_FLAGS.has(word)) {
          hasData = true;
          w++;
        } else if (word === '-G' || word === '--get') get = true;
        else if (FLAGS_WITH_VALUE.has(word)) w++;
        else if (/^-[A-Za-z]+$/.test(word) && word.includes('G')) get = true;
        else if (!word.startsWith('-') && url === undefined) url = parseUrl(word);
      }
      if (url) {
        calls.push({
          method: method ?? (get ? 'GET' : hasData ? 'POST' : 'GET'),
          base: url.base,
          path: normalisePath(url.path),
          headers,
          line: start + 1,
          command: fromCurl.trim(),
        });
      }
      const next = command.slice(curlAt + 4).search(/[\s(`$'"]curl\s/);
      at = next === -1 ? -1 : curlAt + 4 + next;
    }
  }
  return calls;
}

export interface RouteSpec {
  method: string;
  /** Route template with `:param` segments, as Fastify writes them. */
  path: string;
}

/**
 * The route a call reaches: a `:param` segment of the template matches any one segment, a final
 * `*` matches the rest of the path (one segment or more).
 */
export function matchRoute<R extends RouteSpec>(routes: readonly R[], method: string, path: string): R | undefined {
  const segments = path.split('/');
  return routes.find((route) => {
    if (route.method !== method) return false;
    const template = route.path.split('/');
    if (template.at(-1) === '*') {
      const prefix = template.slice(0, -1);
      return segments.length > prefix.length && segments.at(-1) !== '' && prefix.every((t, i) => t.startsWith(':') || t === segments[i]);
    }
    return template.length === segments.length && template.every((t, i) => t.startsWith(':') || t === segments[i]);
  });
}
