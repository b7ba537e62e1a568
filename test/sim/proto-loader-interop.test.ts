/**
 * A second, independent encoder: @grpc/proto-loader reads proto/*.proto at run time, with no
 * generated code involved, and must get correct answers from the simulator (which encodes with
 * the ts-proto code). If the .proto files and the generated code drifted apart, this breaks.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { credentials, loadPackageDefinition, type GrpcObject, type ServiceClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { startSimulator, type RunningSimulator } from '../../sim/index.js';
import { decodeStringTensor, encodeBytesTensor } from '../../src/triton/bytes-tensor.js';
import { countTokens } from '../../sim/text/tokenizer.js';

interface LoaderTensor {
  name: string;
  datatype: string;
  shape: string[];
}
interface LoaderInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, { bool_param?: boolean; parameter_choice?: string }>;
  outputs: LoaderTensor[];
  raw_output_contents: Buffer[];
}
interface LoaderStreamResponse {
  error_message: string;
  infer_response: LoaderInferResponse | null;
}

type LoaderClient = InstanceType<ServiceClientConstructor> & Record<string, (...args: unknown[]) => unknown>;

describe('an independent proto-loader client against the simulator', () => {
  let sim: RunningSimulator;
  let client: LoaderClient;
  before(async () => {
    sim = await startSimulator({ models: [{ name: 'ens', flavour: 'ensemble' }, { name: 'vllm', flavour: 'vllm' }] });
    const definition = loadSync(['grpc_service.proto', 'health.proto'], {
      includeDirs: ['proto'],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const pkg = loadPackageDefinition(definition);
    const Service = (pkg.inference as GrpcObject).GRPCInferenceService as ServiceClientConstructor;
    client = new Service(sim.grpcAddress, credentials.createInsecure()) as LoaderClient;
  });
  after(async () => {
    client.close();
    await sim.stop();
  });

  const call = <T>(method: string, req: unknown) =>
    new Promise<T>((resolve, reject) => client[method]!(req, (err: ServiceError | null, res: T) => (err ? reject(err) : resolve(res))));

  const ensembleRequest = (id: string, stream: boolean) => {
    const scalar = (name: string, datatype: string, raw: Buffer) => ({ tensor: { name, datatype, shape: ['1', '1'] }, raw });
    const int32 = Buffer.alloc(4);
    int32.writeInt32LE(6);
    const parts = [
      scalar('text_input', 'BYTES', encodeBytesTensor(['What is machine learning?'])),
      scalar('max_tokens', 'INT32', int32),
      scalar('stream', 'BOOL', Buffer.from([stream ? 1 : 0])),
      scalar('exclude_input_in_output', 'BOOL', Buffer.from([1])),
      scalar('return_num_output_tokens', 'BOOL', Buffer.from([1])),
    ];
    return {
      model_name: 'ens',
      id,
      parameters: { triton_enable_empty_final_response: { bool_param: true } },
      inputs: parts.map((p) => p.tensor),
      raw_input_contents: parts.map((p) => p.raw),
    };
  };

  const stream = (requests: unknown[]) =>
    new Promise<LoaderStreamResponse[]>((resolve, reject) => {
      const duplex = client.ModelStreamInfer!() as NodeJS.ReadWriteStream & { write(x: unknown): boolean; end(): void };
      const out: LoaderStreamResponse[] = [];
      duplex.on('data', (r: LoaderStreamResponse) => out.push(r));
      duplex.on('error', reject);
      duplex.on('end', () => resolve(out));
      for (const r of requests) duplex.write(r);
      duplex.end();
    });

  test('ModelConfig decodes with the decoupled flag, batch size and tensor types', async () => {
    const res = await call<{ config: Record<string, unknown> & { input: Array<{ name: string; data_type: string; dims: string[] }> } }>('ModelConfig', {
      name: 'ens',
    });
    assert.equal(res.config.name, 'ens');
    assert.equal(res.config.platform, 'ensemble');
    assert.equal(res.config.max_batch_size, 64);
    assert.deepEqual(res.config.model_transaction_policy, { decoupled: true });
    const text = res.config.input.find((t) => t.name === 'text_input')!;
    assert.equal(text.data_type, 'TYPE_STRING');
    assert.deepEqual(text.dims, ['1']);
  });

  test('ModelStreamInfer: streamed deltas, the final flag and the token count read through proto-loader', async () => {
    const streamed = await stream([ensembleRequest('pl-1', true)]);
    const data = streamed.filter((r) => (r.infer_response?.outputs.length ?? 0) > 0).map((r) => r.infer_response!);
    assert.equal(data.length, 6);
    assert.ok(data.every((r) => r.id === 'pl-1' && r.model_name === 'ens' && r.model_version === '1'));
    const last = streamed.at(-1)!.infer_response!;
    assert.equal(last.parameters.triton_final_response?.bool_param, true);
    const deltas = data.map((r) => decodeStringTensor(r.raw_output_contents[r.outputs.findIndex((o) => o.name === 'text_output')]!)[0]);
    assert.deepEqual(data[0]!.outputs[0]!.shape, ['1', '1']);

    const whole = await stream([ensembleRequest('pl-2', false)]);
    const resp = whole.find((r) => (r.infer_response?.outputs.length ?? 0) > 0)!.infer_response!;
    const text = decodeStringTensor(resp.raw_output_contents[resp.outputs.findIndex((o) => o.name === 'text_output')]!)[0]!;
    assert.equal(deltas.join(''), text);
    assert.equal(countTokens(text), 6);
    const count = resp.raw_output_contents[resp.outputs.findIndex((o) => o.name === 'num_output_tokens')]!;
    assert.equal(count.readInt32LE(0), 6);
  });

  test('errors decode too: an unknown model as error_message, unary status codes', async () => {
    const [err] = await stream([{ model_name: 'ghost', id: 'x' }]);
    assert.equal(err!.error_message, "Request for unknown model: 'ghost' is not found");
    assert.equal(err!.infer_response?.id, 'x');
    const ready = await call<{ ready: boolean }>('ServerReady', {});
    assert.equal(ready.ready, true);
    const index = await call<{ models: Array<{ name: string; state: string }> }>('RepositoryIndex', {});
    assert.deepEqual(index.models.map((m) => [m.name, m.state]), [['ens', 'READY'], ['vllm', 'READY']]);
  });
});
