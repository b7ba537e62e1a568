/**
 * A small Triton model repository laid out as a TRT-LLM deployment: engine plan files, tokenizer
 * files, schema registry files and config.pbtxt files, with random engine bytes.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export async function makeModelRepository(root: string, engineBytes = 256 * 1024): Promise<Record<string, string>> {
  const files: Record<string, string | Buffer> = {
    'ensemble/config.pbtxt': 'name: "ensemble"\nplatform: "ensemble"\nmax_batch_size: 64\n',
    'ensemble/1/.keep': '',
    'tensorrt_llm/config.pbtxt': 'name: "tensorrt_llm"\nbackend: "tensorrtllm"\nparameters { key: "engine_hash" value { string_value: "sha256:abc" } }\n',
    'tensorrt_llm/1/rank0.engine': randomBytes(engineBytes),
    'tensorrt_llm/1/config.json': '{"builder_config": {"precision": "float16"}}\n',
    'preprocessing/config.pbtxt': 'name: "preprocessing"\nbackend: "python"\n',
    'tokenizer/tokenizer.json': '{"version": "1.0", "model": {"type": "BPE"}}\n',
    'tokenizer/tokenizer_config.json': '{"bos_token": "<s>"}\n',
    'llm/schemas/answer.schema.json': '{"type": "object", "required": ["answer"]}\n',
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return Object.fromEntries(Object.keys(files).map((p) => [p, join(root, p)]));
}
