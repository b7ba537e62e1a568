/** Every YAML and JSON file of the operations kit parses (all documents of a multi-document file). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listFiles, readText, readYamlDocuments } from './support/repo-files.js';

const folders = ['prometheus', 'alertmanager', 'deploy'];

test('every YAML and JSON file under prometheus/, alertmanager/ and deploy/ parses', () => {
  const files = folders.flatMap((f) => listFiles(f, ['.yml', '.yaml', '.json']));
  assert.ok(files.length > 25, `only ${files.length} files found`);
  for (const file of files) {
    if (file.endsWith('.json')) {
      assert.doesNotThrow(() => JSON.parse(readText(file)), file);
    } else {
      const docs = readYamlDocuments(file);
      assert.ok(docs.length > 0 && docs.every((d) => d !== null && typeof d === 'object'), `${file}: empty or not a mapping`);
    }
  }
});
