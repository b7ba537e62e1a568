/**
 * Chat templates: how each model turns chat messages into the one prompt string it was trained
 * on. A template is a Hugging Face-style Jinja template (rendered by @huggingface/jinja with the
 * same trim_blocks/lstrip_blocks settings as transformers' apply_chat_template), loaded once at
 * start-up from a model's `chatTemplate` config. Rendering gets `messages`,
 * `add_generation_prompt: true`, `bos_token` and `eos_token`.
 */
import { readFileSync } from 'node:fs';
import { Template } from '@huggingface/jinja';
import { ConfigError, type ModelConfig } from '../config.js';
import { GatewayError } from '../errors.js';

export type ChatTemplateConfig = NonNullable<ModelConfig['chatTemplate']>;

/** A message as the template sees it: content is always one string. */
export interface TemplateMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  name?: string;
}

export class ChatTemplate {
  private readonly template: Template;

  /** Throws when the template does not parse. */
  constructor(
    source: string,
    private readonly bosToken: string,
    private readonly eosToken: string,
  ) {
    this.template = new Template(source);
  }

  /** The prompt for `messages`, ending with the assistant turn's opening. Throws what the template raises. */
  render(messages: readonly TemplateMessage[]): string {
    return this.template.render({
      // Copies: the interpreter must never see (or keep) the request's own objects.
      messages: messages.map((m) => ({ ...m })),
      add_generation_prompt: true,
      bos_token: this.bosToken,
      eos_token: this.eosToken,
    });
  }
}

/** A tokenizer_config.json token: a string, or an AddedToken object `{content: "..."}`. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The `chat_template` of a tokenizer config: a string, or a list of named templates ("default" wins). */
function tokenizerChatTemplate(config: Record<string, unknown>, path: string): string {
  const raw = config.chat_template;
  if (typeof raw === 'string') return raw;
  if (Array.isArray(raw)) {
    const named = raw.filter((t): t is { name: string; template: string } => typeof t?.name === 'string' && typeof t?.template === 'string');
    const chosen = named.find((t) => t.name === 'default') ?? (named.length === 1 ? named[0] : undefined);
    if (chosen) return chosen.template;
    throw new Error(`${path} has several chat templates (${named.map((t) => t.name).join(', ')}) and none named 'default'`);
  }
  // Newer Hugging Face repositories keep the template in its own chat_template.jinja file.
  throw new Error(`${path} has no chat_template (if the repository has a chat_template.jinja, use chatTemplate.file)`);
}

/** Reads and parses one model's template; throws an Error saying what is wrong. */
export function loadChatTemplate(spec: ChatTemplateConfig): ChatTemplate {
  let source: string;
  let bos = spec.bosToken;
  let eos = spec.eosToken;
  if (spec.inline !== undefined) {
    source = spec.inline;
  } else if (spec.file !== undefined) {
    source = readText(spec.file);
  } else if (spec.tokenizerConfig !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readText(spec.tokenizerConfig));
    } catch (err) {
      throw err instanceof SyntaxError ? new Error(`${spec.tokenizerConfig} is not valid JSON: ${err.message}`) : err;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${spec.tokenizerConfig} is not a JSON object`);
    const config = parsed as Record<string, unknown>;
    source = tokenizerChatTemplate(config, spec.tokenizerConfig);
    bos ??= tokenText(config.bos_token);
    eos ??= tokenText(config.eos_token);
  } else {
    throw new Error('set exactly one of tokenizerConfig, file or inline');
  }
  try {
    return new ChatTemplate(source, bos ?? '', eos ?? '');
  } catch (err) {
    throw new Error(`the template does not parse: ${(err as Error).message}`);
  }
}

/** The loaded templates of every configured model that has one. */
export class ChatTemplates {
  private constructor(private readonly byModel: ReadonlyMap<string, ChatTemplate>) {}

  /** Loads every model's template; a bad one is a start-up error listing each problem. */
  static load(models: readonly ModelConfig[]): ChatTemplates {
    const loaded = new Map<string, ChatTemplate>();
    const problems: string[] = [];
    models.forEach((model, i) => {
      if (!model.chatTemplate) return;
      try {
        loaded.set(model.name, loadChatTemplate(model.chatTemplate));
      } catch (err) {
        problems.push(`models.${i}.chatTemplate: ${(err as Error).message}`);
      }
    });
    if (problems.length > 0) throw new ConfigError(problems);
    return new ChatTemplates(loaded);
  }

  has(model: string): boolean {
    return this.byModel.has(model);
  }

  /**
   * The prompt `model` must receive for `messages`. A model without a template, or a template
   * that rejects the conversation (raise_exception, a runtime error), is the request's problem: 400.
   */
  render(model: string, messages: readonly TemplateMessage[]): string {
    const template = this.byModel.get(model);
    if (!template) {
      throw new GatewayError(
        'invalid_request',
        `The model '${model}' has no chat template, so it cannot serve chat completions; configure models[].chatTemplate or use /v1/completions`,
        { param: 'model' },
      );
    }
    try {
      return template.render(messages);
    } catch (err) {
      throw new GatewayError('invalid_request', `The chat template of model '${model}' could not render these messages: ${(err as Error).message}`, {
        param: 'messages',
      });
    }
  }
}

/** An OpenAI chat message as the request schema lets it through (roles and parts unchecked). */
export interface RequestMessage {
  role: string;
  content?: string | ReadonlyArray<Record<string, unknown>> | null;
  name?: string | null;
  tool_calls?: readonly unknown[] | null;
  function_call?: unknown;
}

/**
 * OpenAI messages → template messages, with a 400 naming the message and the problem for
 * anything a text-only chat cannot carry. `developer` (OpenAI's newer name for the system role)
 * becomes `system`, which is what templates know. Text parts are joined with a newline, as vLLM
 * does, so templates only ever see string content.
 */
export function toTemplateMessages(messages: readonly RequestMessage[]): TemplateMessage[] {
  return messages.map((m, i) => {
    const at = `messages.${i}`;
    if (m.role === 'tool' || m.role === 'function') {
      throw new GatewayError('unsupported_parameter', `${at}: the '${m.role}' role is not supported yet (tool calling is not supported)`, { param: `${at}.role` });
    }
    if (m.role !== 'system' && m.role !== 'developer' && m.role !== 'user' && m.role !== 'assistant') {
      throw new GatewayError('invalid_request', `${at}: unknown role '${m.role}'; expected system, developer, user or assistant`, { param: `${at}.role` });
    }
    if ((m.tool_calls != null && m.tool_calls.length > 0) || m.function_call != null) {
      throw new GatewayError('unsupported_parameter', `${at}: tool calls are not supported yet`, { param: `${at}.tool_calls` });
    }
    const content = messageText(m.content, at);
    const out: TemplateMessage = { role: m.role === 'developer' ? 'system' : m.role, content };
    if (m.name != null) out.name = m.name;
    return out;
  });
}

function messageText(content: RequestMessage['content'], at: string): string {
  if (content == null) throw new GatewayError('invalid_request', `${at} has no content`, { param: `${at}.content` });
  if (typeof content === 'string') return content;
  if (content.length === 0) throw new GatewayError('invalid_request', `${at} has no content (an empty list of parts)`, { param: `${at}.content` });
  return content
    .map((part, j) => {
      if (part.type !== 'text') {
        // Named only when it is a short string: String() of a client's nested arrays recursed until the stack ran out (a 500).
        const type = typeof part.type === 'string' ? `'${part.type.slice(0, 64)}'` : `of JSON type ${Array.isArray(part.type) ? 'array' : typeof part.type}`;
        throw new GatewayError('unsupported_parameter', `${at}.content.${j}: content parts of type ${type} are not supported; only text`, {
          param: `${at}.content.${j}.type`,
        });
      }
      if (typeof part.text !== 'string') {
        throw new GatewayError('invalid_request', `${at}.content.${j}: a text part needs a string 'text'`, { param: `${at}.content.${j}.text` });
      }
      const extra = Object.keys(part).find((k) => k !== 'type' && k !== 'text');
      if (extra !== undefined) {
        throw new GatewayError('invalid_request', `${at}.content.${j}: Unrecognized field '${extra}' in a text part`, { param: `${at}.content.${j}.${extra}` });
      }
      return part.text;
    })
    .join('\n');
}
