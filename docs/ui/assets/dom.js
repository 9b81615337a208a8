// Small DOM helpers. Text from the AsyncAPI document only ever reaches the
// page as text nodes or attribute values, never as HTML.

// h creates an element: h('a', {href: '#x', class: 'y'}, 'text', child).
// Attributes that are null, undefined or false are left out; true sets an
// empty attribute; keys starting with "on" add event listeners.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

// append adds children to el: nodes, strings (as text), arrays of those;
// null, undefined and false are skipped.
export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

// paragraphs renders a description as text paragraphs, one per blank-line
// separated block. Markdown is shown as written, not interpreted.
export function paragraphs(text, cls = 'description') {
  if (!text) return null;
  const blocks = String(text).split(/\n\s*\n/).map((b) => b.trim()).filter(Boolean);
  return h('div', {class: cls}, blocks.map((b) => h('p', {}, b)));
}

// slug turns an id into a fragment-safe string for element ids.
export function slug(s) {
  return String(s).replace(/[^A-Za-z0-9_-]+/g, '-');
}
