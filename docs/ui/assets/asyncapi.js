// Reads an AsyncAPI 3 document into the few shapes the page renders:
// channels with their parameters, ws binding, messages and operations.
// Only local references ("#/...") are followed; the page never fetches
// anything but the document itself.

// resolvePointer returns the node a local reference points to.
export function resolvePointer(doc, ref) {
  if (typeof ref !== 'string' || !ref.startsWith('#')) {
    throw new Error(`unsupported reference ${JSON.stringify(ref)}: only local references (#/...) are read`);
  }
  let node = doc;
  const path = ref.slice(1);
  if (path === '') return doc;
  for (const raw of path.replace(/^\//, '').split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) {
      throw new Error(`reference ${ref} does not resolve`);
    }
    node = node[key];
  }
  return node;
}

// deref follows $ref until it reaches a node that is not a reference.
export function deref(doc, node) {
  const seen = new Set();
  while (node && typeof node === 'object' && typeof node.$ref === 'string') {
    if (seen.has(node.$ref)) throw new Error(`reference cycle at ${node.$ref}`);
    seen.add(node.$ref);
    node = resolvePointer(doc, node.$ref);
  }
  return node;
}

// refName returns the last segment of a reference, the name of what it
// points to ("#/components/schemas/ChatMessage" → "ChatMessage").
export function refName(ref) {
  const parts = String(ref).split('/');
  return decodeURIComponent(parts[parts.length - 1]).replace(/~1/g, '/').replace(/~0/g, '~');
}

// safeDeref is deref that records a problem instead of throwing.
function safeDeref(doc, node, problems, where) {
  try {
    return deref(doc, node);
  } catch (err) {
    problems.push(`${where}: ${err.message}`);
    return null;
  }
}

// envelopeEvent returns the event name of a payload that uses forge's event
// envelope ({event: {const: NAME}, id?, payload}), or null.
export function envelopeEvent(doc, payload) {
  let schema;
  try {
    schema = deref(doc, payload);
  } catch {
    return null;
  }
  const ev = schema && schema.properties && schema.properties.event;
  if (!ev) return null;
  let evSchema;
  try {
    evSchema = deref(doc, ev);
  } catch {
    return null;
  }
  if (evSchema && typeof evSchema.const === 'string') return evSchema.const;
  return null;
}

// readDocument returns the page's model of doc. It never throws on a
// malformed part: what it cannot read is listed in problems.
export function readDocument(doc) {
  const problems = [];
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new Error('the document is not a JSON object');
  }
  const version = String(doc.asyncapi || '');
  if (!version.startsWith('3.')) {
    problems.push(`this page reads AsyncAPI 3; the document says asyncapi: ${JSON.stringify(doc.asyncapi)}`);
  }
  const info = doc.info || {};
  const servers = Object.entries(doc.servers || {}).map(([id, s]) => {
    const srv = safeDeref(doc, s, problems, `servers.${id}`) || {};
    return {id, host: srv.host, protocol: srv.protocol, pathname: srv.pathname, description: srv.description, title: srv.title};
  });

  const channels = [];
  const byId = new Map();
  for (const [id, raw] of Object.entries(doc.channels || {})) {
    const ch = safeDeref(doc, raw, problems, `channels.${id}`);
    if (!ch) continue;
    const ws = (ch.bindings && ch.bindings.ws) || {};
    const channel = {
      id,
      node: ch,
      address: typeof ch.address === 'string' ? ch.address : null,
      title: ch.title,
      summary: ch.summary,
      description: ch.description,
      tags: tagNames(doc, ch.tags),
      parameters: [],
      query: ws.query ? safeDeref(doc, ws.query, problems, `channels.${id}.bindings.ws.query`) : null,
      headers: ws.headers ? safeDeref(doc, ws.headers, problems, `channels.${id}.bindings.ws.headers`) : null,
      method: ws.method,
      subprotocols: [],
      security: [],
      messages: [],
      operations: [],
    };
    const proto = channel.headers && channel.headers.properties && channel.headers.properties['Sec-WebSocket-Protocol'];
    if (proto && Array.isArray(proto.examples)) channel.subprotocols = proto.examples.filter((e) => typeof e === 'string');
    const declared = ch.parameters || {};
    const inAddress = addressParams(channel.address);
    for (const name of inAddress) {
      const p = safeDeref(doc, declared[name], problems, `channels.${id}.parameters.${name}`) || {};
      if (!(name in declared)) problems.push(`channel ${id}: address parameter {${name}} is not declared`);
      channel.parameters.push({
        name,
        description: p.description,
        enum: Array.isArray(p.enum) ? p.enum : null,
        default: p.default,
        examples: Array.isArray(p.examples) ? p.examples : [],
        location: p.location,
      });
    }
    for (const [key, rawMsg] of Object.entries(ch.messages || {})) {
      const m = safeDeref(doc, rawMsg, problems, `channels.${id}.messages.${key}`);
      if (!m) continue;
      channel.messages.push(readMessage(doc, key, rawMsg, m));
    }
    channels.push(channel);
    byId.set(ch, channel);
  }

  const operations = [];
  for (const [id, raw] of Object.entries(doc.operations || {})) {
    const op = safeDeref(doc, raw, problems, `operations.${id}`);
    if (!op) continue;
    const chNode = safeDeref(doc, op.channel, problems, `operations.${id}.channel`);
    const channel = chNode ? byId.get(chNode) : null;
    if (!channel) {
      problems.push(`operation ${id}: its channel is not one of the document's channels`);
      continue;
    }
    const operation = {
      id,
      action: op.action,
      channel,
      title: op.title,
      summary: op.summary,
      description: op.description,
      tags: tagNames(doc, op.tags),
      messages: opMessages(doc, op.messages, channel, problems, `operation ${id}`),
      reply: null,
    };
    if (op.action !== 'send' && op.action !== 'receive') {
      problems.push(`operation ${id}: action ${JSON.stringify(op.action)} is neither send nor receive`);
    }
    // An operation without messages carries every message of its channel.
    if (!op.messages) operation.messages = channel.messages.slice();
    for (const m of operation.messages) {
      if (op.action === 'receive') m.clientSends = true;
      if (op.action === 'send') m.clientReceives = true;
    }
    const reply = op.reply ? safeDeref(doc, op.reply, problems, `operations.${id}.reply`) : null;
    if (reply) {
      const rch = reply.channel ? byId.get(safeDeref(doc, reply.channel, problems, `operations.${id}.reply.channel`)) : channel;
      if (rch) {
        const msgs = reply.messages ? opMessages(doc, reply.messages, rch, problems, `operation ${id} reply`) : rch.messages.slice();
        // The reply goes the other way: the server answers what it receives.
        for (const m of msgs) {
          if (op.action === 'receive') m.clientReceives = true;
          if (op.action === 'send') m.clientSends = true;
          m.replyTo = m.replyTo || [];
          m.replyTo.push(operation);
        }
        operation.reply = {channel: rch, messages: msgs};
      } else {
        problems.push(`operation ${id}: its reply channel is not one of the document's channels`);
      }
    }
    channel.operations.push(operation);
    operations.push(operation);
  }

  const securitySchemes = Object.entries((doc.components && doc.components.securitySchemes) || {}).map(([id, raw]) => {
    const sc = safeDeref(doc, raw, problems, `components.securitySchemes.${id}`) || {};
    return {id, node: sc, type: sc.type, scheme: sc.scheme, bearerFormat: sc.bearerFormat, in: sc.in, name: sc.name, description: sc.description,
      subprotocolPrefix: typeof sc['x-forge-subprotocol-prefix'] === 'string' ? sc['x-forge-subprotocol-prefix'] : null};
  });
  // A channel accepts the security schemes its operations list: the
  // handshake must satisfy one of them.
  for (const [id, raw] of Object.entries(doc.operations || {})) {
    const op = safeDeref(doc, raw, problems, `operations.${id}`);
    const channel = op && operations.find((o) => o.id === id)?.channel;
    if (!channel || !Array.isArray(op.security)) continue;
    for (const ref of op.security) {
      const sc = safeDeref(doc, ref, problems, `operations.${id}.security`);
      const scheme = sc && securitySchemes.find((s) => s.node === sc);
      if (scheme && !channel.security.includes(scheme)) channel.security.push(scheme);
    }
  }

  return {
    version,
    securitySchemes,
    title: info.title,
    infoVersion: info.version,
    description: info.description,
    servers,
    channels,
    operations,
    problems,
  };
}

// readMessage builds the page's view of one channel message.
function readMessage(doc, key, raw, m) {
  const ref = raw && typeof raw.$ref === 'string' ? raw.$ref : null;
  const componentRef = ref && ref.startsWith('#/components/messages/') ? ref : null;
  return {
    key,
    node: m,
    component: componentRef ? refName(componentRef) : null,
    name: m.name || key,
    title: m.title,
    summary: m.summary,
    description: m.description,
    contentType: m.contentType || doc.defaultContentType || 'application/json',
    payload: m.payload,
    headers: m.headers,
    examples: Array.isArray(m.examples) ? m.examples : [],
    tags: tagNames(doc, m.tags),
    event: m.payload ? envelopeEvent(doc, m.payload) : null,
    clientSends: false,
    clientReceives: false,
  };
}

// opMessages maps an operation's message references onto its channel's
// messages (by the object they resolve to).
function opMessages(doc, refs, channel, problems, where) {
  const out = [];
  for (const r of Array.isArray(refs) ? refs : []) {
    const target = safeDeref(doc, r, problems, where);
    if (!target) continue;
    const m = channel.messages.find((cm) => cm.node === target);
    if (!m) {
      problems.push(`${where}: a message is not one of channel ${channel.id}'s messages`);
      continue;
    }
    out.push(m);
  }
  return out;
}

// addressParams returns the {names} in a channel address, in order.
export function addressParams(address) {
  if (!address) return [];
  const names = [];
  for (const match of address.matchAll(/\{([^}]+)\}/g)) {
    if (!names.includes(match[1])) names.push(match[1]);
  }
  return names;
}

function tagNames(doc, tags) {
  if (!Array.isArray(tags)) return [];
  return tags.map((t) => {
    try {
      const tag = deref(doc, t);
      return tag && tag.name;
    } catch {
      return null;
    }
  }).filter(Boolean);
}

// fillAddress substitutes parameter values into an address, escaping each
// value as one path segment; a parameter without a value stays {name}.
export function fillAddress(address, values) {
  return address.replace(/\{([^}]+)\}/g, (whole, name) => (values[name] ? encodeURIComponent(values[name]) : whole));
}
