/**
 * A request that sends no max_tokens gets the model's default, lowered silently to an admin
 * maxTokensCap below it: the client asked for nothing, so it is neither refused (reject) nor
 * counted as a token-budget overrun (clamp). A max_tokens the client did send is still governed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { complete } from '../helpers/openai-http.js';
import { scrape } from '../helpers/scrape.js';
import { eventually, startStack, type Stack } from '../helpers/stack.js';

const token = 'admin-token-for-tests-0123';
let stack: Stack;

before(async () => {
  stack = await startStack({
    env: { GATEWAY_ADMIN_TOKEN: token },
    config: {
      models: [
        { name: 'llama-3-8b', tritonModel: 'llama-3-8b-trtllm', defaultMaxTokens: 16, maxTokens: 512, tokenBudgetAction: 'clamp' },
        { name: 'qwen3', tritonModel: 'qwen3-vllm', defaultMaxTokens: 16, maxTokens: 512, tokenBudgetAction: 'reject' },
      ],
    },
  });
  const res = await fetch(`${stack.url}/admin/controls`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ maxTokensCap: 8 }),
  });
  assert.equal(res.status, 200, await res.text());
});
after(async () => stack.close());

async function completedLine(requestId: string | null): Promise<Record<string, unknown>> {
  let line: Record<string, unknown> | undefined;
  await eventually(() => (line = stack.logs.find('request completed').find((l) => l.reqId === requestId)) !== undefined, 3_000, `log line of ${requestId}`);
  return line!;
}

async function overruns(model: string): Promise<number> {
  return (await scrape(`${stack.url}/metrics`)).value('token_budget_overruns_total', { model_name: model });
}

test('clamp: no max_tokens under a lower admin cap gets the cap, with no overrun counted', async () => {
  const res = await complete(stack.url, { model: 'llama-3-8b', prompt: 'hello there' });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.usage.completion_tokens, 8);
  const line = await completedLine(res.headers.get('x-request-id'));
  assert.equal(line.token_budget_overrun, false);
  assert.equal(line.warning, null);
  assert.equal(await overruns('llama-3-8b'), 0);

  // The counter does move for a max_tokens the client sent above the cap.
  const sent = await complete(stack.url, { model: 'llama-3-8b', prompt: 'hello there', max_tokens: 12 });
  assert.equal(sent.status, 200);
  assert.equal(sent.body.usage.completion_tokens, 8);
  assert.equal(await overruns('llama-3-8b'), 1);
});

test('reject: no max_tokens under a lower admin cap is served, not refused as the client’s max_tokens', async () => {
  const res = await complete(stack.url, { model: 'qwen3', prompt: 'hello there' });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.usage.completion_tokens, 8);
  assert.equal(await overruns('qwen3'), 0);

  const sent = await complete(stack.url, { model: 'qwen3', prompt: 'hello there', max_tokens: 12 });
  assert.equal(sent.status, 400);
  assert.equal(sent.body.error.param, 'max_tokens');
});
