/**
 * The default vocabulary. A few words carry punctuation so stop strings such as "." and ","
 * can be exercised; none contains whitespace, which keeps one word = one token.
 */
export const DEFAULT_WORDS: readonly string[] = [
  'the', 'model', 'learns', 'from', 'data', 'and', 'predicts', 'tokens', 'with', 'attention',
  'across', 'layers', 'of', 'a', 'transformer', 'network', 'that', 'scales', 'to', 'many',
  'GPUs', 'while', 'the', 'cache', 'keeps', 'keys', 'values', 'for', 'every', 'sequence',
  'in', 'flight.', 'Inference', 'servers', 'batch', 'requests', 'so', 'throughput', 'grows,',
  'yet', 'latency', 'stays', 'low', 'when', 'queues', 'are', 'short.', 'Each', 'engine',
  'runs', 'kernels', 'on', 'tensor', 'cores', 'using', 'mixed', 'precision', 'weights,',
  'which', 'saves', 'memory', 'bandwidth.', 'Operators', 'watch', 'metrics', 'logs', 'traces',
  'to', 'find', 'slow', 'paths', 'early.',
];
