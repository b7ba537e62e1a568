/**
 * The switch that keeps the AWS SDK's NodeVersionSupportWarning out of the backup commands
 * (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED) is set only while S3Store constructs its
 * client: the environment is as it was afterwards, and a value the user set is left alone. (That
 * the warning is gone is checked through the bin in test/integration/backup-s3-destination.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { S3Store } from '../../../../src/governance/backup/s3-store.js';

const SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

test('the environment is unchanged after the client is built', () => {
  delete process.env[SWITCH];
  new S3Store('s3://model-backups/x', { endpoint: 'http://127.0.0.1:1' }).close();
  assert.equal(process.env[SWITCH], undefined);
  process.env[SWITCH] = 'false';
  try {
    new S3Store('s3://model-backups/x', { endpoint: 'http://127.0.0.1:1' }).close();
    assert.equal(process.env[SWITCH], 'false');
  } finally {
    delete process.env[SWITCH];
  }
});
