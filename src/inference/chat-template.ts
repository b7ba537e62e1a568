/**
 * Chat templates: how each model turns chat messages into the one prompt string it was trained
 * on. A template is a Hugging Face-style Jinja template (rendered by @huggingface/jinja with the
 * same trim_blocks/lstrip_blocks settings as transformers' apply_chat_template), loaded once at
 * start-up from a model's `chatTemplate` config. Rendering gets `messages`,
 * `add_generation_prompt: true`, `bos_token` and `eos_token`.
 */
import { readFileSync } from 'node:fs';
import { Template } from '@huggingface/jinja';
import type { ModelConfig } from '../config.js';
import { ConfigError } from '../config-error.js';
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
    throw new Error(`the template does not parse: ${whyNotParsed(source, err)}`);
  }
}

/**
 * The parser's own errors (SyntaxError, "Parser Error: ...") say what is wrong and are kept; on a
 * template cut short it can also fail inside itself, typically with a TypeError reading past the
 * last token, which says nothing to the user. Either way the likely cause is added when one is seen.
 */
function whyNotParsed(source: string, err: unknown): string {
  const cause = unbalancedTag(source);
  const own = err instanceof Error && (err instanceof SyntaxError || err.constructor === Error) && err.message !== '';
  if (own) return cause === undefined ? err.message : `${err.message} (likely cause: ${cause})`;
  if (cause !== undefined) return `it is not well-formed: ${cause}`;
  return (
    "it is not well-formed: look for an unclosed '{{', '{%' or '{#', or a block without its '{% end... %}' " +
    `(the template library failed with ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)})`
  );
}

const closers: Readonly<Record<string, string>> = { '{{': '}}', '{%': '%}', '{#': '#}' };
/** The tags that open a block closed by `{% end<tag> %}`; `set` only in its block form, without `=`. */
const blockTags = new Set(['if', 'for', 'macro', 'call', 'filter', 'set']);

/**
 * A likely reason why a template does not parse, from its delimiters and block tags alone: a
 * `{{`, `{%` or `{#` never closed, a block without its end tag, or an end tag closing no block.
 * Not a parser: a `}}` or `%}` inside a string literal can mislead it, so it only ever adds a
 * hint to a template the library already refused. Undefined when everything is balanced.
 */
function unbalancedTag(source: string): string | undefined {
  const at = (index: number): string => {
    const line = source.slice(0, index).split('\n').length;
    return `line ${line}, column ${index - source.lastIndexOf('\n', index - 1)}`;
  };
  const open: Array<{ tag: string; index: number }> = [];
  const opener = /\{[{%#]/g;
  for (let m = opener.exec(source); m !== null; m = opener.exec(source)) {
    const closer = closers[m[0]]!;
    const end = source.indexOf(closer, m.index + 2);
    if (end < 0) return `the '${m[0]}' at ${at(m.index)} is never closed by '${closer}'`;
    opener.lastIndex = end + 2;
    if (m[0] !== '{%') continue;
    const body = source.slice(m.index + 2, end).replace(/^[-+]/, '').replace(/-$/, '').trim();
    const tag = /^[A-Za-z_]\w*/.exec(body)?.[0];
    if (tag === undefined) continue;
    if (blockTags.has(tag) && !(tag === 'set' && body.includes('='))) {
      open.push({ tag, index: m.index });
    } else if (tag.startsWith('end') && blockTags.has(tag.slice(3))) {
      const top = open.pop();
      if (top === undefined) return `the '{% ${tag} %}' at ${at(m.index)} closes no '{% ${tag.slice(3)} %}'`;
      if (`end${top.tag}` !== tag) return `the '{% ${top.tag} %}' at ${at(top.index)} has no '{% end${top.tag} %}' before the '{% ${tag} %}' at ${at(m.index)}`;
    }
  }
  const top = open.at(-1);
  return top && `the '{% ${top.tag} %}' at ${at(top.index)} has no '{% end${top.tag} %}'`;
}

type Entry = readonly [index: number, spec: ChatTemplateConfig];

/**
 * Loads each `[index in the config's models, chatTemplate]` (loadConfig lists these problems with
 * the config's others): the problems, each `models.N.chatTemplate: ...`.
 */
export function chatTemplateProblems(specs: readonly Entry[]): string[] {
  return loadEach(specs, () => undefined);
}

/** Loads each entry, handing on those that load; the problems of the others. */
function loadEach(entries: readonly Entry[], loaded: (entry: Entry, template: ChatTemplate) => void): string[] {
  const problems: string[] = [];
  for (const entry of entries) {
    let template: ChatTemplate;
    try {
      template = loadChatTemplate(entry[1]);
    } catch (err) {
      problems.push(`models.${entry[0]}.chatTemplate: ${(err as Error).message}`);
      continue;
    }
    loaded(entry, template);
  }
  return problems;
}

/** The loaded templates of every configured model that has one. */
export class ChatTemplates {
  private constructor(private readonly byModel: ReadonlyMap<string, ChatTemplate>) {}

  /** Loads every model's template; a bad one is a start-up error listing each problem. */
  static load(models: readonly ModelConfig[]): ChatTemplates {
    const loaded = new Map<string, ChatTemplate>();
    const entries: Entry[] = [];
    models.forEach((model, i) => {
      if (model.chatTemplate) entries.push([i, model.chatTemplate]);
    });
    const problems = loadEach(entries, ([i], template) => loaded.set(models[i]!.name, template));
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
