/**
 * gRPC channels to one Triton target (DESIGN §5: several replicas per target, round_robin,
 * keepalive, raised message limits).
 *
 * A target is either a gRPC URI (`dns:///triton:8001`, `ipv4:10.0.0.1:8001,10.0.0.2:8001`,
 * `unix:/run/triton.sock`) passed as is, or a comma-separated address list `host:port,...`:
 * - all IPv4 (or all IPv6) literals: one channel over grpc-js's `ipv4:` (`ipv6:`) address list;
 * - one host name: one channel over `dns:///host:port` (every A/AAAA record is a replica);
 * - several host names: one `dns:///` channel per name, and the client rotates between them
 *   (grpc-js has no resolver for a list of names).
 * Every channel balances `round_robin` over its addresses.
 *
 * Keepalive pings also flow while no call is open, so a dead replica is noticed before a request
 * lands on it. Triton (like any gRPC C++ server) answers pings more frequent than its
 * `--grpc-http2-min-recv-ping-interval-without-data` (default 5 min), or pings without calls
 * unless `--grpc-keepalive-permit-without-calls=1`, with a `too_many_pings` GOAWAY, after which
 * grpc-js doubles its interval. Start Triton with matching flags.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { Channel, credentials, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';

const DEFAULT_TRITON_GRPC_PORT = 8001;
const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export interface TlsOptions {
  rootCerts?: Buffer;
  privateKey?: Buffer;
  certChain?: Buffer;
}

export interface ChannelSettings {
  /** Keepalive ping interval (grpc.keepalive_time_ms). Default 60 s. */
  keepaliveMs?: number;
  /** How long to wait for a ping ack before the connection counts as dead. Default 20 s. */
  keepaliveTimeoutMs?: number;
  /** Max send and receive message size. Default 64 MiB (logits can be large). */
  maxMessageBytes?: number;
  /** TLS instead of plaintext; `true` uses the system roots. */
  tls?: boolean | TlsOptions;
}

const URI_SCHEME = /^(dns|ipv4|ipv6|unix|unix-abstract|vsock):/;
/** Any other `scheme://` (http, https, grpc...): grpc-js would read it as a host name and never connect. */
const FOREIGN_SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
const HOST_NAME = /^[A-Za-z0-9._-]+$/;

interface HostPort {
  host: string;
  port: number;
}

function parseHostPort(entry: string): HostPort {
  // [v6]:port, [v6], v4:port, name:port, name, bare v6 literal
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed !== null) {
    if (!isIPv6(bracketed[1]!)) throw new Error(`invalid Triton address '${entry}': not an IPv6 address in brackets`);
    return checkedPort(entry, bracketed[1]!, bracketed[2] ?? String(DEFAULT_TRITON_GRPC_PORT));
  }
  if (isIPv6(entry)) return { host: entry, port: DEFAULT_TRITON_GRPC_PORT };
  const colon = entry.lastIndexOf(':');
  const host = colon === -1 ? entry : entry.slice(0, colon);
  if (!HOST_NAME.test(host)) throw new Error(`invalid Triton address '${entry}': bad host name '${host}'`);
  return checkedPort(entry, host, colon === -1 ? String(DEFAULT_TRITON_GRPC_PORT) : entry.slice(colon + 1));
}

function checkedPort(entry: string, host: string, text: string): HostPort {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port <= 0 || port > 65535) throw new Error(`invalid Triton address '${entry}': bad port`);
  return { host, port };
}

/**
 * The grpc-js target URIs for a target string: one per channel (see the file comment). Throws on
 * an address that cannot work; config validation calls it too, so a bad address is refused at
 * start-up with the other config problems.
 */
export function grpcTargets(target: string): string[] {
  const trimmed = target.trim();
  if (trimmed === '') throw new Error('empty Triton target');
  if (URI_SCHEME.test(trimmed)) return [trimmed];
  // `user:password@` has no meaning to gRPC. It is refused without quoting the address, which
  // would put the password on stderr and in the container's logs.
  if (trimmed.includes('@')) {
    throw new Error(`invalid Triton address '${trimmed.replace(/[^\s,/@]*@/g, '')}' (as given, less its user and password): a gRPC target carries no credentials; drop them`);
  }
  const foreign = FOREIGN_SCHEME.exec(trimmed);
  if (foreign !== null) {
    throw new Error(`invalid Triton address '${target}': a gRPC target has no ${foreign[1]}:// scheme; drop it ('${trimmed.slice(foreign[0].length)}')`);
  }
  const entries = trimmed
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
    .map(parseHostPort);
  if (entries.length === 0) throw new Error(`no addresses in Triton target '${target}'`);
  if (entries.every((e) => isIPv4(e.host))) return [`ipv4:${entries.map((e) => `${e.host}:${e.port}`).join(',')}`];
  if (entries.every((e) => isIPv6(e.host))) return [`ipv6:${entries.map((e) => `[${e.host}]:${e.port}`).join(',')}`];
  return entries.map((e) => `dns:///${isIPv6(e.host) ? `[${e.host}]` : e.host}:${e.port}`);
}

export function channelOptions(settings: ChannelSettings = {}): ChannelOptions {
  const maxBytes = settings.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  return {
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    'grpc.keepalive_time_ms': settings.keepaliveMs ?? 60_000,
    'grpc.keepalive_timeout_ms': settings.keepaliveTimeoutMs ?? 20_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_receive_message_length': maxBytes,
    'grpc.max_send_message_length': maxBytes,
    // A restarted replica should be retried within seconds, not grpc-js's default two minutes.
    'grpc.max_reconnect_backoff_ms': 10_000,
  };
}

export function channelCredentials(tls: ChannelSettings['tls']): ChannelCredentials {
  if (tls === undefined || tls === false) return credentials.createInsecure();
  if (tls === true) return credentials.createSsl();
  return credentials.createSsl(tls.rootCerts ?? null, tls.privateKey ?? null, tls.certChain ?? null);
}

export function createChannels(target: string, settings: ChannelSettings = {}, creds = channelCredentials(settings.tls)): Channel[] {
  const options = channelOptions(settings);
  return grpcTargets(target).map((uri) => new Channel(uri, creds, options));
}
