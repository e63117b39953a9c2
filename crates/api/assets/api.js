// The API client. The token (when the server has one) arrives once in the page address as
// `#token=...`; it is moved to sessionStorage (this tab only, never sent in a URL or a
// Referer) and sent as `Authorization: Bearer` on every request, including the live stream,
// which is read with fetch so that it can carry the header.

const KEY = 'vedette.token';

/** Takes `#token=...` out of the address into sessionStorage. */
export function captureToken() {
  const m = /^#token=([^&]*)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', `${location.pathname}#/overview`);
  }
}

function headers() {
  const t = sessionStorage.getItem(KEY);
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/** GET /api/<path> with `params` (empty values left out); rejects with the server's error. */
export async function get(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const qs = q.toString();
  const r = await fetch(`/api/${path}${qs ? `?${qs}` : ''}`, { headers: headers() });
  if (!r.ok) {
    let msg = `${r.status} ${r.statusText}`;
    try { msg = (await r.json()).error || msg; } catch (_) { /* not JSON */ }
    if (r.status === 401) msg += ' — open the dashboard with #token=<token>';
    throw new Error(msg);
  }
  return r.json();
}

/**
 * Reads /api/stream (server-sent events) and calls onEvent(type, data) for each event until
 * `signal` aborts; reconnects after a pause when the connection drops.
 */
export async function stream(onEvent, onState, signal) {
  while (!signal.aborted) {
    try {
      const r = await fetch('/api/stream', { headers: headers(), signal });
      if (!r.ok) throw new Error(`${r.status}`);
      onState('connected');
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let type = 'message';
          const data = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) type = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length) onEvent(type, data.join('\n'));
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      onState(`disconnected (${e.message})`);
    }
    await new Promise((res) => setTimeout(res, 2000));
  }
}
