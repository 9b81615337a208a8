// validate-asyncapi.mjs parses an AsyncAPI document (YAML or JSON) with the
// official @asyncapi/parser and prints every diagnostic, one a line:
//
//	FILE:LINE:COL severity code message (at json.path)
//
// Exit status: 0 no errors, 1 errors, 2 the file cannot be read.
//
// The parser's own rules leave gaps for AsyncAPI 3 that forge's documents
// must not fall through, so three rules of forge's are added (see rules).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Parser } from '@asyncapi/parser';

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isV3 = (doc) => typeof doc?.asyncapi === 'string' && doc.asyncapi.startsWith('3.');

// channels calls fn for each channel of a version 3 document that is not a $ref.
function channels(doc, fn) {
  const out = [];
  if (!isV3(doc) || !isObject(doc.channels)) return out;
  for (const [id, ch] of Object.entries(doc.channels)) {
    if (isObject(ch) && !('$ref' in ch)) fn(id, ch, out);
  }
  return out;
}

// Parser 3.6's asyncapi3-channel-parameters runs only when a channel has
// "parameters", so an address with placeholders and no parameters passes.
function parametersMatchAddress(doc) {
  return channels(doc, (id, ch, out) => {
    const inAddress = [...String(ch.address ?? '').matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]);
    const declared = isObject(ch.parameters) ? Object.keys(ch.parameters) : [];
    for (const name of inAddress.filter((n) => !declared.includes(n))) {
      out.push({
        message: `address placeholder {${name}} is not a declared parameter`,
        path: ['channels', id, 'address'],
      });
    }
    for (const name of declared.filter((n) => !inAddress.includes(n))) {
      out.push({
        message: `parameter "${name}" does not appear in the address`,
        path: ['channels', id, 'parameters', name],
      });
    }
  });
}

// Parser 3.6's asyncapi3-channel-no-query-nor-fragment checks the channel's
// key, not its address.
function addressWithoutQuery(doc) {
  return channels(doc, (id, ch, out) => {
    if (typeof ch.address === 'string' && /[?#]/.test(ch.address)) {
      out.push({
        message: 'address holds a query or fragment; describe the query in bindings.ws.query',
        path: ['channels', id, 'address'],
      });
    }
  });
}

// The ws binding says query and headers MUST be object schemas with
// properties; the binding's JSON schema does not check it.
function wsBindingObjects(doc) {
  return channels(doc, (id, ch, out) => {
    const ws = ch.bindings?.ws;
    if (!isObject(ws)) return;
    for (const key of ['query', 'headers']) {
      const s = ws[key];
      if (s === undefined || (isObject(s) && '$ref' in s)) continue;
      if (!isObject(s) || s.type !== 'object' || !isObject(s.properties)) {
        out.push({
          message: `bindings.ws.${key} must be an object schema with properties`,
          path: ['channels', id, 'bindings', 'ws', key],
        });
      }
    }
  });
}

const rule = (description, fn) => ({
  description,
  message: '{{error}}',
  severity: 'error',
  recommended: true,
  resolved: false, // the document as written, $refs in place
  given: '$',
  then: { function: fn },
});

const rules = {
  'forge-channel-parameters': rule('Address placeholders and channel parameters match.', parametersMatchAddress),
  'forge-address-no-query': rule('A channel address holds no query or fragment.', addressWithoutQuery),
  'forge-ws-binding-objects': rule('ws binding query and headers are object schemas.', wsBindingObjects),
};

const severities = ['error', 'warning', 'info', 'hint'];

async function main(file) {
  if (!file) {
    console.error('usage: node validate-asyncapi.mjs FILE');
    return 2;
  }
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    console.error(`cannot read ${file}: ${err.message}`);
    return 2;
  }
  // Relative $refs resolve from the file's directory; forge's documents
  // hold none, and remote ones would need the network.
  const parser = new Parser({ ruleset: { rules } });
  const { document, diagnostics } = await parser.parse(text, { source: path.resolve(file) });
  const counts = [0, 0, 0, 0];
  for (const d of [...diagnostics].sort((a, b) => a.severity - b.severity || a.range.start.line - b.range.start.line)) {
    counts[d.severity]++;
    const at = d.path?.length ? ` (at ${d.path.join('.')})` : '';
    console.log(`${file}:${d.range.start.line + 1}:${d.range.start.character + 1} ${severities[d.severity]} ${d.code} ${d.message}${at}`);
  }
  console.log(`${counts[0]} error(s), ${counts[1]} warning(s)${document ? '' : '; the document could not be parsed'}`);
  return counts[0] > 0 || !document ? 1 : 0;
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err?.stack ?? String(err));
    process.exit(2);
  },
);
