/** What the simulator reports as its server name, version and protocol extensions (core: src/server.cc). */
export const SERVER_NAME = 'triton';
export const SERVER_VERSION = '2.73.0';
export const SERVER_EXTENSIONS: readonly string[] = [
  'classification', 'sequence', 'model_repository', 'model_repository(unload_dependents)', 'schedule_policy',
  'model_configuration', 'system_shared_memory', 'cuda_shared_memory', 'binary_tensor_data', 'parameters',
  'statistics', 'trace', 'logging',
];
