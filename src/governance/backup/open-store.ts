/** A destination string to its store: `s3://bucket/prefix` or a local directory. */
import { resolve } from 'node:path';
import { LocalStore } from './local-store.js';
import { S3Store, type S3Options } from './s3-store.js';
import type { BackupStore } from './store.js';

export function openStore(destination: string, s3: S3Options = {}): BackupStore {
  if (destination.startsWith('s3://')) return new S3Store(destination, s3);
  const problem = destinationProblem(destination);
  if (problem !== undefined) throw new Error(problem);
  return new LocalStore(resolve(destination));
}

/** Why a destination cannot be used (a scheme other than s3://), checked before any work starts. */
export function destinationProblem(destination: string): string | undefined {
  if (destination.startsWith('s3://') || !/^[a-z][a-z0-9+.-]*:\/\//i.test(destination)) return undefined;
  return `unsupported destination '${destination}': use a directory or s3://bucket/prefix`;
}

/** S3 settings from the environment; flags given on the command line win. */
export function s3OptionsFromEnv(env: Record<string, string | undefined>, endpointFlag?: string): S3Options {
  return {
    endpoint: endpointFlag ?? env.S3_ENDPOINT ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    sessionToken: env.AWS_SESSION_TOKEN,
  };
}
