import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { channelOptions, grpcTargets } from '../../../src/triton/channel.js';

describe('grpcTargets', () => {
  it('an IPv4 address list becomes one ipv4: target (one channel, round_robin over both)', () => {
    assert.deepEqual(grpcTargets('127.0.0.1:8001, 10.0.0.2:9001'), ['ipv4:127.0.0.1:8001,10.0.0.2:9001']);
  });

  it('an IPv6 address list becomes one ipv6: target', () => {
    assert.deepEqual(grpcTargets('[::1]:8001,[fe80::1]:8002'), ['ipv6:[::1]:8001,[fe80::1]:8002']);
  });

  it('one host name resolves through dns:///', () => {
    assert.deepEqual(grpcTargets('triton.default.svc:8001'), ['dns:///triton.default.svc:8001']);
  });

  it('several host names become one dns:/// channel each', () => {
    assert.deepEqual(grpcTargets('a:8001,b:8002'), ['dns:///a:8001', 'dns:///b:8002']);
  });

  it('the port defaults to Triton’s 8001', () => {
    assert.deepEqual(grpcTargets('triton'), ['dns:///triton:8001']);
    assert.deepEqual(grpcTargets('127.0.0.1'), ['ipv4:127.0.0.1:8001']);
  });

  it('gRPC URIs pass through untouched', () => {
    for (const t of ['dns:///triton-headless:8001', 'ipv4:1.2.3.4:5,1.2.3.5:5', 'unix:/tmp/t.sock', 'dns://8.8.8.8/x:1']) {
      assert.deepEqual(grpcTargets(t), [t]);
    }
  });

  it('rejects empty targets and bad ports', () => {
    assert.throws(() => grpcTargets(' '), /empty/);
    assert.throws(() => grpcTargets('host:0'), /bad port/);
    assert.throws(() => grpcTargets('host:http'), /bad port/);
  });
});

describe('channelOptions', () => {
  it('sets round_robin, keepalive and 64 MiB message limits by default', () => {
    const o = channelOptions();
    assert.deepEqual(JSON.parse(o['grpc.service_config'] as string), { loadBalancingConfig: [{ round_robin: {} }] });
    assert.equal(o['grpc.keepalive_time_ms'], 60_000);
    assert.equal(o['grpc.keepalive_timeout_ms'], 20_000);
    assert.equal(o['grpc.keepalive_permit_without_calls'], 1);
    assert.equal(o['grpc.max_receive_message_length'], 64 * 1024 * 1024);
    assert.equal(o['grpc.max_send_message_length'], 64 * 1024 * 1024);
  });

  it('takes the configured keepalive and size', () => {
    const o = channelOptions({ keepaliveMs: 5000, maxMessageBytes: 1024 });
    assert.equal(o['grpc.keepalive_time_ms'], 5000);
    assert.equal(o['grpc.max_receive_message_length'], 1024);
  });
});
