/* global window, document, WebSocket, URLSearchParams, fetch, vega, vegaLite */
// The ghost-alps dashboard: subscribes to a telemetry socket (schema v1, docs/telemetry.md)
// and draws the live policy table, per-group turnaround CDFs and the throughput/utilisation
// timeline with vega + vega-lite served from this package's node_modules (no CDN).

const SCHEMA_VERSION = 1;
const GROUPS = ['G1 <50ms', 'G2 <200ms', 'G3 <400ms', 'G4 ≥400ms'];
const GROUP_COLOURS = ['#4c78a8', '#f58518', '#54a24b', '#e45756'];

const state = {
  functions: new Map(),
  policy: undefined,
  policyAtNs: undefined,
  stats: undefined,
  learning: undefined,
  pins: new Map(),
  timeline: [],
};

// Exposed for the browser test: how much arrived and how often each chart drew.
const probe = { messages: 0, invalid: 0, renders: { table: 0, cdf: 0, timeline: 0 }, connected: false };
window.__dashboard = probe;

const $ = (id) => document.getElementById(id);
const ms = (ns) => (ns / 1e6).toFixed(ns < 10e6 ? 2 : 1);

function cdfSpec() {
  return {
    width: 520,
    height: 220,
    data: { name: 'cdf' },
    mark: { type: 'line', interpolate: 'step-after', point: false },
    encoding: {
      x: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'turnaround (ms, log scale)' },
      y: { field: 'q', type: 'quantitative', scale: { domain: [0, 1] }, title: 'fraction of invocations' },
      color: { field: 'group', type: 'nominal', title: 'Table 1 group', scale: { domain: GROUPS, range: GROUP_COLOURS } },
    },
  };
}

function timelineSpec() {
  return {
    data: { name: 'timeline' },
    vconcat: [
      {
        width: 520,
        height: 120,
        mark: { type: 'line', color: '#1d2330' },
        encoding: {
          x: { field: 't', type: 'quantitative', title: null },
          y: { field: 'throughput', type: 'quantitative', title: 'completions / s' },
        },
      },
      {
        width: 520,
        height: 120,
        transform: [{ fold: ['offered %', 'utilisation %'], as: ['series', 'value'] }, { filter: 'isValid(datum.value)' }],
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 't', type: 'quantitative', title: 'virtual time (s)' },
          y: { field: 'value', type: 'quantitative', title: 'CPU %' },
          color: { field: 'series', type: 'nominal', title: null, scale: { domain: ['offered %', 'utilisation %'], range: ['#9aa3b5', '#2e7d32'] } },
        },
      },
    ],
  };
}

async function makeView(el, spec) {
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'svg', container: el, hover: false });
  await view.runAsync();
  return view;
}

const views = {};
let dirty = { table: false, cdf: false, timeline: false };
let timer;

function schedule(what) {
  dirty[what] = true;
  if (!timer) timer = window.setTimeout(render, 200);
}

async function render() {
  timer = undefined;
  const d = dirty;
  dirty = { table: false, cdf: false, timeline: false };
  if (d.table) renderTable();
  if (d.cdf && views.cdf && state.stats) {
    const rows = [];
    for (const g of state.stats.groups) {
      for (const [q, ns] of g.points) if (ns > 0) rows.push({ group: GROUPS[g.group - 1], q, ms: ns / 1e6 });
    }
    await views.cdf.data('cdf', rows).resize().runAsync();
    probe.renders.cdf++;
  }
  if (d.timeline && views.timeline) {
    const rows = state.timeline.map((u) => ({
      t: u.atNs / 1e9,
      throughput: u.throughputPerS,
      'offered %': u.offeredPct ?? null,
      'utilisation %': u.utilisationPct ?? null,
    }));
    await views.timeline.data('timeline', rows).resize().runAsync();
    probe.renders.timeline++;
  }
}

function renderTable() {
  const body = $('policy').querySelector('tbody');
  const stats = new Map((state.stats?.funcs ?? []).map((f) => [f.funcId, f]));
  const entries = new Map((state.policy?.entries ?? []).map((e) => [e.funcId, e]));
  const ids = [...new Set([...state.functions.keys(), ...entries.keys()])];
  const rank = (id) => entries.get(id)?.rank ?? Infinity;
  ids.sort((a, b) => rank(a) - rank(b) || a - b);
  body.replaceChildren(
    ...ids.map((id) => {
      const f = state.functions.get(id);
      const e = entries.get(id);
      const s = stats.get(id);
      const tr = document.createElement('tr');
      tr.className = `g${f?.group ?? ''}${state.pins.has(id) ? ' pinned' : ''}`;
      const cells = [
        f?.name ?? String(id),
        f ? `G${f.group}` : '–',
        e ? String(e.rank) : '–',
        e ? (e.sliceNs ? ms(e.sliceNs) : 'default') : '–',
        String(s?.invocations ?? 0),
        s?.invocations ? ms(s.meanTurnaroundNs) : '–',
        s?.invocations ? ms(s.p99TurnaroundNs) : '–',
      ];
      for (const c of cells) {
        const td = document.createElement('td');
        td.textContent = c;
        tr.appendChild(td);
      }
      return tr;
    }),
  );
  probe.renders.table++;
}

function showParams() {
  const p = state.policy?.params;
  if (!p) return;
  $('params').textContent = `α=${p.alpha} β=${p.beta} γ=${p.gamma} θ=${p.theta} window=${(p.windowNs / 1e9).toFixed(1)}s model=${p.model} mode=${p.mode} ioAware=${p.ioAware}`;
}

/** Minimal receipt checks: right version, known type, the fields this page reads. */
function valid(m) {
  if (typeof m !== 'object' || m === null || m.v !== SCHEMA_VERSION || typeof m.type !== 'string') return false;
  switch (m.type) {
    case 'policy':
      return typeof m.atNs === 'number' && m.policy && Array.isArray(m.policy.entries);
    case 'stats':
      return Array.isArray(m.funcs) && Array.isArray(m.groups);
    case 'util':
      return typeof m.atNs === 'number' && typeof m.throughputPerS === 'number';
    case 'functions':
      return Array.isArray(m.funcs);
    case 'state':
      return Array.isArray(m.pins);
    default:
      return true;
  }
}

function onMessage(m) {
  if (!valid(m)) {
    probe.invalid++;
    return;
  }
  probe.messages++;
  switch (m.type) {
    case 'hello':
      // A (re)connection replays the server's state and timeline: start from scratch.
      state.timeline = [];
      state.pins = new Map();
      $('source').textContent = `${m.source.kind}: ${m.source.name}`;
      break;
    case 'functions':
      state.functions = new Map(m.funcs.map((f) => [f.funcId, f]));
      schedule('table');
      break;
    case 'policy':
      state.policy = m.policy;
      state.policyAtNs = m.atNs;
      $('generation').textContent = `${m.policy.generation} @ ${(m.atNs / 1e9).toFixed(1)} s`;
      showParams();
      schedule('table');
      break;
    case 'stats':
      state.stats = m;
      schedule('table');
      schedule('cdf');
      break;
    case 'util':
      state.timeline.push(m);
      if (state.timeline.length > 600) state.timeline.shift();
      $('now').textContent = `${(m.atNs / 1e9).toFixed(1)} s`;
      $('completed').textContent = String(m.completed);
      $('throughput').textContent = `${m.throughputPerS.toFixed(1)} /s`;
      if (m.utilisationPct !== undefined) $('util').textContent = `${m.utilisationPct.toFixed(0)} %`;
      schedule('timeline');
      break;
    case 'state':
      state.learning = m.learning;
      state.pins = new Map(m.pins.map((p) => [p.funcId, p]));
      $('learning').textContent = m.learning;
      schedule('table');
      break;
    case 'rates':
      $('rates-box').hidden = false;
      $('rates').textContent = `${m.decisionsPerS.toFixed(0)}/s · ${m.txnFailuresPerS.toFixed(1)}/s`;
      break;
    case 'bpf':
      $('bpf-box').hidden = false;
      $('bpf').textContent = `${m.state}${m.scheduler ? ` (${m.scheduler})` : ''}`;
      break;
    default:
      break;
  }
}

async function socketUrl() {
  const q = new URLSearchParams(window.location.search).get('ws');
  if (q) return q;
  const res = await fetch('config.json');
  return (await res.json()).ws;
}

function connect(url, delay = 500) {
  const ws = new WebSocket(url);
  const status = $('status');
  ws.onopen = () => {
    probe.connected = true;
    status.textContent = 'live';
    status.className = 'status up';
    delay = 500;
  };
  ws.onmessage = (ev) => {
    let m;
    try {
      m = JSON.parse(ev.data);
    } catch {
      probe.invalid++;
      return;
    }
    onMessage(m);
  };
  ws.onclose = () => {
    probe.connected = false;
    status.textContent = 'offline, retrying';
    status.className = 'status down';
    window.setTimeout(() => connect(url, Math.min(delay * 2, 10000)), delay);
  };
}

async function main() {
  views.cdf = await makeView($('cdf'), cdfSpec());
  views.timeline = await makeView($('timeline'), timelineSpec());
  connect(await socketUrl());
}

main();
