/**
 * Triton's statistics durations are cumulative uint64 nanoseconds and pass 2^53 on a busy server
 * (~104 days of summed request time). The generated decoder must read them exactly, as decimal
 * strings (`jstype = JS_STRING` in proto/), instead of throwing or rounding.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelStatisticsResponse } from '../../../../src/triton/generated/grpc_service.js';

test('a statistics duration above 2^53 ns round-trips exactly', () => {
  const ns = (2n ** 53n + 3n).toString();
  const bytes = ModelStatisticsResponse.encode(ModelStatisticsResponse.fromPartial({
    modelStats: [{ name: 'ensemble', version: '1', inferenceStats: { success: { count: 12, ns }, queue: { count: 12, ns: '18446744073709551615' } } }],
  })).finish();
  const decoded = ModelStatisticsResponse.decode(bytes);
  assert.equal(decoded.modelStats[0]?.inferenceStats?.success?.ns, ns);
  assert.equal(decoded.modelStats[0]?.inferenceStats?.queue?.ns, '18446744073709551615');
  assert.equal(decoded.modelStats[0]?.inferenceStats?.success?.count, 12);
});
