import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { TritonClient } from '../../../src/triton/client.js';
import { freePort } from '../../helpers/free-port.js';
import { GatewayError } from '../../../src/errors.js';
import { fromGrpcError, fromGrpcStatus, fromStreamErrorMessage, stripTritonPrefixes } from '../../../src/triton/status-map.js';

interface Row {
  code: number;
  message: string;
  expect: string;
  httpStatus: number;
  retryable: boolean;
  upstreamFault: boolean;
}

const grpcRows: Row[] = [
  { code: status.UNAVAILABLE, message: 'Server not ready', expect: 'upstream_unavailable', httpStatus: 503, retryable: true, upstreamFault: true },
  { code: status.UNAVAILABLE, message: '[request id: abc] Exceeds maximum queue size', expect: 'upstream_overloaded', httpStatus: 503, retryable: true, upstreamFault: true },
  { code: status.INTERNAL, message: "in ensemble 'ensemble', Executor failed process requestId 4 due to the following error: Maximum queue size of 8 has been reached", expect: 'upstream_overloaded', httpStatus: 503, retryable: true, upstreamFault: true },
  { code: status.DEADLINE_EXCEEDED, message: 'Deadline exceeded after 1.002s', expect: 'upstream_timeout', httpStatus: 504, retryable: true, upstreamFault: true },
  { code: status.INVALID_ARGUMENT, message: "[request id: 1] unexpected shape for input 'max_tokens' for model 'ensemble'. Expected [-1,1], got [1]. ", expect: 'upstream_config_mismatch', httpStatus: 502, retryable: true, upstreamFault: true },
  { code: status.INVALID_ARGUMENT, message: 'Prompt length (9000) exceeds maximum input length (8192).', expect: 'context_length_exceeded', httpStatus: 400, retryable: false, upstreamFault: false },
  { code: status.INTERNAL, message: "in ensemble 'ensemble', [request id: 7] Prompt length (9000) exceeds maximum input length (8192). Set log level to info and check TRTGptModel logs for how maximum input length is set", expect: 'context_length_exceeded', httpStatus: 400, retryable: false, upstreamFault: false },
  // The gateway sends Triton only models it serves: Triton not knowing one is Triton's outage.
  { code: status.NOT_FOUND, message: "Request for unknown model: 'llama' is not found", expect: 'model_not_ready', httpStatus: 503, retryable: true, upstreamFault: true },
  { code: status.INVALID_ARGUMENT, message: "Request for unknown model: 'llama' is not found", expect: 'model_not_ready', httpStatus: 503, retryable: true, upstreamFault: true },
  { code: status.NOT_FOUND, message: "Request for unknown model: 'llama' version 7 is not found", expect: 'model_not_ready', httpStatus: 503, retryable: true, upstreamFault: true },
  { code: status.NOT_FOUND, message: "Request for unknown model: 'llama' has no available versions", expect: 'model_not_ready', httpStatus: 503, retryable: true, upstreamFault: true },
  { code: status.UNAVAILABLE, message: "Request for unknown model: 'llama' version 2 is not at ready state", expect: 'model_not_ready', httpStatus: 503, retryable: true, upstreamFault: true },
  { code: status.INTERNAL, message: 'Executor failed process requestId 4 due to the following error: CUDA out of memory', expect: 'upstream_internal', httpStatus: 502, retryable: true, upstreamFault: true },
  { code: status.UNKNOWN, message: 'boom', expect: 'upstream_internal', httpStatus: 502, retryable: true, upstreamFault: true },
  { code: status.UNIMPLEMENTED, message: "ModelInfer RPC doesn't support models with decoupled transaction policy", expect: 'upstream_unimplemented', httpStatus: 501, retryable: false, upstreamFault: false },
  { code: status.CANCELLED, message: 'Cancelled on client', expect: 'client_cancelled', httpStatus: 499, retryable: false, upstreamFault: false },
  { code: status.RESOURCE_EXHAUSTED, message: 'Received message larger than max (70000000 vs 67108864)', expect: 'upstream_bad_response', httpStatus: 502, retryable: false, upstreamFault: false },
];

describe("Triton refusing the tensors the gateway built from the model's config", () => {
  it('is an upstream fault that says the config may have changed, whether coded or on a stream', () => {
    const text = "[request id: 1] unexpected shape for input 'max_tokens' for model 'ensemble'. Expected [-1,1], got [1]. ";
    for (const err of [fromGrpcStatus(status.INVALID_ARGUMENT, text), fromStreamErrorMessage(text)]) {
      assert.equal(err.code, 'upstream_config_mismatch');
      assert.equal(err.upstreamFault, true);
      assert.match(err.message, /^Triton refused the tensors built from the model's config \(has its config changed since the gateway read it\?\): \[request id: 1\] unexpected shape/);
    }
    // Any other INVALID_ARGUMENT stays the client's (DESIGN §5).
    assert.equal(fromGrpcStatus(status.INVALID_ARGUMENT, 'bad stop words').code, 'invalid_request');
  });
});

function check(err: GatewayError, row: Pick<Row, 'expect' | 'httpStatus' | 'retryable' | 'upstreamFault' | 'message'>): void {
  assert.ok(err instanceof GatewayError);
  assert.equal(err.code, row.expect);
  assert.equal(err.status, row.httpStatus);
  assert.equal(err.retryable, row.retryable);
  assert.equal(err.upstreamFault, row.upstreamFault);
  // Triton's own words stay in the message (for on-call), prefixes included; a prompt too long is
  // the client's to fix, and its message is Triton's sentence about the lengths alone.
  if (row.expect === 'context_length_exceeded') assert.ok(row.message.endsWith(err.message) && !/^in ensemble|^\[request id/.test(err.message), err.message);
  else assert.ok(err.message.includes(row.message), err.message);
  // The client reads Triton's words only for its own mistakes; for any other failure, the
  // gateway's sentence for the code, which none of Triton's text reaches.
  const body = err.toBody().error.message;
  if (err.status < 500) assert.equal(body, err.message);
  else assert.ok(!body.includes(row.message) && !body.includes(stripTritonPrefixes(row.message)) && /Triton|model/.test(body), `${row.expect}: ${body}`);
}

describe('what the client is told', () => {
  it("is one fixed sentence per upstream failure's code, whatever Triton said", () => {
    const said = (code: number, text: string) => fromGrpcStatus(code, text).clientMessage;
    assert.equal(said(status.INTERNAL, 'boom at /models/x/1/model.py'), 'Triton failed to serve the request');
    assert.equal(said(status.INTERNAL, 'another failure'), 'Triton failed to serve the request');
    assert.equal(said(status.UNAVAILABLE, 'Server not ready'), 'Triton is unavailable');
    assert.equal(said(status.NOT_FOUND, "Request for unknown model: 'llama' is not found"), 'The model is not loaded on Triton');
    assert.equal(said(status.INTERNAL, 'Exceeds maximum queue size'), "Triton's queue for this model is full");
    assert.equal(said(status.DEADLINE_EXCEEDED, 'Deadline exceeded after 1.002s'), 'Triton did not answer in time');
    assert.equal(said(status.RESOURCE_EXHAUSTED, 'Received message larger than max (70000000 vs 67108864)'), "Triton's answer could not be read");
    assert.equal(said(status.INVALID_ARGUMENT, "unexpected shape for input 'max_tokens'"), "Triton refused the tensors built from the model's config (has its config changed since the gateway read it?)");
    assert.equal(fromStreamErrorMessage('Error generating stream: CUDA error at 10.0.0.5').clientMessage, 'Triton failed to serve the request');
    assert.equal(fromGrpcError(new TypeError('bad /srv/triton path')).clientMessage, 'Triton failed to serve the request');
  });

  it("keeps Triton's sentence for the client's own mistakes", () => {
    assert.equal(fromGrpcStatus(status.INVALID_ARGUMENT, 'bad stop words').clientMessage, 'bad stop words');
    assert.equal(fromStreamErrorMessage('Error generating stream: temperature must be non-negative, got -1.').clientMessage, 'Error generating stream: temperature must be non-negative, got -1.');
  });

  it("says 'cannot connect to Triton' without the address grpc-js names", () => {
    const refused = 'round_robin: No connection established. Last error: No connection established. Last error: Error: connect ECONNREFUSED 10.0.0.5:8001. Resolution note: ';
    const err = fromGrpcStatus(status.UNAVAILABLE, refused);
    assert.equal(err.message, 'cannot connect to Triton: connect ECONNREFUSED 10.0.0.5:8001');
    assert.equal(err.clientMessage, 'cannot connect to Triton');
    assert.equal(err.toBody().error.message, 'cannot connect to Triton');
  });
});

describe('fromGrpcStatus (unary calls, closed streams, triton_grpc_error mode)', () => {
  for (const row of grpcRows) {
    it(`${status[row.code]} "${row.message.slice(0, 60)}" -> ${row.expect}`, () => {
      check(fromGrpcStatus(row.code, row.message), row);
    });
  }

  it("says a prompt is too long in the client's terms, without Triton's wrapping", () => {
    const trtllm = "in ensemble 'e', Executor failed process requestId 3 due to the following error: Prompt length (45001) exceeds maximum input length (8192).";
    assert.equal(fromGrpcStatus(status.INTERNAL, trtllm).message, 'Prompt length (45001) exceeds maximum input length (8192).');
    const vllm = "[request id: 9] Error in model execution: This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.";
    assert.equal(fromGrpcStatus(status.INVALID_ARGUMENT, vllm).message, "Error in model execution: This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.");
    assert.equal(fromStreamErrorMessage(trtllm).message, 'Prompt length (45001) exceeds maximum input length (8192).');
  });

  it('gives Retry-After for 503s and names the prompt for context length', () => {
    assert.equal(fromGrpcStatus(status.UNAVAILABLE, 'x').retryAfterSeconds, 1);
    assert.equal(fromGrpcStatus(status.INVALID_ARGUMENT, 'Prompt length (3) exceeds maximum input length (2)').param, 'prompt');
    assert.equal(fromGrpcStatus(status.INTERNAL, 'x').retryAfterSeconds, undefined);
  });

  it('fromGrpcError reads a grpc-js ServiceError', () => {
    const err = Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: status.UNAVAILABLE, details: 'No connection established', metadata: undefined });
    const g = fromGrpcError(err);
    assert.equal(g.code, 'upstream_unavailable');
    assert.equal(g.message, 'cannot connect to Triton');
    assert.equal(g.cause, undefined, "its text is the message (capped); as the cause the log would print it whole");
    assert.equal(fromGrpcError(g), g);
    assert.equal(fromGrpcError(new TypeError('bad')).code, 'upstream_internal');
  });
});

describe('a Triton nobody listens for', () => {
  it("is named by grpc-js's innermost cause, not its nested load-balancer text", async () => {
    const port = await freePort();
    const client = new TritonClient({ target: `127.0.0.1:${port}` });
    try {
      await assert.rejects(client.serverReady(), (err: GatewayError) => {
        assert.equal(err.code, 'upstream_unavailable');
        assert.equal(err.message, `cannot connect to Triton: connect ECONNREFUSED 127.0.0.1:${port}`);
        return true;
      });
    } finally {
      client.close();
    }
  });

  it('keeps a DNS failure as the cause, and any other UNAVAILABLE text as it is', () => {
    const dns = 'pick_first: No connection established. Last error: Error: getaddrinfo ENOTFOUND triton. Resolution note: ';
    assert.equal(fromGrpcStatus(status.UNAVAILABLE, dns).message, 'cannot connect to Triton: getaddrinfo ENOTFOUND triton');
    assert.equal(fromGrpcStatus(status.UNAVAILABLE, 'Server not ready').message, 'Server not ready');
    assert.equal(fromGrpcStatus(status.INTERNAL, 'No connection established').message, 'No connection established');
  });
});

const streamRows: Array<Omit<Row, 'code'>> = [
  { message: '[request id: r-1] Exceeds maximum queue size', expect: 'upstream_overloaded', httpStatus: 503, retryable: true, upstreamFault: true },
  { message: "in ensemble 'ensemble', Maximum queue size of 16 reached", expect: 'upstream_overloaded', httpStatus: 503, retryable: true, upstreamFault: true },
  { message: "in ensemble 'ensemble', Prompt length (5000) exceeds maximum input length (4096).", expect: 'context_length_exceeded', httpStatus: 400, retryable: false, upstreamFault: false },
  { message: "Error generating stream: This model's maximum context length is 4096 tokens. However, you requested 5000 tokens", expect: 'context_length_exceeded', httpStatus: 400, retryable: false, upstreamFault: false },
  { message: "[request id: <id_unknown>] Request for unknown model: 'llama' is not found", expect: 'model_not_ready', httpStatus: 503, retryable: true, upstreamFault: true },
  { message: "Request for unknown model: 'llama' has no available versions", expect: 'model_not_ready', httpStatus: 503, retryable: true, upstreamFault: true },
  { message: "[request id: x] expected 2 inputs but got 1 inputs for model 'm'. Got input(s) ['a'], but missing required input(s) ['b']. Please provide all required input(s).", expect: 'upstream_config_mismatch', httpStatus: 502, retryable: true, upstreamFault: true },
  { message: "unexpected inference input 'foo' for model 'm'", expect: 'upstream_config_mismatch', httpStatus: 502, retryable: true, upstreamFault: true },
  { message: "[request id: x] inference input 'seed' data-type is 'INT64', but model 'm' expects 'UINT64'", expect: 'upstream_config_mismatch', httpStatus: 502, retryable: true, upstreamFault: true },
  { message: 'Server not ready', expect: 'upstream_unavailable', httpStatus: 503, retryable: true, upstreamFault: true },
  { message: 'GRPC server is shutting down and has stopped accepting new requests.', expect: 'upstream_unavailable', httpStatus: 503, retryable: true, upstreamFault: true },
  { message: 'Model is unavailable due to unhealthy vLLM engine', expect: 'upstream_unavailable', httpStatus: 503, retryable: true, upstreamFault: true },
  // Only Triton's own cancel reaches this far (the gateway's own is dropped by the stream reader).
  { message: 'Request was cancelled', expect: 'upstream_unavailable', httpStatus: 503, retryable: true, upstreamFault: true },
  { message: "in ensemble 'ensemble', Executor failed process requestId 9 due to the following error: boom", expect: 'upstream_internal', httpStatus: 502, retryable: true, upstreamFault: true },
  { message: 'Error generating stream: CUDA error', expect: 'upstream_internal', httpStatus: 502, retryable: true, upstreamFault: true },
  // vLLM's SamplingParams refusing the client's values (its _verify_args wording).
  { message: 'Error generating stream: min_tokens must be less than or equal to max_tokens=16, got 20.', expect: 'invalid_request', httpStatus: 400, retryable: false, upstreamFault: false },
  { message: 'Error generating stream: stop cannot contain an empty string.', expect: 'invalid_request', httpStatus: 400, retryable: false, upstreamFault: false },
  { message: "in ensemble 'e', Error generating stream: top_p must be in (0, 1], got 1.5.", expect: 'invalid_request', httpStatus: 400, retryable: false, upstreamFault: false },
  // Not a parameter vLLM checks: an engine failure that says "must be" stays the upstream's.
  { message: 'Error generating stream: the KV cache block size must be a power of two', expect: 'upstream_internal', httpStatus: 502, retryable: true, upstreamFault: true },
  { message: 'Traceback (most recent call last): ...', expect: 'upstream_internal', httpStatus: 502, retryable: true, upstreamFault: true },
];

describe('fromStreamErrorMessage (error_message text, no status code)', () => {
  for (const row of streamRows) {
    it(`"${row.message.slice(0, 60)}" -> ${row.expect}`, () => {
      check(fromStreamErrorMessage(row.message), row);
    });
  }
});

describe('stripTritonPrefixes', () => {
  it('removes ensemble and request-id prefixes, nested and in either order', () => {
    assert.equal(stripTritonPrefixes("in ensemble 'ensemble', [request id: 42] boom"), 'boom');
    assert.equal(stripTritonPrefixes("[request id: 42] in ensemble 'outer', in ensemble 'inner', boom"), 'boom');
    assert.equal(stripTritonPrefixes('[request id: <id_unknown>] x'), 'x');
  });

  it('leaves other text alone', () => {
    assert.equal(stripTritonPrefixes("model 'in ensemble' failed"), "model 'in ensemble' failed");
    assert.equal(stripTritonPrefixes(''), '');
  });
});

describe('Triton text in errors is cut', () => {
  it('keeps 500 characters of a long message, says it was cut, and does not carry grpc-js error as the cause', () => {
    const quoted = `Python model failed on input: ${'PROMPT-TEXT '.repeat(2_000)}`;
    const fromStatus = fromGrpcError(Object.assign(new Error(`13 INTERNAL: ${quoted}`), { code: status.INTERNAL, details: quoted }));
    assert.ok(fromStatus.message.length < 600, `${fromStatus.message.length} characters`);
    assert.match(fromStatus.message, /… \(\d+ characters, cut\)$/);
    assert.equal(fromStatus.cause, undefined, 'the log prints the cause: it would carry the whole text');
    const fromStream = fromStreamErrorMessage(quoted);
    assert.ok(fromStream.message.length < 600);
    assert.equal(fromGrpcStatus(status.UNAVAILABLE, 'short and whole').message, 'short and whole');
  });
});
