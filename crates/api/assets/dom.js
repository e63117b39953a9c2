// DOM helpers. Every string goes in as text (textContent / text nodes): packet-derived data
// is never parsed as HTML.

/** Creates an element with attributes (strings only) and children (nodes or text). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'onclick' || k === 'onsubmit' || k === 'oninput') e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = String(v);
    else e.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** Replaces the children of `node`. */
export function replace(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined)
    .map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
}

/** A table: `cols` = [[header, (row) => cell]], rows clickable when `onRow` is given. */
export function table(cols, rows, onRow) {
  const head = el('tr', {}, cols.map(([h]) => el('th', {}, h)));
  const body = rows.map((r) => {
    const tr = el('tr', { class: onRow ? 'clickable' : null }, cols.map(([, f]) => el('td', {}, f(r))));
    if (onRow) tr.addEventListener('click', () => onRow(r));
    return tr;
  });
  return el('table', {}, el('thead', {}, head), el('tbody', {}, body));
}

/** A severity badge. */
export function sev(s) {
  const n = [1, 2, 3].includes(s) ? s : 4;
  return el('span', { class: `sev sev${n}` }, s ?? '?');
}

const units = ['', 'k', 'M', 'G', 'T', 'P'];
/** 1234567 -> "1.23 M". */
export function human(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  let i = 0;
  let v = Number(n);
  while (Math.abs(v) >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${i ? v.toFixed(2) : Math.round(v * 100) / 100} ${units[i]}`.trim();
}

/** Microseconds since the epoch -> ISO text. */
export function isoMicros(us) {
  return new Date(Math.floor(us / 1000)).toISOString();
}

/** "1.2.3.4:80" with the port only when there is one. */
export function endpoint(ip, port) {
  if (ip === null || ip === undefined) return '';
  return port === null || port === undefined ? ip : `${ip}:${port}`;
}
