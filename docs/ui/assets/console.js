// The live console: pick a channel, fill its parameters, connect to this
// server, send example or hand-written messages and watch what arrives.

import {fillAddress} from './asyncapi.js';
import {append, h, slug} from './dom.js';
import {messageExample} from './schema.js';

// closeCodes explains the close codes a reader is likely to see (RFC 6455
// section 7.4.1 and the IANA registry).
const closeCodes = {
  1000: 'normal closure',
  1001: 'going away: the server is shutting down, or the page is leaving',
  1002: 'protocol error',
  1003: 'unsupported data: the server does not accept this kind of message',
  1005: 'no status code was sent',
  1006: 'abnormal closure: no close frame arrived; the server refused or rejected the handshake, or the connection was lost',
  1007: 'invalid payload: the server could not decode a message',
  1008: 'policy violation',
  1009: 'message too big',
  1010: 'a required extension is missing',
  1011: 'internal error on the server',
  1012: 'service restart',
  1013: 'try again later: the server is overloaded or closed a slow consumer',
  1014: 'bad gateway',
  1015: 'TLS handshake failure',
};

// describeClose returns what a close code means.
export function describeClose(code) {
  if (closeCodes[code]) return closeCodes[code];
  if (code >= 4000 && code <= 4999) return 'a code defined by the application';
  if (code >= 3000 && code <= 3999) return 'a code registered by a library or framework';
  return 'an unknown code';
}

const stateNames = ['connecting', 'connected', 'closing', 'disconnected'];

// Console is the console panel. It keeps at most one WebSocket open.
export class Console {
  constructor(root, doc, model) {
    this.root = root;
    this.doc = doc;
    this.model = model;
    this.ws = null;
    this.shown = null; // the id of the channel on show
    this.values = new Map(); // channel id → {params, query, subprotocols} typed so far
    this.creds = new Map(); // security scheme id → credential typed so far
    this.build();
    const first = model.channels.find((c) => c.address !== null);
    if (first) this.select(first.id);
    this.setState(3);
  }

  build() {
    const channels = this.model.channels.filter((c) => c.address !== null);
    this.channelSelect = h('select', {id: 'console-channel', onchange: () => this.select(this.channelSelect.value)},
      channels.map((c) => h('option', {value: c.id}, `${c.address}${c.title ? ` · ${c.title}` : ''}`)));
    this.params = h('div', {id: 'console-params', class: 'fields'});
    this.query = h('div', {id: 'console-query', class: 'fields'});
    this.credentials = h('div', {id: 'console-credentials', class: 'fields'});
    this.headersNote = h('p', {id: 'console-headers', class: 'hint'});
    this.subprotocols = h('input', {id: 'console-subprotocols', type: 'text', placeholder: 'none', oninput: () => this.updateURL()});
    this.subprotocolsNote = h('p', {id: 'console-subprotocols-note', class: 'hint'});
    this.extraQuery = h('input', {id: 'console-extra-query', type: 'text', placeholder: 'e.g. token=abc&debug=1', oninput: () => this.updateURL()});
    this.urlOut = h('output', {id: 'console-url', class: 'url'});
    this.connectBtn = h('button', {id: 'console-connect', type: 'button', class: 'primary', onclick: () => this.connect()}, 'Connect');
    this.disconnectBtn = h('button', {id: 'console-disconnect', type: 'button', onclick: () => this.disconnect()}, 'Disconnect');
    this.stateOut = h('span', {id: 'console-state', class: 'state', role: 'status'});
    this.messageSelect = h('select', {id: 'console-message', onchange: () => this.insertExample()});
    this.exampleBtn = h('button', {id: 'console-example', type: 'button', onclick: () => this.insertExample()}, 'Insert example');
    this.noMessages = h('p', {id: 'console-no-messages', class: 'hint', hidden: true},
      'This channel declares no message for clients to send; you can still type one.');
    this.editor = h('textarea', {id: 'console-editor', rows: 7, spellcheck: 'false', 'aria-label': 'Message to send',
      oninput: () => this.showEditorError(null),
      onkeydown: (e) => {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          this.send();
        }
      }});
    this.editorError = h('p', {id: 'console-editor-error', class: 'error', role: 'alert', hidden: true});
    this.raw = h('input', {id: 'console-raw', type: 'checkbox', onchange: () => this.showEditorError(null)});
    this.sendBtn = h('button', {id: 'console-send', type: 'button', class: 'primary', onclick: () => this.send()}, 'Send');
    this.formatBtn = h('button', {id: 'console-format', type: 'button', onclick: () => this.format()}, 'Format JSON');
    this.log = h('ol', {id: 'console-log', class: 'log', 'aria-live': 'polite'});

    append(this.root, [
      h('h2', {}, 'Live console'),
      h('p', {class: 'hint'}, 'Connects from this page to this server. Messages you send are what the document lists as the server\'s ',
        h('em', {}, 'receive'), ' operations.'),
      channels.length ? null : h('p', {class: 'error'}, 'The document has no channel with an address to connect to.'),
      h('label', {for: 'console-channel'}, 'Channel'), this.channelSelect,
      this.params, this.query, this.credentials,
      h('label', {for: 'console-subprotocols'}, 'Subprotocols (Sec-WebSocket-Protocol, comma-separated)'), this.subprotocols,
      this.subprotocolsNote, this.headersNote,
      h('details', {class: 'advanced'}, h('summary', {}, 'More options'),
        h('label', {for: 'console-extra-query'}, 'Extra query string, for parameters the document does not list'), this.extraQuery),
      h('div', {class: 'url-row'}, this.urlOut),
      h('div', {class: 'buttons'}, this.connectBtn, this.disconnectBtn, this.stateOut),
      h('label', {for: 'console-message'}, 'Message'),
      h('div', {class: 'buttons'}, this.messageSelect, this.exampleBtn),
      this.noMessages,
      this.editor, this.editorError,
      h('div', {class: 'buttons'}, this.sendBtn, this.formatBtn,
        h('label', {class: 'check'}, this.raw, ' send as raw text (no JSON check)')),
      h('div', {class: 'log-head'}, h('h3', {}, 'Log'),
        h('button', {id: 'console-clear', type: 'button', onclick: () => this.log.replaceChildren()}, 'Clear')),
      this.log,
    ]);
  }

  channel() {
    return this.model.channels.find((c) => c.id === this.channelSelect.value) || null;
  }

  // select shows channel id in the console, and message key in the editor.
  select(id, messageKey) {
    this.saveValues();
    this.channelSelect.value = id;
    const ch = this.channel();
    if (!ch) return;
    const saved = this.values.get(ch.id) || {params: {}, query: {}, subprotocols: null};

    this.params.replaceChildren();
    if (ch.parameters.length) this.params.append(h('h3', {}, 'Address parameters'));
    for (const p of ch.parameters) {
      const id = `console-param-${slug(p.name)}`;
      const value = saved.params[p.name] ?? (p.default !== undefined ? String(p.default) : '');
      let input;
      if (p.enum) {
        input = h('select', {id, dataset: {param: p.name}, onchange: () => this.updateURL()},
          p.enum.map((v) => h('option', {value: String(v), selected: String(v) === value}, String(v))));
      } else {
        input = h('input', {id, type: 'text', value, required: true, dataset: {param: p.name},
          placeholder: p.examples.length ? `e.g. ${p.examples[0]}` : p.name, oninput: () => this.updateURL()});
      }
      this.params.append(h('label', {for: id}, `{${p.name}}`, p.description ? h('span', {class: 'hint'}, ` ${p.description}`) : null), input);
    }

    this.query.replaceChildren();
    const qprops = ch.query && ch.query.properties ? Object.entries(ch.query.properties) : [];
    const qreq = new Set(ch.query && Array.isArray(ch.query.required) ? ch.query.required : []);
    if (qprops.length) this.query.append(h('h3', {}, 'Query parameters'));
    for (const [name, schema] of qprops) {
      const id = `console-query-${slug(name)}`;
      const s = schema && typeof schema === 'object' ? schema : {};
      const hintValue = Array.isArray(s.examples) && s.examples.length ? s.examples[0] : s.default;
      this.query.append(
        h('label', {for: id}, name, qreq.has(name) ? ' (required)' : ' (optional)',
          s.description ? h('span', {class: 'hint'}, ` ${s.description}`) : null),
        h('input', {id, type: 'text', value: saved.query[name] ?? '', required: qreq.has(name), dataset: {query: name},
          placeholder: hintValue !== undefined ? `e.g. ${hintValue}` : '', oninput: () => this.updateURL()}));
    }

    this.credentials.replaceChildren();
    if (ch.security.length) {
      this.credentials.append(h('h3', {}, 'Credentials'), h('p', {class: 'hint'}, ch.security.length > 1
        ? 'The handshake must carry one of these credentials; fill in one.'
        : 'The handshake must carry this credential.'));
      for (const sc of ch.security) this.credentials.append(...this.credentialField(ch, sc));
    }

    // The subprotocol header is the one a browser sets: from the field.
    this.subprotocols.value = saved.subprotocols ?? ch.subprotocols.join(', ');
    this.subprotocolsNote.hidden = ch.subprotocols.length === 0;
    this.subprotocolsNote.textContent = ch.subprotocols.length
      ? `This channel speaks ${ch.subprotocols.join(', ')}; the console offers what the field lists.`
      : '';
    const hprops = ch.headers && ch.headers.properties
      ? Object.keys(ch.headers.properties).filter((name) => name.toLowerCase() !== 'sec-websocket-protocol')
      : [];
    this.headersNote.hidden = hprops.length === 0;
    this.headersNote.textContent = hprops.length
      ? `This channel also reads the headers ${hprops.join(', ')}. A browser can set no header on a WebSocket but Sec-WebSocket-Protocol (the subprotocols above), so send these with another client.`
      : '';

    const sendable = ch.messages.filter((m) => m.clientSends);
    const choices = sendable.length ? sendable : ch.messages;
    this.messageSelect.replaceChildren(...choices.map((m) =>
      h('option', {value: m.key}, m.title ? `${m.name} · ${m.title}` : m.name)));
    this.noMessages.hidden = sendable.length > 0;
    if (messageKey && choices.some((m) => m.key === messageKey)) this.messageSelect.value = messageKey;
    this.shown = ch.id;
    this.insertExample();
    this.updateURL();
  }

  // credentialField returns the label, input and hint that say how a
  // browser presents the credential of security scheme sc on channel ch,
  // or why it cannot.
  credentialField(ch, sc) {
    const id = `console-cred-${slug(sc.id)}`;
    const header = sc.type === 'http' ? 'Authorization' : sc.in === 'header' ? sc.name : null;
    const what = sc.type === 'http'
      ? `${sc.scheme === 'bearer' ? `bearer token${sc.bearerFormat ? ` (${sc.bearerFormat})` : ''}` : `${sc.scheme || 'HTTP'} credentials`}`
      : `API key (${sc.in || '?'} ${sc.name || '?'})`;
    const label = h('label', {for: id}, h('code', {}, sc.id), ` ${what}`);
    const input = (dataset) => h('input', {id, type: 'text', autocomplete: 'off', spellcheck: 'false', value: this.creds.get(sc.id) || '',
      dataset: {cred: sc.id, ...dataset}, oninput: (e) => {
        this.creds.set(sc.id, e.target.value);
        this.updateURL();
      }});
    const hint = (text, cls = 'hint') => h('p', {class: cls, dataset: {credHint: sc.id}}, text);
    if (sc.subprotocolPrefix && ch.subprotocols.length) {
      return [label, input({credPrefix: sc.subprotocolPrefix}),
        hint(`Sent as the subprotocol entry ${sc.subprotocolPrefix}<value>, next to the channel's subprotocol ${ch.subprotocols[0]}, which the server answers with${header ? `: a browser cannot set the ${header} header on a WebSocket` : ''}.`)];
    }
    if (sc.subprotocolPrefix) {
      return [label, hint(`The server takes it as a subprotocol entry ${sc.subprotocolPrefix}<value>, but this channel declares no subprotocol to answer with, and a browser drops a handshake answered with none of the subprotocols it offered: use another client.`, 'error')];
    }
    if (sc.type === 'httpApiKey' && sc.in === 'query') {
      return [label, input({credQuery: sc.name}),
        hint(`Sent as the query parameter ${sc.name}. Query strings end up in server logs and browser history.`)];
    }
    if (sc.type === 'httpApiKey' && sc.in === 'cookie') {
      return [label, hint(`The browser sends the cookie ${sc.name} if it holds one for this site; the console cannot set it.`)];
    }
    return [label, hint(`A browser cannot send ${header ? `the ${header} header` : 'this credential'} on a WebSocket: use another client.`, 'error')];
  }

  // saveValues keeps what was typed for the channel on show, if any.
  saveValues() {
    const ch = this.model.channels.find((c) => c.id === this.shown);
    if (!ch) return;
    const params = {};
    for (const el of this.params.querySelectorAll('[data-param]')) params[el.dataset.param] = el.value;
    const query = {};
    for (const el of this.query.querySelectorAll('[data-query]')) query[el.dataset.query] = el.value;
    this.values.set(ch.id, {params, query, subprotocols: this.subprotocols.value});
  }

  // offered returns the subprotocols to offer: the field's, and an entry
  // per credential that travels as one, next to the channel's own
  // subprotocol when the field names none.
  offered() {
    const ch = this.channel();
    const protocols = this.subprotocols.value.split(',').map((s) => s.trim()).filter(Boolean);
    const creds = [];
    for (const el of this.credentials.querySelectorAll('[data-cred-prefix]')) {
      if (el.value !== '') creds.push(el.dataset.credPrefix + el.value);
    }
    if (creds.length && !protocols.length && ch && ch.subprotocols.length) protocols.push(ch.subprotocols[0]);
    return {protocols: [...protocols, ...creds], withCredentials: creds.length > 0};
  }

  message() {
    const ch = this.channel();
    return ch ? ch.messages.find((m) => m.key === this.messageSelect.value) || null : null;
  }

  insertExample() {
    const m = this.message();
    if (!m) return;
    this.editor.value = JSON.stringify(messageExample(this.doc, m), null, 2);
    this.showEditorError(null);
  }

  // target returns the URL to connect to, or the list of what is missing.
  target() {
    const ch = this.channel();
    if (!ch) return {missing: ['a channel']};
    const values = {};
    const missing = [];
    for (const el of this.params.querySelectorAll('[data-param]')) {
      values[el.dataset.param] = el.value;
      if (el.value === '') missing.push(`{${el.dataset.param}}`);
    }
    const qs = new URLSearchParams();
    for (const el of this.query.querySelectorAll('[data-query]')) {
      if (el.value !== '') qs.append(el.dataset.query, el.value);
      else if (el.required) missing.push(`?${el.dataset.query}`);
    }
    const secret = [];
    for (const el of this.credentials.querySelectorAll('[data-cred-query]')) {
      if (el.value !== '') {
        qs.append(el.dataset.credQuery, el.value);
        secret.push(el.dataset.credQuery);
      }
    }
    for (const [k, v] of new URLSearchParams(this.extraQuery.value.replace(/^\?/, ''))) qs.append(k, v);
    const server = this.model.servers.find((s) => (s.protocol === 'ws' || s.protocol === 'wss') && s.pathname);
    const prefix = server ? server.pathname.replace(/\/$/, '') : '';
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const query = qs.toString();
    const url = `${scheme}//${location.host}${prefix}${fillAddress(ch.address, values)}${query ? `?${query}` : ''}`;
    // shown is the URL for the log, with credentials masked.
    for (const name of secret) qs.set(name, '…');
    const shownQuery = qs.toString();
    const shown = `${scheme}//${location.host}${prefix}${fillAddress(ch.address, values)}${shownQuery ? `?${shownQuery}` : ''}`;
    return {url, shown, missing, withCredentials: secret.length > 0};
  }

  updateURL() {
    const t = this.target();
    this.urlOut.value = t.url || '';
    this.urlOut.classList.toggle('incomplete', t.missing.length > 0);
    this.urlOut.title = t.missing.length ? `Fill in ${t.missing.join(', ')}` : '';
  }

  setState(n) {
    this.stateOut.textContent = stateNames[n];
    this.stateOut.dataset.state = stateNames[n];
    const idle = n === 3;
    this.connectBtn.disabled = !idle;
    this.disconnectBtn.disabled = idle || n === 2;
    this.sendBtn.disabled = n !== 1;
  }

  connect() {
    if (this.ws) return;
    const t = this.target();
    if (t.missing.length) {
      this.entry('error', 'error', `Cannot connect: fill in ${t.missing.join(', ')} first.`);
      return;
    }
    const ch = this.channel();
    const offer = this.offered();
    const protocols = offer.protocols;
    const credentials = offer.withCredentials || t.withCredentials;
    let opened = false;
    let ws;
    try {
      ws = new WebSocket(t.url, protocols);
    } catch (err) {
      this.entry('error', 'error', `Cannot connect to ${t.url}: ${err.message}`);
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.setState(0);
    this.entry('info', 'connecting', t.shown);
    ws.addEventListener('open', () => {
      opened = true;
      this.setState(1);
      this.entry('info', 'connected', ws.protocol ? `subprotocol ${ws.protocol}` : '');
    });
    ws.addEventListener('message', (e) => this.received(e.data));
    ws.addEventListener('error', () => {
      // Browsers do not tell pages why a WebSocket failed; the close event
      // that follows carries the code.
      this.entry('error', 'error', 'The connection failed or broke. The browser does not reveal why; the close code below says more. If the connection was never open, the server refused it or rejected the handshake (a wrong address or parameter, missing credentials, a disallowed origin).');
    });
    ws.addEventListener('close', (e) => {
      if (this.ws === ws) this.ws = null;
      this.setState(3);
      const reason = e.reason ? `, reason "${e.reason}"` : '';
      this.entry(e.code === 1000 ? 'info' : 'error', 'closed',
        `code ${e.code} (${describeClose(e.code)})${reason}${e.wasClean ? '' : ', not a clean close'}`, {code: String(e.code)});
      if (!opened && ch && ch.security.length) {
        this.entry('error', 'hint', credentials
          ? 'This channel needs credentials: check the one you gave (a refused credential gets a 401 before the upgrade, which a browser reports as 1006).'
          : 'This channel needs credentials, and none was given: fill one in under Credentials.');
      }
    });
  }

  disconnect() {
    if (!this.ws) return;
    this.setState(2);
    this.ws.close(1000, 'closed from the docs console');
  }

  // parseEditor returns the editor's text, checked as JSON unless raw text
  // is asked for, or null after showing why it cannot be sent.
  parseEditor() {
    const text = this.editor.value;
    if (this.raw.checked) return text;
    try {
      JSON.parse(text);
    } catch (err) {
      this.showEditorError(`Not valid JSON: ${err.message}. Fix it, or tick "send as raw text".`);
      return null;
    }
    return text;
  }

  send() {
    const text = this.parseEditor();
    if (text === null) return;
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
      this.showEditorError('Not connected: connect first.');
      return;
    }
    this.ws.send(text);
    this.entry('out', 'sent', pretty(text), this.labelFor(text));
  }

  format() {
    const text = this.editor.value;
    try {
      this.editor.value = JSON.stringify(JSON.parse(text), null, 2);
      this.showEditorError(null);
    } catch (err) {
      this.showEditorError(`Not valid JSON: ${err.message}`);
    }
  }

  showEditorError(msg) {
    this.editorError.hidden = !msg;
    this.editorError.textContent = msg || '';
    this.editor.classList.toggle('invalid', !!msg);
  }

  received(data) {
    if (data instanceof ArrayBuffer) {
      const bytes = new Uint8Array(data);
      const hex = Array.from(bytes.slice(0, 64), (b) => b.toString(16).padStart(2, '0')).join(' ');
      this.entry('in', 'received', `binary message, ${bytes.length} bytes: ${hex}${bytes.length > 64 ? ' …' : ''}`);
      return;
    }
    this.entry('in', 'received', pretty(data), this.labelFor(data));
  }

  // labelFor names the declared message a JSON text is, by its envelope's
  // event name.
  labelFor(text) {
    const ch = this.channel();
    let v;
    try {
      v = JSON.parse(text);
    } catch {
      return {};
    }
    if (!ch || !v || typeof v !== 'object' || typeof v.event !== 'string') return {};
    const m = ch.messages.find((cm) => cm.event === v.event);
    return m ? {message: m.name} : {event: v.event};
  }

  entry(kind, what, text, extra = {}) {
    const now = new Date();
    const ts = `${now.toLocaleTimeString([], {hour12: false})}.${String(now.getMilliseconds()).padStart(3, '0')}`;
    const arrow = {in: '←', out: '→', info: '•', error: '✕'}[kind];
    const label = extra.message || extra.event;
    const li = h('li', {class: `entry ${kind}`, dataset: {kind, ...(extra.code ? {code: extra.code} : {})}},
      h('div', {class: 'entry-head'},
        h('time', {datetime: now.toISOString()}, ts),
        h('span', {class: 'dir'}, `${arrow} ${what}`),
        label ? h('span', {class: 'label'}, label) : null),
      text ? h('pre', {class: 'body'}, text) : null);
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    this.log.append(li);
    if (atBottom) this.log.scrollTop = this.log.scrollHeight;
  }
}

// pretty indents JSON text and leaves anything else as it is.
function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
