/**
 * An S3-compatible server for tests: s3rver in this process on 127.0.0.1 (a random port), one
 * bucket, files under `dir`, and an @aws-sdk client for it with s3rver's fixed credentials.
 */
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

export interface LocalS3 {
  endpoint: string;
  s3: S3Client;
  /** The environment the CLI's S3 destination reads its credentials from. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startLocalS3(dir: string, bucket: string): Promise<LocalS3> {
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: join(dir, 's3rver'), configureBuckets: [{ name: bucket, configs: [] }] });
  const endpoint = `http://127.0.0.1:${(await server.run()).port}`;
  const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  return {
    endpoint,
    s3,
    env: { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' },
    async close() {
      s3.destroy();
      await server.close();
    },
  };
}
