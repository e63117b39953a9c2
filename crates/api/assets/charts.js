// Charts on uPlot (vendored). Dragging across a time chart selects a range; the page then
// uses it as its time filter.
import uPlot from './uPlot.esm.js';
import { el, human } from './dom.js';

const live = new Set();
window.addEventListener('resize', () => {
  for (const u of live) {
    if (!u.root.isConnected) { live.delete(u); continue; }
    u.setSize({ width: u.root.parentElement.clientWidth, height: u.height });
  }
});

/**
 * A time chart. `t`: bucket starts in Unix seconds; `series`: [{label, values, color, bars}];
 * `onSelect(fromSecs, toSecs)` is called when the user drags across it.
 */
export function timeChart(container, { t, series, yFormat = human, onSelect, height = 200 }) {
  container.replaceChildren();
  const opts = {
    width: Math.max(container.clientWidth, 300),
    height,
    cursor: { drag: { x: true, y: false, setScale: false } },
    select: { show: true },
    legend: { live: true },
    scales: { x: { time: true } },
    axes: [{}, { values: (u, vals) => vals.map((v) => yFormat(v)), size: 60 }],
    series: [{}, ...series.map((s) => ({
      label: s.label,
      stroke: s.color,
      fill: s.fill || `${s.color}33`,
      width: 1.5,
      paths: s.bars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined,
      value: (u, v) => (v === null ? '–' : yFormat(v)),
    }))],
    hooks: {
      setSelect: [(u) => {
        if (u.select.width < 3 || !onSelect) return;
        const from = u.posToVal(u.select.left, 'x');
        const to = u.posToVal(u.select.left + u.select.width, 'x');
        u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
        onSelect(from, to);
      }],
      draw: [(u) => { u.root.parentElement?.setAttribute('data-drawn', '1'); }],
    },
  };
  const u = new uPlot(opts, [t, ...series.map((s) => s.values)], container);
  live.add(u);
  return u;
}

/** A histogram over numeric bins: `x` bin centres, `series` as for timeChart. */
export function histogram(container, { x, series, height = 220 }) {
  container.replaceChildren();
  const u = new uPlot({
    width: Math.max(container.clientWidth, 300),
    height,
    scales: { x: { time: false } },
    series: [{ label: 'score' }, ...series.map((s) => ({
      label: s.label, stroke: s.color, fill: `${s.color}88`,
      paths: uPlot.paths.bars({ size: [0.9, 60] }),
    }))],
    hooks: { draw: [(v) => { v.root.parentElement?.setAttribute('data-drawn', '1'); }] },
  }, [x, ...series.map((s) => s.values)], container);
  live.add(u);
  return u;
}

/** Horizontal bars (HTML): rows of [label, value, detail]. Labels are text. */
export function barList(rows, format = human) {
  const max = Math.max(1, ...rows.map((r) => r[1]));
  return el('table', { class: 'bars' }, el('tbody', {}, rows.map(([label, v, detail]) => el('tr', {},
    el('td', {}, label),
    el('td', { style: null }, barDiv(v / max)),
    el('td', {}, format(v)),
    el('td', { class: 'muted' }, detail ?? '')))));
}

function barDiv(frac) {
  const d = el('div', { class: 'bar' });
  // A style property set from a number, not markup: allowed by style-src 'self'.
  d.style.width = `${Math.max(1, Math.round(frac * 160))}px`;
  return d;
}
