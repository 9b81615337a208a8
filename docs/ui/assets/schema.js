// Renders JSON Schemas (as AsyncAPI 3 payloads use them) for reading, and
// builds example values from them.

import {deref, refName, resolvePointer} from './asyncapi.js';
import {h, paragraphs} from './dom.js';

// resolve follows a schema's $ref, returning the schema and the name of
// the component it came from (the last reference followed), if any.
function resolve(doc, schema) {
  let name = null;
  const seen = new Set();
  while (schema && typeof schema === 'object' && typeof schema.$ref === 'string') {
    if (seen.has(schema.$ref)) throw new Error(`reference cycle at ${schema.$ref}`);
    seen.add(schema.$ref);
    name = refName(schema.$ref);
    schema = resolvePointer(doc, schema.$ref);
  }
  return {schema, name};
}

// types returns the schema's types as a list, inferring object and array
// from properties and items.
function types(schema) {
  if (Array.isArray(schema.type)) return schema.type;
  if (typeof schema.type === 'string') return [schema.type];
  if (schema.properties || schema.additionalProperties) return ['object'];
  if (schema.items || schema.prefixItems) return ['array'];
  return [];
}

// typeLabel describes a schema in a few words: "string (date-time)",
// "array of ChatMessage", "map of string to integer", "ChatMessage".
export function typeLabel(doc, schema, depth = 0) {
  if (schema === true || (schema && typeof schema === 'object' && Object.keys(schema).length === 0)) return 'any';
  if (schema === false) return 'nothing';
  let r;
  try {
    r = resolve(doc, schema);
  } catch (err) {
    return `unresolved (${err.message})`;
  }
  const s = r.schema || {};
  const ts = types(s);
  const nullable = ts.includes('null') && ts.length > 1;
  const main = ts.filter((t) => t !== 'null');
  let label;
  if (main.length === 1 && main[0] === 'array' && depth < 3) {
    label = s.items ? `array of ${typeLabel(doc, s.items, depth + 1)}` : 'array';
  } else if (main.length === 1 && main[0] === 'object' && !s.properties &&
      s.additionalProperties && typeof s.additionalProperties === 'object' && depth < 3) {
    label = `map of string to ${typeLabel(doc, s.additionalProperties, depth + 1)}`;
  } else if (r.name && (main.includes('object') || s.properties || s.oneOf || s.anyOf || s.allOf)) {
    label = r.name;
  } else if (main.length) {
    label = main.join(' | ');
    if (s.format) label += ` (${s.format})`;
  } else if (s.oneOf || s.anyOf) {
    label = 'one of';
  } else if (s.allOf) {
    label = r.name || 'all of';
  } else if ('const' in s) {
    label = typeof s.const;
  } else if (Array.isArray(s.enum)) {
    label = 'enum';
  } else {
    label = r.name || 'any';
  }
  return nullable ? `${label} | null` : label;
}

// constraints lists what a schema says beyond its type, as short strings.
function constraints(s) {
  const out = [];
  const json = (v) => JSON.stringify(v);
  if ('const' in s) out.push(`= ${json(s.const)}`);
  if (Array.isArray(s.enum)) out.push(`one of ${s.enum.map(json).join(', ')}`);
  if ('default' in s) out.push(`default ${json(s.default)}`);
  if (s.minimum !== undefined) out.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) out.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined) out.push(`≤ ${s.maximum}`);
  if (s.exclusiveMaximum !== undefined) out.push(`< ${s.exclusiveMaximum}`);
  if (s.multipleOf !== undefined) out.push(`multiple of ${s.multipleOf}`);
  if (s.minLength !== undefined) out.push(`min length ${s.minLength}`);
  if (s.maxLength !== undefined) out.push(`max length ${s.maxLength}`);
  if (s.pattern !== undefined) out.push(`pattern ${s.pattern}`);
  if (s.minItems !== undefined) out.push(`min items ${s.minItems}`);
  if (s.maxItems !== undefined) out.push(`max items ${s.maxItems}`);
  if (s.uniqueItems) out.push('unique items');
  if (s.minProperties !== undefined) out.push(`min properties ${s.minProperties}`);
  if (s.maxProperties !== undefined) out.push(`max properties ${s.maxProperties}`);
  if (s.additionalProperties === false && s.properties) out.push('no other properties');
  if (s.readOnly) out.push('read-only');
  if (s.writeOnly) out.push('write-only');
  if (s.deprecated) out.push('deprecated');
  if (Array.isArray(s.examples) && s.examples.length) out.push(`e.g. ${s.examples.slice(0, 3).map(json).join(', ')}`);
  return out;
}

// renderSchema returns a readable tree of schema: every property with its
// type, whether it is required, its constraints and description; nested
// objects and referenced components inline, recursion marked.
export function renderSchema(doc, schema) {
  return h('div', {class: 'schema'}, renderNode(doc, schema, [], 0));
}

function renderNode(doc, schema, stack, depth) {
  let r;
  try {
    r = resolve(doc, schema);
  } catch (err) {
    return h('p', {class: 'error'}, `Cannot read schema: ${err.message}`);
  }
  const s = r.schema;
  if (s === true || s === undefined || s === null || (typeof s === 'object' && Object.keys(s).length === 0)) {
    return h('p', {class: 'schema-any'}, 'Any JSON value.');
  }
  if (s === false) return h('p', {class: 'schema-any'}, 'No value is allowed.');
  const parts = [];
  const head = [h('span', {class: 'type'}, typeLabel(doc, schema))];
  for (const c of constraints(s)) head.push(h('span', {class: 'chip'}, c));
  parts.push(h('div', {class: 'schema-head'}, head));
  if (s.description) parts.push(paragraphs(s.description));
  parts.push(renderChildren(doc, s, r.name ? [...stack, r.name] : stack, depth));
  return parts;
}

// renderChildren renders what is inside a schema: properties, items,
// map values and alternatives.
function renderChildren(doc, s, stack, depth) {
  const out = [];
  const props = mergedProperties(doc, s);
  if (props.entries.length) {
    out.push(h('ul', {class: 'props'}, props.entries.map(([name, ps]) =>
      renderProperty(doc, name, ps, props.required.has(name), stack, depth))));
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object' && Object.keys(s.additionalProperties).length) {
    out.push(h('div', {class: 'nested'}, h('span', {class: 'label'}, props.entries.length ? 'other properties:' : 'values:'),
      renderNested(doc, s.additionalProperties, stack, depth)));
  }
  if (s.items && typeof s.items === 'object') {
    out.push(h('div', {class: 'nested'}, h('span', {class: 'label'}, 'items:'), renderNested(doc, s.items, stack, depth)));
  }
  for (const kind of ['oneOf', 'anyOf']) {
    if (!Array.isArray(s[kind])) continue;
    out.push(h('div', {class: 'alternatives'},
      h('span', {class: 'label'}, kind === 'oneOf' ? 'exactly one of:' : 'any of:'),
      h('ol', {}, s[kind].map((alt) => h('li', {}, renderNested(doc, alt, stack, depth))))));
  }
  return out;
}

function renderProperty(doc, name, ps, required, stack, depth) {
  let r;
  try {
    r = resolve(doc, ps);
  } catch (err) {
    return h('li', {class: 'prop'}, h('code', {class: 'prop-name'}, name), h('span', {class: 'error'}, err.message));
  }
  const s = r.schema || {};
  const head = h('div', {class: 'prop-head'},
    h('code', {class: 'prop-name'}, name),
    h('span', {class: 'type'}, typeLabel(doc, ps)),
    required ? h('span', {class: 'required'}, 'required') : h('span', {class: 'optional'}, 'optional'),
    typeof s === 'object' ? constraints(s).map((c) => h('span', {class: 'chip'}, c)) : null);
  const body = [head];
  if (s.description) body.push(paragraphs(s.description));
  if (hasChildren(s, doc)) body.push(renderNestedResolved(doc, r, stack, depth, false));
  return h('li', {class: 'prop', dataset: {prop: name}}, body);
}

// hasChildren reports whether a schema has something to show inside it:
// properties, alternatives, or items and map values that have some.
function hasChildren(s, doc, depth = 0) {
  if (!s || typeof s !== 'object') return false;
  if (s.properties || s.allOf || s.oneOf || s.anyOf) return true;
  if (depth > 4) return false;
  for (const inner of [s.items, s.additionalProperties]) {
    if (!inner || typeof inner !== 'object') continue;
    try {
      if (hasChildren(deref(doc, inner), doc, depth + 1)) return true;
    } catch {
      return true; // show the error where it is rendered
    }
  }
  return false;
}

// renderNested renders a sub-schema inline, or a marker when it refers to
// a component already being rendered further up (a recursive type).
function renderNested(doc, schema, stack, depth) {
  let r;
  try {
    r = resolve(doc, schema);
  } catch (err) {
    return h('span', {class: 'error'}, err.message);
  }
  if (!hasChildren(r.schema, doc)) {
    const s = r.schema && typeof r.schema === 'object' ? r.schema : {};
    return h('span', {}, h('span', {class: 'type'}, typeLabel(doc, schema)),
      constraints(s).map((c) => h('span', {class: 'chip'}, c)));
  }
  return renderNestedResolved(doc, r, stack, depth, true);
}

// renderNestedResolved renders the inside of a resolved sub-schema in a
// collapsible block, open near the top.
function renderNestedResolved(doc, r, stack, depth, withDescription) {
  if (r.name && stack.includes(r.name)) {
    return h('div', {class: 'recursive'}, `↻ ${r.name} (recursive: same shape as above)`);
  }
  if (depth >= 8) return h('div', {class: 'recursive'}, '… (nested too deeply to show)');
  const inner = renderChildren(doc, r.schema, r.name ? [...stack, r.name] : stack, depth + 1);
  return h('details', {class: 'nested', open: depth < 2},
    h('summary', {}, r.name || typeLabel(doc, r.schema)),
    withDescription ? paragraphs(r.schema.description) : null, inner);
}

// mergedProperties collects properties and required names of a schema
// and of its allOf parts.
function mergedProperties(doc, s, seen = new Set()) {
  const entries = [];
  const required = new Set();
  const add = (schema) => {
    if (!schema || typeof schema !== 'object' || seen.has(schema)) return;
    seen.add(schema);
    for (const [k, v] of Object.entries(schema.properties || {})) {
      const i = entries.findIndex(([n]) => n === k);
      if (i >= 0) entries[i] = [k, v];
      else entries.push([k, v]);
    }
    for (const k of Array.isArray(schema.required) ? schema.required : []) required.add(k);
    for (const part of Array.isArray(schema.allOf) ? schema.allOf : []) {
      try {
        add(deref(doc, part));
      } catch {
        // an unresolvable part is reported where it is rendered
      }
    }
  };
  add(s);
  return {entries, required};
}

// declared reports whether a schema gives its own value: const,
// examples, example or default.
function declared(s) {
  return s && typeof s === 'object' &&
    ('const' in s || (Array.isArray(s.examples) && s.examples.length > 0) || 'example' in s || 'default' in s);
}

// declaresValue is declared, through references.
function declaresValue(doc, schema) {
  try {
    return declared(deref(doc, schema));
  } catch {
    return false;
  }
}

// exampleFor builds an example value for schema that the schema accepts:
// const, examples, default and enum win; otherwise a value of the right
// type that meets the schema's format, pattern, length and range. Recursive
// types stop at their first repetition; optional fields are left out past
// a small depth, and everywhere with {minimal: true} unless the schema
// declares a value for them.
export function exampleFor(doc, schema, opts = {}, stack = [], depth = 0) {
  if (schema === true || schema === undefined || schema === null) return null;
  if (schema === false || typeof schema !== 'object') return undefined;
  let s = schema;
  if (typeof s.$ref === 'string') {
    if (stack.includes(s.$ref) || depth > 12) return undefined;
    stack = [...stack, s.$ref];
    try {
      s = resolvePointer(doc, s.$ref);
    } catch {
      return undefined;
    }
    return exampleFor(doc, s, opts, stack, depth);
  }
  if ('const' in s) return s.const;
  if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
  if ('example' in s) return s.example;
  if ('default' in s) return s.default;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  for (const kind of ['oneOf', 'anyOf']) {
    if (Array.isArray(s[kind])) {
      for (const alt of s[kind]) {
        const v = exampleFor(doc, alt, opts, stack, depth);
        if (v !== undefined && v !== null) return v;
      }
    }
  }
  const ts = types(s).filter((t) => t !== 'null');
  const type = ts[0] || (s.allOf ? 'object' : null);
  switch (type) {
    case 'object': {
      const {entries, required} = mergedProperties(doc, s);
      const obj = {};
      for (const [name, ps] of entries) {
        if (!required.has(name) && (depth >= 3 || (opts.minimal && !declaresValue(doc, ps)))) continue;
        const v = exampleFor(doc, ps, opts, stack, depth + 1);
        if (v !== undefined) obj[name] = v;
      }
      if (!entries.length && s.additionalProperties && typeof s.additionalProperties === 'object' && !opts.minimal) {
        const v = exampleFor(doc, s.additionalProperties, opts, stack, depth + 1);
        if (v !== undefined) obj.key = v;
      }
      return obj;
    }
    case 'array': {
      if (!s.items || typeof s.items !== 'object') return [];
      const v = exampleFor(doc, s.items, opts, stack, depth + 1);
      if (v === undefined) return [];
      return Array.from({length: Math.max(opts.minimal ? 0 : 1, s.minItems || 0)}, () => v);
    }
    case 'string':
      return exampleString(s);
    case 'integer':
    case 'number':
      return exampleNumber(s, type === 'integer');
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return null;
  }
}

// formatExamples are values of the string formats, each valid.
const formatExamples = {
  'date-time': '2024-01-02T15:04:05Z',
  date: '2024-01-02',
  time: '15:04:05Z',
  duration: 'PT1M',
  email: 'user@example.com',
  'idn-email': 'user@example.com',
  uuid: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
  'uri-reference': '/path',
  'iri-reference': '/path',
  hostname: 'example.com',
  'idn-hostname': 'example.com',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
  byte: 'aGVsbG8=',
  'json-pointer': '/a/0',
  regex: '^[a-z]+$',
};

// exampleString returns a string the schema accepts: a value of its
// format, else the word "example", fitted to the length limits; one built
// from the pattern when that does not match it.
function exampleString(s) {
  const min = s.minLength || 0;
  const max = s.maxLength ?? Infinity;
  let v = formatExamples[s.format] ?? (['uri', 'url', 'iri'].includes(s.format) ? `${location.origin}/` : 'example');
  if (v.length < min) v = v.padEnd(min, 'x');
  if (v.length > max) v = v.slice(0, max);
  if (typeof s.pattern !== 'string' || matches(s.pattern, v)) return v;
  const built = fromPattern(s.pattern, min, max);
  return built ?? v;
}

// matches reports whether value matches the ECMA-262 pattern, which, as in
// JSON Schema, may match anywhere in it.
function matches(pattern, value) {
  try {
    return new RegExp(pattern, 'u').test(value);
  } catch {
    return false;
  }
}

// fromPattern builds a string that matches pattern with a length in
// [min, max], or returns null. It reads a common subset of regular
// expressions: literals, escapes, ".", classes, groups with alternatives
// (it takes the first), and quantifiers; each repeated part repeats as
// little as allowed, more when the string must be longer.
function fromPattern(pattern, min, max) {
  let pieces;
  try {
    pieces = parseSequence(pattern.replace(/^\^/, '').replace(/(?<!\\)\$$/, ''), {i: 0});
  } catch {
    return null;
  }
  const render = () => pieces.map((p) => p.text.repeat(p.count)).join('');
  let v = render();
  // Grow the last parts that may repeat more until the string is long enough.
  for (let i = pieces.length - 1; i >= 0 && v.length < min; i--) {
    const p = pieces[i];
    while (v.length < min && p.count < p.hi && p.text.length > 0) {
      p.count++;
      v = render();
    }
  }
  if (v.length > max) return null;
  return matches(pattern, v) ? v : null;
}

// parseSequence reads pieces up to ")" or the end; at "|" it keeps the
// first alternative and skips the others.
function parseSequence(src, pos) {
  const pieces = [];
  while (pos.i < src.length) {
    const c = src[pos.i];
    if (c === ')') break;
    if (c === '|') {
      skipAlternatives(src, pos);
      break;
    }
    let text;
    if (c === '(') {
      pos.i++;
      if (src[pos.i] === '?') {
        if (src[pos.i + 1] !== ':') throw new Error('lookaround');
        pos.i += 2;
      }
      const inner = parseSequence(src, pos);
      if (src[pos.i] !== ')') throw new Error('unclosed group');
      pos.i++;
      text = inner.map((p) => p.text.repeat(p.count)).join('');
    } else if (c === '[') {
      text = classChar(src, pos);
    } else if (c === '\\') {
      text = escapeChar(src[pos.i + 1]);
      pos.i += 2;
    } else if (c === '.') {
      text = 'a';
      pos.i++;
    } else if (c === '^' || c === '$') {
      text = '';
      pos.i++;
    } else {
      text = c;
      pos.i++;
    }
    const [lo, hi] = quantifier(src, pos);
    pieces.push({text, count: lo, hi});
  }
  return pieces;
}

function skipAlternatives(src, pos) {
  let depth = 0;
  for (; pos.i < src.length; pos.i++) {
    const c = src[pos.i];
    if (c === '\\') pos.i++;
    else if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) return;
      depth--;
    }
  }
}

// quantifier reads the quantifier after an atom, if any: its bounds.
function quantifier(src, pos) {
  const c = src[pos.i];
  let bounds = [1, 1];
  if (c === '?') bounds = [0, 1];
  else if (c === '*') bounds = [0, Infinity];
  else if (c === '+') bounds = [1, Infinity];
  else if (c === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(pos.i));
    if (!m) return bounds;
    const lo = Number(m[1]);
    bounds = [lo, m[2] === undefined ? lo : m[3] === '' ? Infinity : Number(m[3])];
    pos.i += m[0].length - 1;
  } else {
    return bounds;
  }
  pos.i++;
  if (src[pos.i] === '?') pos.i++; // lazy: the same strings
  return bounds;
}

// escapeChar is a character that escape \c stands for.
function escapeChar(c) {
  return {d: '0', D: 'a', w: 'a', W: '-', s: ' ', S: 'a', n: '\n', t: '\t', r: '\r'}[c] ?? c;
}

// classChar reads a character class and returns one character in it,
// a letter or digit when it has one.
function classChar(src, pos) {
  let i = pos.i + 1;
  const negated = src[i] === '^';
  if (negated) i++;
  const ranges = [];
  let first = true;
  while (i < src.length && (src[i] !== ']' || first)) {
    first = false;
    let lo = src[i];
    if (lo === '\\') {
      const e = src[i + 1];
      i += 2;
      const named = {d: ['0', '9'], w: ['a', 'z'], s: [' ', ' ']}[e];
      if (named) {
        ranges.push(named);
        continue;
      }
      lo = escapeChar(e);
    } else {
      i++;
    }
    if (src[i] === '-' && src[i + 1] !== ']' && i + 1 < src.length) {
      let hi = src[i + 1];
      i += 2;
      if (hi === '\\') {
        hi = escapeChar(src[i]);
        i++;
      }
      ranges.push([lo, hi]);
    } else {
      ranges.push([lo, lo]);
    }
  }
  if (src[i] !== ']') throw new Error('unclosed class');
  pos.i = i + 1;
  const inClass = (ch) => ranges.some(([a, b]) => ch >= a && ch <= b);
  const preferred = ['a', 'x', 'A', '0', '1', '_', '-', '.', ' '];
  if (negated) return preferred.find((ch) => !inClass(ch)) ?? 'a';
  return preferred.find(inClass) ?? ranges[0][0];
}

function exampleNumber(s, integer) {
  let v = 0;
  if (s.minimum !== undefined) v = s.minimum;
  else if (s.exclusiveMinimum !== undefined) v = s.exclusiveMinimum + (integer ? 1 : 0.5);
  else if (s.maximum !== undefined && s.maximum < 0) v = s.maximum;
  else if (s.exclusiveMaximum !== undefined && s.exclusiveMaximum <= 0) v = s.exclusiveMaximum - 1;
  if (s.multipleOf) v = Math.ceil(v / s.multipleOf) * s.multipleOf;
  return integer ? Math.ceil(v) : v;
}

// messageExample returns an example for a message: its first example's
// payload when the document gives one, otherwise one built from the schema.
// The example of a message that clients send and do not receive is one they
// can send unchanged: it leaves out the optional properties for which the
// schema declares no value, as a made-up value for them (a room the client
// is not in) would more likely be refused than help.
export function messageExample(doc, message) {
  for (const ex of message.examples) {
    let e;
    try {
      e = deref(doc, ex);
    } catch {
      continue;
    }
    if (e && 'payload' in e) return e.payload;
  }
  const v = exampleFor(doc, message.payload, {minimal: message.clientSends && !message.clientReceives});
  return v === undefined ? null : v;
}
