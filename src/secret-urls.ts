/**
 * URLs that may carry secrets (webhooks, Triton's metrics endpoint): `user:pass@` moves into a
 * Basic Authorization header, as curl sends it, since Node's fetch refuses such a URL outright;
 * logs and diagnostics show only the origin, since a token can sit in the userinfo, the path or
 * the query, and fetch quotes the whole URL in its errors.
 */

/** The URL's origin; schemes without one (file:, data:) show the scheme alone. */
export function urlOrigin(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.origin === 'null' ? parsed.protocol : parsed.origin;
  } catch {
    return 'invalid-url';
  }
}

/** An error's text for a log or a diagnostics field, every URL in it cut to its origin. */
export function describeFetchError(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}` : String(err);
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s'"<>]+/gi, (url) => urlOrigin(url));
}

/** Moves `user:pass@` out of the URL into a Basic Authorization header (decoded, as curl sends it). */
export function splitCredentials(raw: string): { url: string; authorization: string | undefined } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { url: raw, authorization: undefined };
  }
  if (url.username === '' && url.password === '') return { url: raw, authorization: undefined };
  const credentials = `${decoded(url.username)}:${decoded(url.password)}`;
  url.username = '';
  url.password = '';
  return { url: url.href, authorization: `Basic ${Buffer.from(credentials).toString('base64')}` };
}

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
