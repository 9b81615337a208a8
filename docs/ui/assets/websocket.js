// The WebSocket reference page: loads the AsyncAPI document named by the
// page, renders its channels, operations and messages, and starts the
// live console.

import {readDocument} from './asyncapi.js';
import {Console} from './console.js';
import {h, paragraphs, slug} from './dom.js';
import {messageExample, renderSchema} from './schema.js';

const main = document.getElementById('reference');
const consoleRoot = document.getElementById('console');

function fail(title, detail) {
  main.removeAttribute('aria-busy');
  main.replaceChildren(h('div', {class: 'error', id: 'load-error', role: 'alert'},
    h('h2', {}, title), detail ? h('p', {}, detail) : null));
  consoleRoot.hidden = true;
}

async function load() {
  const url = document.body.dataset.asyncapiUrl;
  let res;
  try {
    res = await fetch(url, {headers: {Accept: 'application/json'}, cache: 'no-cache'});
  } catch (err) {
    fail('Could not load the AsyncAPI document', `${url}: ${err.message}`);
    return;
  }
  if (!res.ok) {
    fail('Could not load the AsyncAPI document', `${url} answered HTTP ${res.status} ${res.statusText}`);
    return;
  }
  let doc;
  const text = await res.text();
  try {
    doc = JSON.parse(text);
  } catch (err) {
    fail('The AsyncAPI document is not JSON', `${url}: ${err.message}`);
    return;
  }
  let model;
  try {
    model = readDocument(doc);
  } catch (err) {
    fail('The AsyncAPI document cannot be read', err.message);
    return;
  }
  render(doc, model);
}

function render(doc, model) {
  const title = model.title || 'WebSocket API';
  document.title = `${title} · WebSocket API`;
  const cons = new Console(consoleRoot, doc, model);
  const tryIt = (channel, message) => {
    cons.select(channel.id, message && message.key);
    consoleRoot.scrollIntoView({block: 'start'});
    if (message) cons.editor.focus();
    else (cons.params.querySelector('input, select') || cons.connectBtn).focus();
  };

  const parts = [];
  parts.push(h('header', {class: 'doc-head'},
    h('h1', {}, title, model.infoVersion ? h('span', {class: 'version'}, model.infoVersion) : null),
    h('p', {class: 'meta'}, `AsyncAPI ${model.version || '?'}`),
    paragraphs(model.description)));

  if (model.problems.length) {
    parts.push(h('div', {class: 'warning', id: 'problems', role: 'note'},
      h('h2', {}, 'Parts of the document could not be read'),
      h('ul', {}, model.problems.map((p) => h('li', {}, p)))));
  }

  parts.push(h('div', {class: 'callout', id: 'directions'},
    h('h2', {}, 'Reading the operations'),
    h('p', {}, 'AsyncAPI describes operations from the server\'s point of view:'),
    h('ul', {},
      h('li', {}, h('span', {class: 'badge receive'}, 'receive'), ' the server receives it: ', h('strong', {}, 'you (the client) send it'), '.'),
      h('li', {}, h('span', {class: 'badge send'}, 'send'), ' the server sends it: ', h('strong', {}, 'you receive it'), '.'))));

  if (model.servers.length) {
    parts.push(h('section', {class: 'servers'}, h('h2', {}, 'Servers'),
      h('ul', {}, model.servers.map((s) => h('li', {},
        h('code', {}, `${s.protocol || '?'}://${s.host || '?'}${s.pathname || ''}`),
        s.title || s.description ? ` ${s.title || s.description}` : '')))));
  }

  if (model.securitySchemes.length) {
    parts.push(h('section', {class: 'security', id: 'security'}, h('h2', {}, 'Security schemes'),
      h('ul', {}, model.securitySchemes.map((sc) => h('li', {dataset: {scheme: sc.id}},
        h('code', {}, sc.id), ' ', securityLabel(sc),
        sc.description ? h('span', {class: 'hint'}, ` ${sc.description}`) : null)))));
  }

  if (!model.channels.length) {
    parts.push(h('p', {class: 'status', id: 'no-channels'}, 'The document declares no channels.'));
  } else {
    parts.push(h('nav', {class: 'toc', 'aria-label': 'Channels'}, h('h2', {}, 'Channels'),
      h('ul', {}, model.channels.map((c) => h('li', {},
        h('a', {href: `#channel-${slug(c.id)}`}, h('code', {}, c.address ?? c.id)),
        c.title || c.summary ? ` ${c.title || c.summary}` : '')))));
    for (const ch of model.channels) parts.push(renderChannel(doc, ch, tryIt));
  }
  main.replaceChildren(...parts);
  main.removeAttribute('aria-busy');
  if (location.hash) {
    const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target) target.scrollIntoView();
  }
}

// securityLabel says in a few words how a security scheme is presented.
function securityLabel(sc) {
  const parts = [sc.type || 'unknown type'];
  if (sc.scheme) parts.push(sc.scheme);
  if (sc.bearerFormat) parts.push(sc.bearerFormat);
  if (sc.in || sc.name) parts.push(`${sc.name || '?'} in ${sc.in || '?'}`);
  return h('span', {class: 'chip'}, parts.join(' · '));
}

function tags(list) {
  return list.length ? h('p', {class: 'tags'}, list.map((t) => h('span', {class: 'tag'}, t))) : null;
}

function renderChannel(doc, ch, tryIt) {
  const body = [];
  body.push(h('header', {class: 'channel-head'},
    h('h2', {}, h('code', {class: 'address'}, ch.address ?? '(no address)'), ch.title ? h('span', {class: 'title'}, ch.title) : null),
    h('p', {class: 'meta'}, `channel ${ch.id}${ch.method ? ` · upgrade with ${ch.method}` : ''}`),
    ch.address !== null ? h('button', {type: 'button', class: 'try', onclick: () => tryIt(ch)}, 'Open in console') : null));
  if (ch.summary) body.push(h('p', {class: 'summary'}, ch.summary));
  body.push(paragraphs(ch.description), tags(ch.tags));

  if (ch.parameters.length) {
    body.push(h('h3', {}, 'Address parameters'), h('table', {class: 'params'},
      h('thead', {}, h('tr', {}, h('th', {}, 'name'), h('th', {}, 'description'), h('th', {}, 'values'))),
      h('tbody', {}, ch.parameters.map((p) => h('tr', {dataset: {param: p.name}},
        h('td', {}, h('code', {}, p.name)),
        h('td', {}, p.description || ''),
        h('td', {}, [
          p.enum ? `one of ${p.enum.join(', ')}` : null,
          p.default !== undefined ? ` default ${p.default}` : null,
          p.examples.length ? ` e.g. ${p.examples.join(', ')}` : null,
        ]))))));
  }
  if (ch.query) body.push(h('h3', {}, 'Query parameters'), renderSchema(doc, ch.query));
  if (ch.headers) body.push(h('h3', {}, 'Headers of the upgrade request'), renderSchema(doc, ch.headers));

  if (ch.operations.length) {
    body.push(h('h3', {}, 'Operations'), h('ul', {class: 'operations'}, ch.operations.map((op) => renderOperation(op))));
  }
  if (ch.messages.length) {
    body.push(h('h3', {}, 'Messages'), ch.messages.map((m) => renderMessage(doc, ch, m, tryIt)));
  }
  return h('section', {class: 'channel', id: `channel-${slug(ch.id)}`, dataset: {channel: ch.id}}, body);
}

function directionBadge(action) {
  return action === 'receive'
    ? h('span', {class: 'badge receive', title: 'the server receives it: you send it'}, 'receive · you send')
    : h('span', {class: 'badge send', title: 'the server sends it: you receive it'}, 'send · you receive');
}

function renderOperation(op) {
  const names = op.messages.map((m) => m.name).join(', ');
  return h('li', {class: 'operation', id: `operation-${slug(op.id)}`, dataset: {operation: op.id, action: op.action}},
    h('div', {class: 'op-head'}, directionBadge(op.action), h('code', {}, op.id),
      op.title ? h('span', {class: 'title'}, op.title) : null),
    op.summary ? h('p', {class: 'summary'}, op.summary) : null,
    paragraphs(op.description),
    names ? h('p', {class: 'meta'}, `messages: ${names}`) : null,
    op.reply ? h('p', {class: 'meta'}, `reply: ${op.reply.messages.map((m) => m.name).join(', ')}`,
      op.action === 'receive' ? ' (the server answers you)' : ' (you answer the server)') : null,
    tags(op.tags));
}

function renderMessage(doc, ch, m, tryIt) {
  const badges = [];
  if (m.clientSends) badges.push(h('span', {class: 'badge receive'}, 'you send'));
  if (m.clientReceives) badges.push(h('span', {class: 'badge send'}, 'you receive'));
  let example;
  try {
    example = JSON.stringify(messageExample(doc, m), null, 2);
  } catch (err) {
    example = `(no example: ${err.message})`;
  }
  return h('article', {class: 'message', id: `message-${slug(ch.id)}-${slug(m.key)}`, dataset: {message: m.key}},
    h('header', {class: 'message-head'},
      h('h4', {}, h('code', {}, m.name), m.title ? h('span', {class: 'title'}, m.title) : null),
      badges,
      m.clientSends ? h('button', {type: 'button', class: 'try', onclick: () => tryIt(ch, m)}, 'Try it') : null),
    m.summary ? h('p', {class: 'summary'}, m.summary) : null,
    paragraphs(m.description),
    h('p', {class: 'meta'}, [
      `content type ${m.contentType}`,
      m.component ? ` · component ${m.component}` : null,
      m.event ? ` · event envelope "${m.event}"` : null,
      m.replyTo ? ` · reply to ${m.replyTo.map((o) => o.id).join(', ')}` : null,
    ]),
    tags(m.tags),
    m.headers ? [h('h5', {}, 'Headers'), renderSchema(doc, m.headers)] : null,
    h('h5', {}, 'Payload'),
    m.payload ? renderSchema(doc, m.payload) : h('p', {class: 'schema-any'}, 'No payload schema.'),
    h('h5', {}, 'Example'),
    h('pre', {class: 'example'}, example));
}

load().catch((err) => fail('The page failed', err && err.message ? err.message : String(err)));
