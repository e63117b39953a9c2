// The vedette dashboard: a hash-routed single page over the read-only JSON API.
// Every value from the API is shown as text (see dom.js).
import { captureToken, get, stream } from './api.js';
import { el, replace, table, sev, human, isoMicros, endpoint } from './dom.js';
import { timeChart, histogram, barList } from './charts.js';

captureToken();

const main = document.getElementById('main');
const statusEl = document.getElementById('status');
const rangeEl = document.getElementById('range');
const clearBtn = document.getElementById('clear-range');

/** The page's time filter (microseconds), set by dragging across a chart. */
let range = null;
/** Aborts what the current page started (live stream, pending loads). */
let pageAbort = new AbortController();

clearBtn.addEventListener('click', () => { setRange(null); });

function setRange(r) {
  range = r;
  if (r) {
    replace(rangeEl, `${isoMicros(r.from)} → ${isoMicros(r.to)}`);
    clearBtn.hidden = false;
  } else {
    replace(rangeEl);
    clearBtn.hidden = true;
  }
  route();
}

function selectSecs(from, to) {
  setRange({ from: Math.floor(from * 1e6), to: Math.ceil(to * 1e6) });
}

function rangeParams() {
  return range ? { from: range.from, to: range.to } : {};
}

function card(title, ...body) {
  return el('section', { class: 'card' }, el('h2', {}, title), ...body);
}

function errorBox(e) {
  return el('p', { class: 'error' }, `Error: ${e.message}`);
}

function flowLink(flowId) {
  if (!flowId) return '';
  return el('a', { href: `#/flow/${encodeURIComponent(flowId)}` }, flowId);
}

// ---------------------------------------------------------------- overview

async function overview() {
  const [ov, health] = await Promise.all([get('overview', rangeParams()), get('health')]);
  if (ov.empty) return [card('No data', el('p', { class: 'muted' }, 'The store holds no events yet.'))];
  const s = ov.series;
  const traffic = el('div', { class: 'chart', id: 'chart-throughput' });
  const packets = el('div', { class: 'chart', id: 'chart-packets' });
  const alerts = el('div', { class: 'chart', id: 'chart-alerts' });
  const out = [
    el('div', { class: 'card kpis', id: 'kpis' },
      kpi('alerts', ov.totals.alerts), kpi('flows', ov.totals.flows),
      kpi('packets', health.packets), kpi('bytes', health.bytes),
      kpi('kernel drops', health.kernel_drops, health.kernel_drops > 0),
      kpi('bus events dropped', health.bus_events_dropped, health.bus_events_dropped > 0),
      kpi('bucket', `${ov.bucket_secs} s`)),
    el('div', { class: 'grid' },
      card('Throughput (bytes/s)', traffic),
      card('Packets/s and flows/s', packets),
      card('Alerts by severity', alerts),
      card('Sensor health', healthView(health)),
      card('Protocol mix (bytes)', barList(ov.protocols.map((p) => [
        `${p.proto}${p.app_proto ? `/${p.app_proto}` : ''}`, p.bytes, `${human(p.flows)} flows`]))),
      card('Top talkers (bytes)', barList(ov.top_talkers.map((h) => [
        h.ip, h.bytes, `${human(h.flows)} flows`]))),
      card('Top signatures', el('div', { id: 'top-signatures' }, table([
        ['sev', (r) => sev(r.severity)], ['sid', (r) => r.signature_id],
        ['signature', (r) => r.signature], ['alerts', (r) => r.alerts],
      ], ov.top_signatures, (r) => go(`#/alerts?sid=${r.signature_id}`))))),
  ];
  // Charts need their containers in the page to measure width.
  requestAnimationFrame(() => {
    timeChart(traffic, { t: s.t, series: [{ label: 'bytes/s', values: s.bytes_per_s, color: '#2563eb' }], onSelect: selectSecs });
    timeChart(packets, { t: s.t, series: [
      { label: 'packets/s', values: s.pkts_per_s, color: '#059669' },
      { label: 'flows/s', values: s.flows_per_s, color: '#7c3aed' }], onSelect: selectSecs });
    timeChart(alerts, { t: s.t, yFormat: (v) => String(Math.round(v * 100) / 100), onSelect: selectSecs, series: [
      { label: 'sev 1', values: s.alerts_sev1, color: '#dc2626', bars: true },
      { label: 'sev 2', values: s.alerts_sev2, color: '#ea580c', bars: true },
      { label: 'sev 3', values: s.alerts_sev3, color: '#ca8a04', bars: true },
      { label: 'other', values: s.alerts_other, color: '#64748b', bars: true }] });
  });
  return out;
}

function kpi(label, v, bad) {
  return el('div', { class: bad ? 'kpi bad' : 'kpi' },
    el('div', { class: 'v' }, typeof v === 'number' ? human(v) : (v ?? '–')), el('div', { class: 'l' }, label));
}

function healthView(h) {
  if (!h.available) return el('p', { class: 'muted' }, 'No stats event stored yet.');
  const rows = [
    ['as of', h.time], ['packets', h.packets], ['kernel packets', h.kernel_packets],
    ['kernel drops', h.kernel_drops], ['invalid packets', h.invalid],
    ['flows (active)', `${h.flows} (${h.flows_active})`], ['signature alerts', h.alerts],
    ['bus batches dropped', h.bus_batches_dropped], ['bus events dropped', h.bus_events_dropped],
    ['reassembly gaps', h.reassembly_gaps], ['segment queue full', h.segment_queue_full_drops],
  ];
  const caps = Object.entries(h.caps || {}).filter(([k, v]) => typeof v === 'number' && v > 0 && k !== 'flows_peak');
  const anomalyCaps = Object.entries(h.anomaly_caps || {}).filter(([, v]) => v > 0);
  return el('div', {},
    table([['', (r) => r[0]], ['', (r) => r[1]]], rows),
    el('p', { class: caps.length ? 'error' : 'muted' }, caps.length
      ? `Caps hit: ${caps.map(([k, v]) => `${k} ${v}`).join(', ')}` : 'No cap hit.'),
    anomalyCaps.length ? el('p', { class: 'error' }, `Detector tracking caps hit: ${anomalyCaps.map(([k, v]) => `${k} ${v}`).join(', ')}`) : null);
}

// ---------------------------------------------------------------- search pages

const alertCols = [
  ['time', (r) => r.time], ['sev', (r) => sev(r.severity)], ['sid', (r) => r.signature_id],
  ['signature', (r) => r.signature], ['source', (r) => endpoint(r.src_ip, r.src_port)],
  ['destination', (r) => endpoint(r.dest_ip, r.dest_port)], ['proto', (r) => r.proto],
  ['app', (r) => r.app_proto ?? ''], ['detector', (r) => r.detector ?? ''],
  ['http', (r) => httpSummary(r.json)], ['flow', (r) => flowLink(r.flow_id)],
];

function httpSummary(j) {
  const h = j && j.http;
  if (!h) return '';
  return [h.http_method, h.hostname, h.url, h.http_user_agent ? `UA: ${h.http_user_agent}` : null].filter(Boolean).join(' ');
}

const flowCols = [
  ['time', (r) => r.time], ['source', (r) => endpoint(r.src_ip, r.src_port)],
  ['destination', (r) => endpoint(r.dest_ip, r.dest_port)], ['proto', (r) => r.proto],
  ['app', (r) => r.app_proto ?? ''], ['pkts', (r) => `${r.pkts_toserver}/${r.pkts_toclient}`],
  ['bytes', (r) => `${human(r.bytes_toserver)}/${human(r.bytes_toclient)}`],
  ['state', (r) => r.state ?? ''], ['alerted', (r) => (r.alerted ? 'yes' : '')],
  ['ml', (r) => (r.ml_score === undefined || r.ml_score === null ? '' : `${Number(r.ml_score).toFixed(3)} ${r.ml_label ?? ''}`)],
  ['flow', (r) => flowLink(r.flow_id)],
];

/** A filter form + paged table over `endpoint`. */
async function searchPage(kind, params) {
  const fields = kind === 'alerts'
    ? ['ip', 'port', 'sid', 'proto', 'app_proto', 'detector', 'sensor', 'q']
    : ['ip', 'port', 'proto', 'app_proto', 'sensor', 'q'];
  const labels = { q: 'text', app_proto: 'app proto' };
  const inputs = Object.fromEntries(fields.map((f) => [f, el('input', { name: f, value: params.get(f) ?? '' })]));
  const form = el('form', { class: 'filters', id: `${kind}-filters` },
    fields.map((f) => el('label', {}, labels[f] ?? f, inputs[f])),
    el('button', { type: 'submit' }, 'Search'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const f of fields) if (inputs[f].value.trim()) q.set(f, inputs[f].value.trim());
    go(`#/${kind}?${q}`);
  });
  const offset = Number(params.get('offset') || 0);
  const limit = 50;
  const query = { ...rangeParams(), limit, offset };
  for (const f of fields) if (params.get(f)) query[f] = params.get(f);
  const res = await get(kind, query);
  const cols = kind === 'alerts' ? alertCols : flowCols;
  const t = table(cols, res.items, (r) => r.flow_id && go(`#/flow/${r.flow_id}`));
  t.id = `${kind}-table`;
  const pageTo = (o) => { const q = new URLSearchParams(params); q.set('offset', String(o)); go(`#/${kind}?${q}`); };
  const pager = el('div', { class: 'pager' },
    el('button', { type: 'button', disabled: offset <= 0, onclick: () => pageTo(Math.max(0, offset - limit)) }, '← Newer'),
    el('span', {}, `${res.total ? offset + 1 : 0}–${offset + res.items.length} of ${res.total}`),
    el('button', { type: 'button', disabled: offset + limit >= res.total, onclick: () => pageTo(offset + limit) }, 'Older →'));
  return [card(kind === 'alerts' ? 'Alerts' : 'Flows', form, t, pager)];
}

// ---------------------------------------------------------------- flow page

async function flowPage(id) {
  const res = await get(`flows/${encodeURIComponent(id)}`);
  const ev = res.events;
  const first = ev[0];
  const by = (t) => ev.filter((e) => e.event_type === t);
  const sections = [
    card(`Flow ${id}`, el('p', {}, `${first.proto} ${endpoint(first.src_ip, first.src_port)} → ${endpoint(first.dest_ip, first.dest_port)} ${first.app_proto ?? ''}`),
      table([['time', (e) => e.time], ['event', (e) => e.event_type], ['summary', (e) => summary(e)]], ev)),
  ];
  const http = by('http');
  if (http.length) {
    sections.push(card('HTTP', el('div', { id: 'flow-http' }, table([
      ['method', (e) => e.json.http?.http_method ?? ''], ['host', (e) => e.json.http?.hostname ?? ''],
      ['url', (e) => e.json.http?.url ?? ''], ['user agent', (e) => e.json.http?.http_user_agent ?? ''],
      ['status', (e) => e.json.http?.status ?? '']], http))));
  }
  for (const e of ev) {
    sections.push(el('details', { class: 'card' }, el('summary', {}, `${e.event_type} ${e.time}`),
      el('pre', { class: 'json' }, JSON.stringify(e.json, null, 2))));
  }
  return sections;
}

function summary(e) {
  const j = e.json || {};
  switch (e.event_type) {
    case 'alert': return `[${j.alert?.signature_id}] ${j.alert?.signature ?? ''}`;
    case 'http': return httpSummary(j);
    case 'dns': return `${j.dns?.type ?? ''} ${j.dns?.rrname ?? j.dns?.queries?.[0]?.rrname ?? ''} ${j.dns?.rcode ?? ''}`;
    case 'tls': return `${j.tls?.sni ?? ''} ${j.tls?.version ?? ''}`;
    case 'flow': return `${j.flow?.pkts_toserver}/${j.flow?.pkts_toclient} pkts, ${j.flow?.bytes_toserver}/${j.flow?.bytes_toclient} bytes, ${j.flow?.state ?? ''} ${j.flow?.reason ?? ''}`;
    default: return '';
  }
}

// ---------------------------------------------------------------- anomalies, ML

async function anomalies() {
  const [d, a] = await Promise.all([
    get('detectors', rangeParams()),
    get('alerts', { ...rangeParams(), detector: 'any', limit: 100 }),
  ]);
  return [
    card('Detector hits', d.detectors.length ? table([
      ['detector', (r) => r.detector], ['alerts', (r) => r.alerts], ['sources', (r) => r.sources],
      ['first', (r) => r.first], ['last', (r) => r.last]], d.detectors, (r) => go(`#/alerts?detector=${encodeURIComponent(r.detector)}`))
      : el('p', { class: 'muted' }, 'No detector alert in this range.')),
    card('Detector alerts', table([
      ['time', (r) => r.time], ['detector', (r) => r.detector], ['signature', (r) => r.signature],
      ['source', (r) => endpoint(r.src_ip, r.src_port)], ['explanation', (r) => explain(r.json)]], a.items)),
  ];
}

function explain(j) {
  const v = j && j.vedette;
  if (!v) return '';
  if (typeof v.explain === 'string') return v.explain;
  return v.explain ? JSON.stringify(v.explain) : '';
}

async function mlPage() {
  const m = await get('ml', rangeParams());
  if (!m.available) return [card('ML scores', el('p', { class: 'muted' }, m.reason || 'No ML scores stored.'))];
  const labels = [...new Set(m.histogram.map((h) => h.label))];
  const x = Array.from({ length: m.bins }, (_, i) => (i + 0.5) / m.bins);
  const palette = ['#2563eb', '#dc2626', '#059669', '#ea580c', '#7c3aed'];
  const series = labels.map((l, i) => {
    const values = new Array(m.bins).fill(0);
    for (const h of m.histogram) if (h.label === l) values[h.bin] = h.flows;
    return { label: l || '(no label)', values, color: palette[i % palette.length] };
  });
  const chart = el('div', { class: 'chart', id: 'chart-ml' });
  requestAnimationFrame(() => histogram(chart, { x, series }));
  return [
    card(`Score distribution (${m.scored_flows} scored flows)`, chart),
    card('Highest scores', table([
      ['score', (r) => Number(r.ml_score).toFixed(3)], ['label', (r) => r.ml_label ?? ''],
      ['time', (r) => r.time], ['source', (r) => endpoint(r.src_ip, r.src_port)],
      ['destination', (r) => endpoint(r.dest_ip, r.dest_port)], ['app', (r) => r.app_proto ?? ''],
      ['flow', (r) => flowLink(r.flow_id)]], m.top)),
  ];
}

// ---------------------------------------------------------------- live feed

/** Alert rows the live page keeps. */
const LIVE_ROWS = 500;

async function livePage() {
  const initial = await get('alerts', { limit: 50 });
  const body = el('tbody', {});
  const state = el('span', { class: 'muted', id: 'live-state' }, 'connecting…');
  let skipped = 0;
  const addRow = (r, atTop) => {
    const tr = el('tr', { class: 'clickable' }, alertCols.map(([, f]) => el('td', {}, f(r))));
    tr.addEventListener('click', () => r.flow_id && go(`#/flow/${r.flow_id}`));
    if (atTop) body.prepend(tr); else body.append(tr);
    while (body.children.length > LIVE_ROWS) body.lastChild.remove();
  };
  for (const r of initial.items) addRow(r, false);
  const { signal } = pageAbort;
  stream((type, data) => {
    if (type === 'alert') {
      let j;
      try { j = JSON.parse(data); } catch (_) { return; }
      addRow(fromEve(j), true);
    } else if (type === 'lagged') {
      skipped += Number(data) || 0;
      replace(state, `connected — ${skipped} alerts skipped (this view fell behind)`);
    }
  }, (s) => replace(state, s), signal);
  const t = el('table', { id: 'live-table' }, el('thead', {}, el('tr', {}, alertCols.map(([h]) => el('th', {}, h)))), body);
  return [card('Live alerts', state, t)];
}

/** An EVE alert record in the shape of an /api/alerts item. */
function fromEve(j) {
  const a = j.alert || {};
  return {
    time: j.timestamp, severity: a.severity, signature_id: a.signature_id, signature: a.signature,
    src_ip: j.src_ip, src_port: j.src_port, dest_ip: j.dest_ip, dest_port: j.dest_port,
    proto: j.proto, app_proto: j.app_proto, detector: j.vedette?.detector,
    flow_id: j.flow_id === undefined ? null : String(j.flow_id), json: j,
  };
}

// ---------------------------------------------------------------- router

function go(hash) { location.hash = hash; }

const pages = {
  overview, live: livePage, anomalies, ml: mlPage,
  alerts: (p) => searchPage('alerts', p), flows: (p) => searchPage('flows', p),
};

let generation = 0;
async function route() {
  pageAbort.abort();
  pageAbort = new AbortController();
  const gen = ++generation;
  const hash = location.hash.replace(/^#\/?/, '') || 'overview';
  const [path, qs] = hash.split('?');
  const params = new URLSearchParams(qs || '');
  const [name, arg] = path.split('/');
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === name);
  replace(statusEl, 'loading…');
  let content;
  try {
    if (name === 'flow' && arg) content = await flowPage(decodeURIComponent(arg));
    else content = await (pages[name] || overview)(params);
    replace(statusEl, `updated ${new Date().toLocaleTimeString()}`);
  } catch (e) {
    content = [errorBox(e)];
    replace(statusEl, 'error');
  }
  if (gen !== generation) return;
  replace(main, content);
  document.body.dataset.page = name || 'overview';
}

window.addEventListener('hashchange', route);
route();
