// models.mjs runs AsyncAPI Modelina's TypeScript generator on an AsyncAPI
// document and prints the names of the models it generates, one a line.
// forge's tests use it to check that code generators can name every
// message payload and envelope.
//
//   node tools/modelina/models.mjs asyncapi.json
import {readFile} from 'node:fs/promises';
import {TypeScriptGenerator} from '@asyncapi/modelina';

const file = process.argv[2];
if (!file) {
  console.error('usage: node models.mjs ASYNCAPI_FILE');
  process.exit(2);
}
const doc = JSON.parse(await readFile(file, 'utf8'));
const models = await new TypeScriptGenerator().generate(doc);
for (const m of models) console.log(m.modelName);
