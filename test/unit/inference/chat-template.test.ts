/**
 * The shipped chat templates render exact prompts, every template source loads the same way,
 * and OpenAI messages become template messages (or a 400 naming the problem).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError, loadConfig, parseConfig } from '../../../src/config.js';
import { GatewayError } from '../../../src/errors.js';
import { ChatTemplates, loadChatTemplate, toTemplateMessages, type TemplateMessage } from '../../../src/inference/chat-template.js';

const chatml = loadChatTemplate({ file: 'examples/chat-templates/chatml.jinja' });
const llama3 = loadChatTemplate({ file: 'examples/chat-templates/llama-3.jinja' });
const llama31 = loadChatTemplate({ file: 'examples/chat-templates/llama-3.1.jinja' });

const dir = mkdtempSync(join(tmpdir(), 'chat-template-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const systemAndUser: TemplateMessage[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'What is Triton?' },
];
const multiTurn: TemplateMessage[] = [
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello! How can I help?' },
  { role: 'user', content: 'Name a colour.' },
];

describe('the ChatML template', () => {
  test('system + user ends by opening the assistant turn', () => {
    assert.equal(
      chatml.render(systemAndUser),
      '<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nWhat is Triton?<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  test('a multi-turn conversation keeps every turn in order', () => {
    assert.equal(
      chatml.render(multiTurn),
      '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello! How can I help?<|im_end|>\n<|im_start|>user\nName a colour.<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  test('content parts arrive as their texts joined by a newline', () => {
    const messages = toTemplateMessages([
      { role: 'user', content: [{ type: 'text', text: 'First part.' }, { type: 'text', text: 'Second part.' }] },
    ]);
    assert.equal(chatml.render(messages), '<|im_start|>user\nFirst part.\nSecond part.<|im_end|>\n<|im_start|>assistant\n');
  });
});

describe('the Llama 3.1 template', () => {
  const header = '<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n';
  test('the caller\'s system message follows the dated system block', () => {
    assert.equal(
      llama31.render(systemAndUser),
      `${header}You are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is Triton?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`,
    );
  });

  test('without a system message the dated system block is still there, empty after the dates', () => {
    assert.equal(
      llama31.render(multiTurn),
      `${header}<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello! How can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nName a colour.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n`,
    );
  });
});

describe('the Llama 3 template', () => {
  test('system + user, without a BOS token by default', () => {
    assert.equal(
      llama3.render(systemAndUser),
      '<|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is Triton?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  test('a multi-turn conversation, with the configured BOS token first', () => {
    const withBos = loadChatTemplate({ file: 'examples/chat-templates/llama-3.jinja', bosToken: '<|begin_of_text|>' });
    assert.equal(
      withBos.render(multiTurn),
      '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\nHello! How can I help?<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nName a colour.<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  test('content parts are joined and the content trimmed', () => {
    const messages = toTemplateMessages([
      { role: 'developer', content: '  Be kind.  ' },
      { role: 'user', content: [{ type: 'text', text: 'One' }, { type: 'text', text: 'Two' }] },
    ]);
    assert.equal(
      llama3.render(messages),
      '<|start_header_id|>system<|end_header_id|>\n\nBe kind.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nOne\nTwo<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });
});

describe('template sources', () => {
  test('a tokenizer_config.json gives its chat_template, bos_token and eos_token (AddedToken objects too)', () => {
    const path = join(dir, 'tokenizer_config.json');
    writeFileSync(
      path,
      JSON.stringify({
        bos_token: { __type: 'AddedToken', content: '<s>' },
        eos_token: '</s>',
        chat_template: "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}",
      }),
    );
    assert.equal(loadChatTemplate({ tokenizerConfig: path }).render(multiTurn.slice(0, 1)), '<s>[user] Hi</s>[assistant] ');
    assert.equal(loadChatTemplate({ tokenizerConfig: path, bosToken: '' }).render(multiTurn.slice(0, 1)), '[user] Hi</s>[assistant] ');
  });

  test("a list of named templates uses the one named 'default'", () => {
    const path = join(dir, 'named.json');
    writeFileSync(
      path,
      JSON.stringify({
        chat_template: [
          { name: 'tool_use', template: 'TOOLS' },
          { name: 'default', template: '{% for m in messages %}{{ m.content }}{% endfor %}>' },
        ],
      }),
    );
    assert.equal(loadChatTemplate({ tokenizerConfig: path }).render(multiTurn.slice(0, 1)), 'Hi>');
  });

  test('an inline template with its own eos token', () => {
    const t = loadChatTemplate({ inline: '{% for m in messages %}{{ m.role }}: {{ m.content }}{{ eos_token }}\n{% endfor %}assistant:', eosToken: '<end>' });
    assert.equal(t.render(systemAndUser), 'system: You are terse.<end>\nuser: What is Triton?<end>\nassistant:');
  });

  test('every bad template is a start-up config error naming the model and the problem', () => {
    const noTemplate = join(dir, 'no-template.json');
    writeFileSync(noTemplate, JSON.stringify({ bos_token: '<s>' }));
    const config = parseConfig({
      triton: { targets: [{ name: 't', grpc: '127.0.0.1:1' }] },
      models: [
        { name: 'ok', chatTemplate: { file: 'examples/chat-templates/chatml.jinja' } },
        { name: 'missing', chatTemplate: { file: join(dir, 'nope.jinja') } },
        { name: 'broken', chatTemplate: { inline: '{% for m in messages %}' } },
        { name: 'bare', chatTemplate: { tokenizerConfig: noTemplate } },
      ],
    });
    assert.throws(
      () => ChatTemplates.load(config.models),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 3, err.message);
        assert.match(err.problems[0]!, /^models\.1\.chatTemplate: cannot read .*nope\.jinja: ENOENT/);
        assert.match(err.problems[1]!, /^models\.2\.chatTemplate: the template does not parse/);
        assert.match(err.problems[2]!, /^models\.3\.chatTemplate: .*has no chat_template/);
        return true;
      },
    );
  });

  test('the config takes exactly one template source', () => {
    assert.throws(
      () => parseConfig({ triton: { targets: [{ name: 't', grpc: '127.0.0.1:1' }] }, models: [{ name: 'm', chatTemplate: { inline: 'x', file: 'y.jinja' } }] }),
      (err: unknown) => err instanceof ConfigError && /models\.0\.chatTemplate: set exactly one of tokenizerConfig, file or inline/.test(err.message),
    );
  });

  test('template paths in a config file are relative to that file', () => {
    const sub = join(dir, 'conf');
    const configPath = join(dir, 'gateway.yaml');
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, 't.jinja'), '{% for m in messages %}{{ m.content }}{% endfor %}');
    writeFileSync(configPath, 'models:\n  - name: m\n    chatTemplate: { file: conf/t.jinja }\n');
    const config = loadConfig({ GATEWAY_CONFIG: configPath, TRITON_GRPC_URL: '127.0.0.1:1' });
    assert.equal(config.models[0]!.chatTemplate!.file, join(sub, 't.jinja'));
  });
});

describe('a template that does not parse says why', () => {
  const parseError = (inline: string): string => {
    try {
      loadChatTemplate({ inline });
    } catch (err) {
      return (err as Error).message;
    }
    assert.fail(`parsed: ${inline}`);
  };

  test("a block without its end tag names the block, not the library's TypeError", () => {
    assert.equal(parseError('{% if x %}hello'), "the template does not parse: it is not well-formed: the '{% if %}' at line 1, column 1 has no '{% endif %}'");
    assert.equal(
      parseError('{% for m in messages %}\n  {%- if m.role == "user" %}{{ m.content }}\n'),
      "the template does not parse: it is not well-formed: the '{% if %}' at line 2, column 3 has no '{% endif %}'",
    );
    assert.doesNotMatch(parseError('{% for m in messages %}{{ m.content }}'), /Cannot read properties/);
  });

  test('an unclosed {{ or {% is named with its place', () => {
    assert.equal(parseError('Hi {{'), "the template does not parse: it is not well-formed: the '{{' at line 1, column 4 is never closed by '}}'");
    assert.equal(
      parseError('{{ messages[0].content '),
      "the template does not parse: Unexpected end of input (likely cause: the '{{' at line 1, column 1 is never closed by '}}')",
    );
    assert.match(parseError('{% if x %}a{% endif'), /^the template does not parse: Unexpected end of input \(likely cause: the '\{%' at line 1, column 12 is never closed by '%\}'\)$/);
  });

  test("the library's own syntax errors are kept as they are", () => {
    assert.equal(parseError('{{ x | }}'), 'the template does not parse: Unexpected token: CloseExpression');
    assert.equal(
      parseError('{% for m in messages %}\n  {%- if m.role == "user" %}{{ m.content }}\n{% endfor %}'),
      "the template does not parse: Unknown statement type: endfor (likely cause: the '{% if %}' at line 2, column 3 has no '{% endif %}' before the '{% endfor %}' at line 3, column 1)",
    );
    assert.equal(parseError('{% endif %}'), "the template does not parse: Unknown statement type: endif (likely cause: the '{% endif %}' at line 1, column 1 closes no '{% if %}')");
    // Balanced tags that still do not parse: nothing to add.
    assert.equal(parseError("{% set x = 1 %}{% if x %}{{ x[0 }}{% endif %}"), 'the template does not parse: Unexpected token: CloseExpression');
  });
});

describe('rendering for a model', () => {
  const templates = ChatTemplates.load(
    parseConfig({
      triton: { targets: [{ name: 't', grpc: '127.0.0.1:1' }] },
      models: [
        { name: 'chat', chatTemplate: { inline: "{% if messages[0].role != 'system' %}{{ raise_exception('a system message must come first') }}{% endif %}ok" } },
        { name: 'plain' },
      ],
    }).models,
  );

  test('a model without a template is a 400 that says so', () => {
    assert.throws(
      () => templates.render('plain', multiTurn),
      (err: unknown) => err instanceof GatewayError && err.status === 400 && err.param === 'model' && /'plain' has no chat template/.test(err.message),
    );
  });

  test("what a template raises is a 400 carrying the template's message", () => {
    assert.equal(templates.render('chat', systemAndUser), 'ok');
    assert.throws(
      () => templates.render('chat', multiTurn),
      (err: unknown) => err instanceof GatewayError && err.status === 400 && /a system message must come first/.test(err.message),
    );
  });
});

describe('OpenAI messages to template messages', () => {
  const rejects = (messages: Parameters<typeof toTemplateMessages>[0], param: string, message: RegExp): void => {
    assert.throws(
      () => toTemplateMessages(messages),
      (err: unknown) => err instanceof GatewayError && err.status === 400 && err.param === param && message.test(err.message),
    );
  };

  test('keeps roles, content and names', () => {
    assert.deepEqual(toTemplateMessages([{ role: 'user', content: 'hi', name: 'ann' }, { role: 'assistant', content: '' }]), [
      { role: 'user', content: 'hi', name: 'ann' },
      { role: 'assistant', content: '' },
    ]);
  });

  test('an unknown role', () => rejects([{ role: 'robot', content: 'x' }], 'messages.0.role', /unknown role 'robot'/));
  test('tool messages are not supported yet', () => rejects([{ role: 'user', content: 'x' }, { role: 'tool', content: 'r' }], 'messages.1.role', /not supported yet/));
  test('a message without content', () => rejects([{ role: 'user' }], 'messages.0.content', /messages\.0 has no content/));
  test('an assistant message with tool calls', () =>
    rejects([{ role: 'assistant', content: null, tool_calls: [{ id: 'x' }] }], 'messages.0.tool_calls', /tool calls are not supported yet/));
  test('a non-text content part', () =>
    rejects([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }], 'messages.0.content.0.type', /'image_url' are not supported; only text/));
});
