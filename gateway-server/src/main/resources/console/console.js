// Omnibus web console: a small single page app over the gateway's admin API (same origin).
// No framework: pages are built with DOM calls (textContent only, never innerHTML with server data).
'use strict';

const PROTOCOLS = ['mqtt3', 'mqtt5', 'amqp', 'kafka', 'rocketmq'];
const ADAPTERS = ['mqtt', 'amqp', 'kafka', 'openmessaging'];
const PALETTE = ['#7c3aed', '#059669', '#db2777', '#ca8a04', '#0891b2', '#64748b'];
const TOKEN_KEY = 'omnibus.token';
// the lists are paged by the API: a page shows the first LIST_LIMIT items in name order that the filter leaves
const LIST_LIMIT = 500;
const DASH = '–';
const enc = encodeURIComponent;

/* ---------- DOM helpers ---------- */

const $ = (sel, root = document) => root.querySelector(sel);

// h('tag', {class, text, onclick, attr: value}, ...children)
function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids.flat()) if (c != null && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v != null) e.setAttribute(k, v);
  return e;
}

/* ---------- formatting ---------- */

const nf = new Intl.NumberFormat('en-US');
const nf1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const nf2 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

const isNum = v => typeof v === 'number' && Number.isFinite(v);
const num = v => (isNum(v) ? nf.format(v) : v == null ? DASH : String(v));
const rate = v => (v >= 100 ? nf.format(Math.round(v)) : nf1.format(v));
const ms = v => (isNum(v) ? nf2.format(v) + ' ms' : DASH);
const yesNo = v => (v == null ? DASH : v ? 'yes' : 'no');

function bytes(n) {
  if (!isNum(n)) return DASH;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? nf1.format(n) : nf.format(n)) + ' ' + units[i];
}

function duration(t) {
  if (!isNum(t) || t < 0) return DASH;
  const s = Math.floor(t / 1000);
  if (s < 60) return s + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min';
  const hr = Math.floor(m / 60);
  if (hr < 48) return hr + ' h' + (m % 60 ? ' ' + (m % 60) + ' min' : '');
  return Math.floor(hr / 24) + ' d' + (hr % 24 ? ' ' + (hr % 24) + ' h' : '');
}

const ago = t => (isNum(t) ? (Date.now() - t < 1000 ? 'just now' : duration(Date.now() - t) + ' ago') : DASH);

function localTime(t) {
  if (!isNum(t)) return DASH;
  const d = new Date(t);
  return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
}

function retention(t) {
  const parts = [];
  if (isNum(t.retentionAgeMillis) && t.retentionAgeMillis > 0) parts.push(duration(t.retentionAgeMillis));
  if (isNum(t.retentionBytes) && t.retentionBytes > 0) parts.push(bytes(t.retentionBytes));
  return parts.join(' / ') || DASH;
}

const plain = v => (v == null ? DASH : typeof v === 'object' ? JSON.stringify(v) : isNum(v) ? num(v) : String(v));

function statusClass(s) {
  s = String(s || '').toUpperCase();
  if (/^(UP|CONNECTED|RUNNING|OK|ACTIVE)$/.test(s)) return 'up';
  if (/^(DOWN|FAILED|STOPPED|ERROR|UNREACHABLE)$/.test(s)) return 'down';
  return 'warn';
}

// the CSS class of a translation outcome
function resultClass(r) {
  if (r === 'kept' || r === 'converted' || r === 'lost') return r;
  if (r === 'n/a') return 'na';
  if (/text/.test(r || '')) return 'text-only';
  return 'other';
}

/* ---------- API ---------- */

class ApiError extends Error {
  constructor(status, message, body) { super(message); this.status = status; this.body = body; }
}

async function request(path, method) {
  const headers = { Accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = 'Bearer ' + token;
  let res;
  try {
    res = await fetch(path, { method, headers, cache: 'no-store', credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'The gateway is unreachable (' + e.message + ')');
  }
  const text = await res.text();
  let body = null;
  if (text) { try { body = JSON.parse(text); } catch { body = text; } }
  if (!res.ok) {
    const msg = body && typeof body === 'object' && body.error ? body.error : `${res.status} ${res.statusText || 'error'}`;
    throw new ApiError(res.status, msg, body);
  }
  return { res, body };
}

async function api(path, method = 'GET') {
  return (await request(path, method)).body;
}

/** The first page of a list (topics, subscriptions, connections) and how many items it has in all. */
async function apiList(path, contains = '') {
  const q = `limit=${LIST_LIMIT}` + (contains ? `&contains=${enc(contains)}` : '');
  const { res, body } = await request(`${path}?${q}`, 'GET');
  const items = Array.isArray(body) ? body : [];
  const header = res.headers.get('X-Total-Count');
  const total = header == null ? NaN : Number(header);
  return { items, total: Number.isFinite(total) ? total : items.length };
}

/** "12 of 20,000 (the first 500 by name: narrow the filter)" where a list has more than one page. */
const pageNote = (shown, total) => (total > LIST_LIMIT
  ? `${num(shown)} of ${num(total)} (the first ${num(LIST_LIMIT)} by name: narrow the filter)` : '');

/* ---------- notice bar ---------- */

let noticeTimer = 0;
let noticeSource = '';

function notice(text, kind = 'ok', source = 'action') {
  const n = $('#notice');
  clearTimeout(noticeTimer);
  n.textContent = text;
  n.className = kind;
  n.hidden = false;
  noticeSource = source;
  if (kind === 'ok') noticeTimer = setTimeout(() => clearNotice(), 6000);
}

// clears the bar; with a source, only a notice of that source (a poll clears its own errors)
function clearNotice(source) {
  if (source && source !== noticeSource) return;
  const n = $('#notice');
  n.hidden = true;
  n.className = '';
  n.textContent = '';
  noticeSource = '';
}

/* ---------- confirmation modal ---------- */

let pendingConfirm = null;

function confirmDialog(text, yesLabel = 'Yes') {
  closeConfirm();
  const d = $('#confirm-dialog');
  $('.confirm-text', d).textContent = text;
  $('.confirm-yes', d).textContent = yesLabel;
  d.hidden = false;
  $('.confirm-no', d).focus();
  return new Promise(resolve => { pendingConfirm = resolve; });
}

function closeConfirm(answer = false) {
  $('#confirm-dialog').hidden = true;
  const r = pendingConfirm;
  pendingConfirm = null;
  if (r) r(answer);
}

// runs an action, shows its outcome, then refreshes the page
async function act(path, method, okText, after) {
  try {
    const r = await api(path, method);
    notice(typeof okText === 'function' ? okText(r || {}) : okText, 'ok');
  } catch (e) {
    notice(e.message, 'error');
  }
  if (after) after();
}

async function confirmAct(question, yesLabel, path, method, okText, after) {
  if (await confirmDialog(question, yesLabel)) await act(path, method, okText, after);
}

/* ---------- router and polling ---------- */

let epoch = 0;       // bumped on every route change: stale pollers stop
let cleanups = [];   // timers of the current page

// calls fn now and every `every` ms after it completes, until the page is left; fn returns error messages.
// Returns a function that refreshes at once.
function poll(fn, every) {
  const mine = epoch;
  let timer = 0, busy = false, again = false;
  async function run() {
    if (mine !== epoch) return;
    clearTimeout(timer);
    if (busy) { again = true; return; }
    busy = true;
    let errors = [];
    try { errors = (await fn()) || []; } catch (e) { errors = [e.message]; }
    busy = false;
    if (mine !== epoch) return;
    if (errors.length) notice(errors.join(' · '), 'error', 'poll'); else clearNotice('poll');
    if (again) { again = false; run(); return; }
    timer = setTimeout(run, every);
  }
  cleanups.push(() => clearTimeout(timer));
  run();
  return run;
}

const pages = {
  overview: { title: 'Overview', render: overviewPage },
  addresses: { title: 'Addresses and subscriptions', render: addressesPage },
  connections: { title: 'Connections', render: connectionsPage },
  messages: { title: 'Messages', render: messagesPage },
  translation: { title: 'Translation', render: translationPage },
};

function route() {
  const m = /^#\/([a-z]+)(?:\?(.*))?$/.exec(location.hash);
  const name = m && pages[m[1]] ? m[1] : 'overview';
  if (!m || !pages[m[1]]) history.replaceState(null, '', '#/overview');
  epoch++;
  cleanups.splice(0).forEach(f => f());
  closeConfirm();
  clearNotice('poll');
  for (const a of document.querySelectorAll('#nav a')) {
    const on = a.dataset.page === name;
    a.classList.toggle('active', on);
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  document.title = pages[name].title + ' · Omnibus';
  const main = $('#main');
  main.replaceChildren();
  pages[name].render(main, new URLSearchParams(m ? m[2] || '' : ''));
}

// rewrites the hash's query without a route change
function setQuery(page, params) {
  const s = Object.entries(params).filter(([, v]) => v !== '' && v != null).map(([k, v]) => k + '=' + enc(v)).join('&');
  history.replaceState(null, '', '#/' + page + (s ? '?' + s : ''));
}

/* ---------- tables ---------- */

// a table with a header from column definitions {label, title, num, cls, get(item)}
function table(id, cols, withActions, caption) {
  const t = h('table', { id, class: 'grid' },
    caption ? h('caption', { class: 'sr-only', text: caption }) : null,
    h('thead', null, h('tr', null,
      cols.map(c => h('th', { class: c.num ? 'num' : null, title: c.title, scope: 'col', text: c.label })),
      withActions ? h('th', { class: 'actions', scope: 'col', text: 'Actions' }) : null)),
    h('tbody'));
  t.cols = cols;
  t.withActions = withActions;
  return t;
}

function setCell(td, v) {
  if (v == null || typeof v !== 'object' || v instanceof Node) v = { text: v };
  const text = v.text == null ? DASH : String(v.text);
  if (td.textContent !== text) td.textContent = text;
  if (v.title != null) td.title = v.title; else td.removeAttribute('title');
  if (v.value != null) td.dataset.value = v.value;
  const cls = [td.baseClass, v.cls].filter(Boolean).join(' ');
  if (td.className !== cls) td.className = cls;
}

// Keeps a table's rows in step with items, updating cells in place, so that rows, buttons and focus stay put
// between refreshes. opt: {key(item), attr: 'data-…', actions(item) -> [signature, () => nodes], empty: text}
function syncRows(tbl, items, opt) {
  const tbody = tbl.tBodies[0];
  const cols = tbl.cols;
  const map = tbody.rows_ || (tbody.rows_ = new Map());
  const seen = new Set();
  const wanted = [];
  for (const it of items) {
    const k = String(opt.key(it));
    if (seen.has(k)) continue;
    seen.add(k);
    let tr = map.get(k);
    if (!tr) {
      tr = h('tr');
      tr.setAttribute(opt.attr, k);
      for (const c of cols) {
        const td = h('td');
        td.baseClass = [c.cls, c.num ? 'num' : null].filter(Boolean).join(' ');
        tr.append(td);
      }
      if (tbl.withActions) tr.append(h('td', { class: 'actions' }));
      if (opt.onrow) opt.onrow(tr);
      map.set(k, tr);
    }
    tr.item = it;
    cols.forEach((c, i) => setCell(tr.cells[i], c.get(it)));
    if (tbl.withActions && opt.actions) {
      const [sig, build] = opt.actions(it);
      const td = tr.lastElementChild;
      if (td.sig !== sig) { td.sig = sig; td.replaceChildren(...build()); }
    }
    wanted.push(tr);
  }
  for (const [k, tr] of map) if (!seen.has(k)) { tr.remove(); map.delete(k); }
  let empty = tbody.emptyRow;
  if (!wanted.length) {
    if (!empty) {
      empty = tbody.emptyRow = h('tr', { class: 'empty' }, h('td', { colspan: cols.length + (tbl.withActions ? 1 : 0) }));
    }
    empty.firstChild.textContent = opt.empty || 'Nothing to show.';
    if (!empty.parentNode) tbody.append(empty);
  } else if (empty) {
    empty.remove();
  }
  let ref = tbody.firstChild;
  for (const tr of wanted) {
    if (tr === ref) ref = ref.nextSibling; else tbody.insertBefore(tr, ref);
  }
}

function clearRows(tbl) {
  const tbody = tbl.tBodies[0];
  tbody.replaceChildren();
  tbody.rows_ = new Map();
  tbody.emptyRow = null;
}

// a row button whose handler gets the row's current item
const rowButton = (label, cls, fn, title) =>
  h('button', { type: 'button', class: cls, title, text: label, onclick: e => fn(e.currentTarget.closest('tr').item) });

function sectionError(el, msg) {
  el.textContent = msg || '';
  el.hidden = !msg;
}

const errorLine = () => h('p', { class: 'section-error', role: 'alert', hidden: true });

/* ---------- page: overview ---------- */

// the rate history, kept across visits (reset after a gap)
const hist = { last: null, points: [] };
const HISTORY = 90;
let perProtocol = false;

function sum(o) { return Object.values(o || {}).reduce((a, v) => a + (isNum(v) ? v : 0), 0); }

function sample(ov) {
  const now = Date.now();
  const cur = { t: now, m: ov.messages || {}, b: ov.bytes || {} };
  const prev = hist.last;
  hist.last = cur;
  if (!prev || now - prev.t > 10000) { hist.points = []; return; }
  const dt = (now - prev.t) / 1000;
  if (dt <= 0) return;
  const r = (a, b) => Math.max(0, ((isNum(a) ? a : 0) - (isNum(b) ? b : 0)) / dt); // a counter reset reads as 0
  const pm = {};
  for (const p of new Set([...Object.keys(cur.m.in || {}), ...Object.keys(cur.m.out || {})])) {
    pm[p] = { i: r((cur.m.in || {})[p], (prev.m.in || {})[p]), o: r((cur.m.out || {})[p], (prev.m.out || {})[p]) };
  }
  hist.points.push({
    mi: r(sum(cur.m.in), sum(prev.m.in)), mo: r(sum(cur.m.out), sum(prev.m.out)),
    bi: r(sum(cur.b.in), sum(prev.b.in)), bo: r(sum(cur.b.out), sum(prev.b.out)), pm,
  });
  if (hist.points.length > HISTORY) hist.points.splice(0, hist.points.length - HISTORY);
}

// a round ceiling: 1, 2, 2.5 or 5 times a power of ten (of 1024-multiples for bytes)
function niceMax(v, binary) {
  if (binary && v >= 1024) {
    const p = Math.pow(1024, Math.floor(Math.log(v) / Math.log(1024)));
    return niceMax(v / p) * p;
  }
  if (!(v > 0)) return 1;
  const e = Math.pow(10, Math.floor(Math.log10(v)));
  const f = v / e;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * e;
}

// A small SVG line chart: draw([{name, color, dash, width, values}]) scales to the largest value.
function lineChart(container, label, fmt, binary) {
  const W = 600, H = 170, T = 16, B = 16;
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': label });
  const grid = svg('g', { class: 'chart-grid' });
  for (const y of [T, (T + H - B) / 2, H - B]) grid.append(svg('line', { x1: 0, x2: W, y1: y, y2: y }));
  const maxLabel = svg('text', { x: 4, y: T - 4, class: 'chart-label' });
  const zero = svg('text', { x: 4, y: H - B + 12, class: 'chart-label' });
  zero.textContent = '0';
  const span = svg('text', { x: W - 4, y: H - B + 12, class: 'chart-label', 'text-anchor': 'end' });
  span.textContent = `last ${HISTORY * 2 / 60} min, every 2 s`;
  const lines = svg('g', { class: 'chart-lines' });
  root.append(grid, lines, maxLabel, zero, span);
  const legend = h('div', { class: 'legend' });
  container.append(root, legend);
  let legendKey = '';
  return {
    draw(series) {
      let max = 0;
      for (const s of series) for (const v of s.values) if (v > max) max = v;
      max = niceMax(max, binary);
      maxLabel.textContent = fmt(max);
      const step = W / (HISTORY - 1);
      lines.replaceChildren();
      for (const s of series) {
        const n = s.values.length;
        if (n < 1) continue;
        const d = s.values.map((v, i) =>
          (i ? 'L' : 'M') + (W - (n - 1 - i) * step).toFixed(1) + ' ' + (T + (1 - v / max) * (H - T - B)).toFixed(1)).join(' ');
        lines.append(svg('path', {
          d: n === 1 ? d + ' h-2' : d, stroke: s.color, 'stroke-width': s.width || 2,
          'stroke-dasharray': s.dash, fill: 'none', class: 'series', 'data-series': s.name,
        }));
      }
      // the legend: rebuilt when the series change, values updated in place
      const key = series.map(s => s.name).join('|');
      if (key !== legendKey) {
        legendKey = key;
        legend.replaceChildren(...series.map(s => h('span', { class: 'legend-item', 'data-series': s.name },
          h('span', { class: 'swatch' + (s.dash ? ' dashed' : '') }), s.name + ' ', h('b'))));
        [...legend.children].forEach((el, i) => { el.firstChild.style.borderColor = series[i].color; });
      }
      series.forEach((s, i) => {
        const v = s.values.length ? s.values[s.values.length - 1] : null;
        legend.children[i].lastChild.textContent = v == null ? DASH : fmt(v);
      });
    },
  };
}

function card(title, ...body) {
  return h('section', { class: 'card' }, h('h2', { text: title }), ...body);
}

function dl(pairs) {
  return pairs.map(([k, v, id]) => [h('dt', { text: k }), h('dd', { id, text: v })]).flat();
}

function healthParts(hl) {
  const parts = [];
  const detail = o => Object.entries(o).filter(([k, v]) => k !== 'status' && v != null)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ');
  for (const [k, v] of Object.entries(hl || {})) {
    if (k === 'status' || !v || typeof v !== 'object') continue;
    if (typeof v.status === 'string') {
      parts.push({ id: k, kind: k, name: v.type || '', status: v.status, detail: detail(v) });
    } else {
      const kind = k.replace(/s$/, '');
      for (const [n, s] of Object.entries(v)) {
        if (s && typeof s === 'object') {
          parts.push({ id: `${kind}:${n}`, kind, name: n, status: s.status || s.state || '?', detail: detail(s) });
        }
      }
    }
  }
  return parts;
}

function overviewPage(main) {
  const err = errorLine();
  const partsTable = table('health-parts', [
    { label: 'Part', cls: 'kind', get: p => p.kind },
    { label: 'Name', cls: 'name', get: p => p.name },
    { label: 'Status', get: p => ({ text: p.status, cls: 'status ' + statusClass(p.status) }) },
    { label: 'Detail', cls: 'detail', get: p => p.detail },
  ], false, 'Health of the gateway parts');
  const byProto = h('div', { id: 'connections-by-protocol', class: 'stats' });
  const msgBox = h('div', { id: 'chart-messages', class: 'chart-box' });
  const byteBox = h('div', { id: 'chart-bytes', class: 'chart-box' });
  const toggle = h('input', { type: 'checkbox', id: 'per-protocol', checked: perProtocol });

  main.append(
    h('div', { class: 'page-head' }, h('h1', { text: 'Overview' }), h('span', { id: 'version', class: 'muted' })),
    err,
    h('div', { class: 'cards' },
      card('Health', h('p', null, 'Gateway ', h('span', { id: 'health-status', class: 'badge', text: '…' })), partsTable),
      card('Connections', byProto,
        h('p', { class: 'total' }, 'Total ', h('strong', { id: 'connections-total', text: DASH }))),
      card('Store', h('dl', { id: 'store-info' })),
      card('Totals', h('dl', { id: 'totals' }, dl([['Topics', DASH, 'total-topics'],
        ['Subscriptions', DASH, 'total-subscriptions'], ['Backlog', DASH, 'total-backlog']])))),
    h('div', { class: 'charts' },
      card('Messages', h('label', { class: 'chart-option' }, toggle, ' per protocol'), msgBox),
      card('Payload bytes', byteBox)));

  const msgChart = lineChart(msgBox, 'messages per second, in and out', v => rate(v) + ' msg/s');
  const byteChart = lineChart(byteBox, 'payload bytes per second, in and out', v => bytes(v) + '/s', true);

  function draw() {
    const pts = hist.points;
    const series = [
      { name: 'in', color: '#2563eb', values: pts.map(p => p.mi) },
      { name: 'out', color: '#ea580c', values: pts.map(p => p.mo) },
    ];
    if (perProtocol) {
      const protos = [...new Set(pts.flatMap(p => Object.keys(p.pm)))].sort();
      protos.forEach((pr, i) => {
        const color = PALETTE[i % PALETTE.length];
        series.push({ name: pr + ' in', color, width: 1.2, values: pts.map(p => (p.pm[pr] || {}).i || 0) });
        series.push({ name: pr + ' out', color, width: 1.2, dash: '4 3', values: pts.map(p => (p.pm[pr] || {}).o || 0) });
      });
    }
    msgChart.draw(series);
    byteChart.draw([
      { name: 'in', color: '#2563eb', values: pts.map(p => p.bi) },
      { name: 'out', color: '#ea580c', values: pts.map(p => p.bo) },
    ]);
  }
  toggle.addEventListener('change', () => { perProtocol = toggle.checked; draw(); });
  draw();

  function showHealth(hl, failure) {
    const badge = $('#health-status');
    const status = hl && hl.status ? String(hl.status) : 'DOWN';
    badge.textContent = status;
    badge.className = 'badge ' + statusClass(status);
    badge.title = failure || '';
    syncRows(partsTable, healthParts(hl), { key: p => p.id, attr: 'data-part', empty: failure || 'No parts reported.' });
  }

  function showConnections(c) {
    const keys = [...new Set([...ADAPTERS, ...Object.keys(c || {})])];
    if (byProto.dataset.keys !== keys.join()) {
      byProto.dataset.keys = keys.join();
      byProto.replaceChildren(...keys.map(k => h('div', { class: 'stat' },
        h('span', { class: 'stat-value', 'data-protocol': k, text: DASH }), h('span', { class: 'stat-label', text: k }))));
    }
    for (const k of keys) byProto.querySelector(`[data-protocol="${CSS.escape(k)}"]`).textContent = c ? num(c[k] || 0) : DASH;
    $('#connections-total').textContent = c ? num(sum(c)) : DASH;
  }

  function showStore(s) {
    s = s || {};
    const f = s.fsync;
    const disk = isNum(s.diskTotal)
      ? `${bytes(s.diskFree)} free of ${bytes(s.diskTotal)} (${nf1.format(100 * s.diskFree / s.diskTotal)} %)` : DASH;
    const fsync = f ? `mean ${ms(f.meanMillis)} · p99 ${ms(f.p99Millis)} · max ${ms(f.maxMillis)}`
      + (isNum(f.count) ? ` (${num(f.count)} syncs)` : '') : DASH;
    $('#store-info').replaceChildren(...dl([['Type', s.type || DASH, 'store-type'], ['Size', bytes(s.bytes), 'store-bytes'],
      ['Disk', disk, 'store-disk'], ['fsync', fsync, 'store-fsync']]));
  }

  showConnections(null);
  showStore(null);
  poll(async () => {
    const [hr, or] = await Promise.allSettled([
      api('/health').catch(e => { if (e.body && typeof e.body === 'object' && e.body.status) return e.body; throw e; }),
      api('/api/overview'),
    ]);
    const errors = [];
    const ov = or.status === 'fulfilled' ? or.value || {} : null;
    if (hr.status === 'fulfilled') showHealth(hr.value);
    else { errors.push('health: ' + hr.reason.message); showHealth(ov && ov.health, hr.reason.message); }
    if (ov) {
      $('#version').textContent = `version ${ov.version || '?'} · up ${duration(ov.uptimeMillis)}`
        + (isNum(ov.startedAt) ? ` (since ${new Date(ov.startedAt).toLocaleString()})` : '');
      showConnections(ov.connections);
      showStore(ov.store);
      $('#total-topics').textContent = num(ov.topics);
      $('#total-subscriptions').textContent = num(ov.subscriptions);
      $('#total-backlog').textContent = num(ov.backlog);
      sample(ov);
      draw();
    } else {
      errors.push('overview: ' + or.reason.message);
    }
    sectionError(err, errors.join(' · '));
    return errors;
  }, 2000);
}

/* ---------- page: addresses, subscriptions, bridges ---------- */

function normalizeBridges(b) {
  if (Array.isArray(b)) return b.filter(x => x && typeof x === 'object');
  if (b && typeof b === 'object') return Object.entries(b).map(([name, v]) => ({ name, ...(v && typeof v === 'object' ? v : { status: v }) }));
  return [];
}

const bridgePaused = b => b.paused === true || /PAUSED/i.test(String(b.state || b.status || ''));

function addressesPage(main) {
  const filter = h('input', { id: 'filter', type: 'search', placeholder: 'Filter by name', 'aria-label': 'Filter by name' });
  const errT = errorLine(), errS = errorLine(), errB = errorLine();
  const data = { topics: [], subs: [], bridges: [], topicsTotal: 0, subsTotal: 0 };
  const topicsNote = h('span', { id: 'topics-count', class: 'muted' });
  const subsNote = h('span', { id: 'subscriptions-count', class: 'muted' });
  let refresh = () => {};

  const topics = table('topics', [
    { label: 'Name', cls: 'name', get: t => t.name },
    { label: 'Partitions', num: true, get: t => num(t.partitions) },
    { label: 'Queue', get: t => yesNo(t.queue) },
    { label: 'Messages', num: true, cls: 'messages', get: t => ({ text: num(t.messages), value: t.messages }) },
    { label: 'Bytes', num: true, get: t => ({ text: bytes(t.bytes), value: t.bytes }) },
    { label: 'Start', title: 'start offset', num: true, get: t => num(t.startOffset) },
    { label: 'End', title: 'end offset', num: true, get: t => num(t.endOffset) },
    { label: 'Retention', title: 'age / size', get: t => retention(t) },
  ], true, 'Addresses');

  const subs = table('subscriptions', [
    { label: 'Name', cls: 'name', get: s => s.name },
    { label: 'Filter', cls: 'filter', get: s => s.filter },
    { label: 'Dispatch', get: s => s.dispatch },
    { label: 'Durable', get: s => yesNo(s.durable) },
    { label: 'Cons.', title: 'consumers', num: true, get: s => num(s.consumers) },
    { label: 'Backlog', num: true, cls: 'backlog', get: s => ({ text: num(s.backlog), value: s.backlog }) },
    { label: 'Unacked', title: 'unacknowledged', num: true, get: s => num(s.unacknowledged) },
    { label: 'Deliv.', title: 'delivered', num: true, get: s => num(s.delivered) },
    { label: 'Acked', title: 'acknowledged', num: true, get: s => num(s.acknowledged) },
    { label: 'Redeliv.', title: 'redelivered', num: true, get: s => num(s.redelivered) },
    { label: 'DLQ', title: 'dead-lettered', num: true,
      get: s => ({ text: num(s.deadLettered), title: s.deadLetterAddress ? 'to ' + s.deadLetterAddress : null }) },
    { label: 'Expired', num: true, get: s => num(s.expired) },
    { label: 'Dropped', num: true,
      get: s => ({ text: num(s.dropped), title: isNum(s.lostToRetention) ? `lost to retention: ${num(s.lostToRetention)}` : null }) },
    { label: 'State', get: s => ({ text: s.paused ? 'paused' : 'active', cls: 'state ' + (s.paused ? 'warn' : 'up') }) },
  ], true, 'Subscriptions');

  const bridgeBox = h('div', { class: 'scroll' });
  let bridges = null;

  main.append(
    h('div', { class: 'page-head' }, h('h1', { text: 'Addresses and subscriptions' }), filter),
    h('section', null, h('h2', { text: 'Addresses' }, ' ', topicsNote), errT, h('div', { class: 'scroll' }, topics)),
    h('section', null, h('h2', { text: 'Subscriptions' }, ' ', subsNote), errS, h('div', { class: 'scroll' }, subs)),
    h('section', null, h('h2', { text: 'Bridges' }), errB, bridgeBox));

  const match = name => String(name).toLowerCase().includes(filter.value.trim().toLowerCase());

  function render() {
    topicsNote.textContent = pageNote(data.topics.length, data.topicsTotal);
    subsNote.textContent = pageNote(data.subs.length, data.subsTotal);
    syncRows(topics, data.topics.filter(t => match(t.name)), {
      key: t => t.name, attr: 'data-address', empty: filter.value ? 'No address matches.' : 'No addresses.',
      actions: t => [String(t.name).startsWith('$dlq/') ? 'dlq' : 'a', () => [
        rowButton('Browse', 'browse', x => { location.hash = '#/messages?address=' + enc(x.name); }),
        String(t.name).startsWith('$dlq/') ? rowButton('Redrive', 'redrive', x => confirmAct(
          `Move the ${num(x.messages)} messages of ${x.name} back to the addresses they were dead-lettered from?`, 'Redrive',
          `/api/topics/${enc(x.name)}/redrive`, 'POST',
          r => `Redrive of ${x.name}: ${num(r.moved)} moved, ${num(r.kept)} kept.`, refresh), 'move the messages back') : null,
        rowButton('Delete', 'delete danger', x => confirmAct(
          `Delete address ${x.name} and its ${num(x.messages)} messages (${bytes(x.bytes)})?`, 'Delete',
          `/api/topics/${enc(x.name)}`, 'DELETE', `Address ${x.name} deleted.`, refresh)),
      ].filter(Boolean)],
    });
    syncRows(subs, data.subs.filter(s => match(s.name)), {
      key: s => s.name, attr: 'data-subscription', empty: filter.value ? 'No subscription matches.' : 'No subscriptions.',
      actions: s => [s.paused ? 'p' : 'a', () => [
        rowButton('Purge', 'purge danger', x => confirmAct(
          `Purge ${num(x.backlog)} waiting messages of subscription ${x.name}?`, 'Purge',
          `/api/subscriptions/${enc(x.name)}/purge`, 'POST',
          r => `Purged ${num(r.purged)} messages of ${r.name || x.name}.`, refresh)),
        s.paused
          ? rowButton('Resume', 'resume', x => act(`/api/subscriptions/${enc(x.name)}/resume`, 'POST',
            `Subscription ${x.name} resumed.`, refresh))
          : rowButton('Pause', 'pause', x => act(`/api/subscriptions/${enc(x.name)}/pause`, 'POST',
            `Subscription ${x.name} paused.`, refresh)),
        rowButton('Delete', 'delete danger', x => confirmAct(
          `Delete subscription ${x.name}? Its ${num(x.backlog)} waiting messages are discarded.`, 'Delete',
          `/api/subscriptions/${enc(x.name)}`, 'DELETE', `Subscription ${x.name} deleted.`, refresh)),
      ]],
    });
    renderBridges();
  }

  // bridges: whatever fields come, one column each (the table is rebuilt when the fields change)
  function renderBridges() {
    const rows = data.bridges;
    const keys = ['name', ...new Set(rows.flatMap(r => Object.keys(r)).filter(k => k !== 'name'))];
    if (!bridges || bridges.keySig !== keys.join()) {
      bridges = table('bridges', keys.map(k => ({
        label: k, cls: k === 'name' ? 'name' : null,
        num: rows.some(r => isNum(r[k])),
        get: r => (k === 'state' || k === 'status' ? { text: plain(r[k]), cls: 'status ' + statusClass(r[k]) } : plain(r[k])),
      })), true, 'Bridges');
      bridges.keySig = keys.join();
      bridgeBox.replaceChildren(bridges);
    }
    syncRows(bridges, rows, {
      key: b => b.name, attr: 'data-bridge', empty: 'No bridges configured.',
      actions: b => [bridgePaused(b) ? 'p' : 'a', () => [bridgePaused(b)
        ? rowButton('Resume', 'resume', x => act(`/api/bridges/${enc(x.name)}/resume`, 'POST', `Bridge ${x.name} resumed.`, refresh))
        : rowButton('Pause', 'pause', x => act(`/api/bridges/${enc(x.name)}/pause`, 'POST', `Bridge ${x.name} paused.`, refresh))]],
    });
  }

  // the API filters the lists (a page holds the first LIST_LIMIT that match): ask again once typing pauses
  let typing = 0;
  filter.addEventListener('input', () => { render(); clearTimeout(typing); typing = setTimeout(() => refresh(), 300); });
  cleanups.push(() => clearTimeout(typing));
  refresh = poll(async () => {
    const contains = filter.value.trim();
    const [t, s, b] = await Promise.allSettled([apiList('/api/topics', contains), apiList('/api/subscriptions', contains),
      api('/api/bridges')]);
    const errors = [];
    const take = (r, el, what) => {
      if (r.status === 'fulfilled') { sectionError(el, ''); return r.value; }
      sectionError(el, r.reason.message);
      errors.push(what + ': ' + r.reason.message);
      return null;
    };
    const tv = take(t, errT, 'addresses'), sv = take(s, errS, 'subscriptions'), bv = take(b, errB, 'bridges');
    if (tv) { data.topics = tv.items; data.topicsTotal = tv.total; }
    if (sv) { data.subs = sv.items; data.subsTotal = sv.total; }
    if (bv || b.status === 'fulfilled') data.bridges = normalizeBridges(bv);
    render();
    return errors;
  }, 3000);
}

/* ---------- page: connections ---------- */

function connectionsPage(main) {
  const select = h('select', { id: 'protocol-filter', 'aria-label': 'Protocol' },
    h('option', { value: '', text: 'All protocols' }), ADAPTERS.map(p => h('option', { value: p, text: p })));
  const count = h('span', { id: 'connections-count', class: 'muted' });
  const err = errorLine();
  let rows = [];
  let total = 0;
  let refresh = () => {};

  const tbl = table('connections', [
    { label: 'Protocol', cls: 'protocol', get: c => c.protocol },
    { label: 'Client id', cls: 'client-id', get: c => c.clientId },
    { label: 'User', get: c => c.user },
    { label: 'Remote address', get: c => c.remoteAddress },
    { label: 'Connected since', get: c => ({ text: `${localTime(c.connectedAt)} (${ago(c.connectedAt)})`,
      title: isNum(c.connectedAt) ? new Date(c.connectedAt).toString() : null }) },
    { label: 'In-flight', num: true, get: c => num(c.inFlight) },
  ], true, 'Connections');

  main.append(
    h('div', { class: 'page-head' }, h('h1', { text: 'Connections' }), select, count),
    err, h('div', { class: 'scroll' }, tbl));

  function render() {
    for (const p of new Set(rows.map(r => r.protocol))) {
      if (p && ![...select.options].some(o => o.value === p)) select.append(h('option', { value: p, text: p }));
    }
    const shown = rows.filter(r => !select.value || r.protocol === select.value);
    count.textContent = `${num(shown.length)} of ${num(total)}` + (total > rows.length ? ` (the first ${num(LIST_LIMIT)} by id)` : '');
    syncRows(tbl, shown, {
      key: c => c.connectionId, attr: 'data-connection-id', empty: 'No connections.',
      actions: () => ['d', () => [rowButton('Disconnect', 'disconnect danger', c => confirmAct(
        `Disconnect ${c.clientId || c.connectionId} (${c.protocol}${c.remoteAddress ? ', from ' + c.remoteAddress : ''})?`,
        'Disconnect', `/api/connections/${enc(c.connectionId)}/disconnect`, 'POST',
        `Disconnected ${c.clientId || c.connectionId}.`, refresh))]],
    });
  }

  select.addEventListener('change', render);
  refresh = poll(async () => {
    try {
      const r = await apiList('/api/connections');
      rows = r.items;
      total = r.total;
      sectionError(err, '');
    } catch (e) {
      sectionError(err, e.message);
      render();
      return ['connections: ' + e.message];
    }
    render();
    return [];
  }, 3000);
}

/* ---------- page: messages ---------- */

const pairCache = new Map();

// the translation outcome of a protocol pair (cached, it does not change while the gateway runs)
function translationPair(from, to) {
  const k = from + '>' + to;
  if (!pairCache.has(k)) {
    pairCache.set(k, api(`/api/translation?from=${enc(from)}&to=${enc(to)}`).catch(e => { pairCache.delete(k); throw e; }));
  }
  return pairCache.get(k);
}

const carryText = c => (c ? [c.carry, c.how].filter(Boolean).join(': ') : DASH);

function kvTable(obj, cls) {
  const t = h('table', { class: 'kv ' + (cls || '') }, h('tbody'));
  const entries = Object.entries(obj || {});
  if (!entries.length) t.tBodies[0].append(h('tr', { class: 'empty' }, h('td', { colspan: 2, text: 'none' })));
  for (const [k, v] of entries) {
    t.tBodies[0].append(h('tr', { 'data-key': k }, h('th', { scope: 'row', text: k }),
      h('td', { class: v !== null && typeof v === 'object' ? 'json' : v === null ? 'muted' : null,
        text: v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v) })));
  }
  return t;
}

function outcomeTable(rows, from, to) {
  const t = h('table', { class: 'grid outcome' },
    h('thead', null, h('tr', null, h('th', { text: 'Field' }), h('th', { text: 'Result' }),
      h('th', { text: 'in ' + from }), h('th', { text: 'in ' + to }))), h('tbody'));
  for (const r of rows || []) {
    t.tBodies[0].append(h('tr', { class: resultClass(r.result), 'data-field': r.field, title: r.meaning },
      h('td', { class: 'field', text: r.field }), h('td', { class: 'result', text: r.result }),
      h('td', { text: carryText(r.from) }), h('td', { text: carryText(r.to) })));
  }
  return t;
}

function messagesPage(main, params) {
  const address = h('select', { id: 'address', 'aria-label': 'Address' }, h('option', { value: '', text: 'Loading addresses…' }));
  const partition = h('input', { id: 'partition', type: 'number', min: 0, step: 1, value: params.get('partition') || '0', 'aria-label': 'Partition' });
  const offset = h('input', { id: 'offset', type: 'number', min: 0, step: 1, placeholder: 'newest', value: params.get('offset') || '', 'aria-label': 'Offset' });
  const load = h('button', { id: 'load', type: 'button', class: 'primary', text: 'Load' });
  const older = h('button', { id: 'older', type: 'button', text: '‹ Older', disabled: true });
  const newer = h('button', { id: 'newer', type: 'button', text: 'Newer ›', disabled: true });
  const info = h('span', { id: 'page-info', class: 'muted' });
  const err = errorLine();
  const detail = h('div', { id: 'message-detail', hidden: true });
  const mine = epoch;
  let page = null, seq = 0;

  const tbl = table('messages', [
    { label: 'Offset', num: true, get: m => num(m.offset) },
    { label: 'Time', get: m => ({ text: localTime(m.timestamp), title: isNum(m.timestamp) ? new Date(m.timestamp).toISOString() : null }) },
    { label: 'Key', cls: 'key', get: m => m.key },
    { label: 'Size', num: true, get: m => bytes(m.size) },
    { label: 'Origin', get: m => m.origin },
    { label: 'Preview', cls: 'preview', get: m => ({
      text: m.preview == null ? DASH : String(m.preview).length > 200 ? String(m.preview).slice(0, 200) + '…' : String(m.preview),
      title: [m.contentType, m.preview == null ? null : String(m.preview).slice(0, 1000)].filter(Boolean).join('\n') }) },
  ], false, 'Messages');

  main.append(
    h('div', { class: 'page-head' }, h('h1', { text: 'Messages' })),
    h('form', { class: 'toolbar', onsubmit: e => { e.preventDefault(); fetchPage(offset.value); } },
      h('label', null, 'Address ', address), h('label', null, 'Partition ', partition),
      h('label', null, 'Offset ', offset), load, older, newer, info),
    err, h('div', { class: 'scroll' }, tbl), detail);

  async function fetchPage(from) {
    const a = address.value;
    if (!a) { notice('Choose an address first.', 'error'); return; }
    const p = Math.max(0, parseInt(partition.value, 10) || 0);
    partition.value = p;
    from = from === '' || from == null ? '' : Math.max(0, parseInt(from, 10) || 0);
    setQuery('messages', { address: a, partition: p, offset: from });
    const q = `partition=${p}` + (from === '' ? '' : `&offset=${from}`) + '&max=20';
    const my = ++seq;
    let r;
    try {
      r = await api(`/api/topics/${enc(a)}/messages?${q}`);
    } catch (e) {
      if (my !== seq || mine !== epoch) return;
      sectionError(err, e.message);
      notice(e.message, 'error');
      page = null;
      clearRows(tbl);
      syncRows(tbl, [], { key: m => m.offset, attr: 'data-offset', empty: 'No messages loaded.' });
      older.disabled = newer.disabled = true;
      info.textContent = '';
      return;
    }
    if (my !== seq || mine !== epoch) return;
    sectionError(err, '');
    page = r || {};
    const msgs = Array.isArray(page.messages) ? page.messages : [];
    offset.value = from;
    clearRows(tbl);
    syncRows(tbl, msgs, {
      key: m => m.offset, attr: 'data-offset', empty: 'No messages in this range.',
      onrow: tr => {
        tr.tabIndex = 0;
        tr.classList.add('clickable');
        tr.addEventListener('click', () => showDetail(tr));
        tr.addEventListener('keydown', e => { if (e.key === 'Enter') showDetail(tr); });
      },
    });
    const first = msgs.length ? msgs[0].offset : null, last = msgs.length ? msgs[msgs.length - 1].offset : null;
    older.disabled = !(isNum(first) ? first > page.startOffset : isNum(from) && from > page.startOffset);
    newer.disabled = !(isNum(last) ? last + 1 < page.endOffset : isNum(from) && from < page.endOffset);
    info.textContent = `offsets ${num(page.startOffset)} to ${isNum(page.endOffset) ? num(page.endOffset - 1) : DASH}`
      + (msgs.length ? `, showing ${num(first)}–${num(last)}` : '');
    page.first = first;
    page.last = last;
    page.from = from;
    detail.hidden = true;
    detail.replaceChildren();
  }

  older.addEventListener('click', () => {
    if (!page) return;
    const base = isNum(page.first) ? page.first : page.from;
    fetchPage(Math.max(page.startOffset || 0, base - 20));
  });
  newer.addEventListener('click', () => {
    if (!page) return;
    fetchPage(isNum(page.last) ? page.last + 1 : page.from);
  });
  load.addEventListener('click', () => fetchPage(offset.value));
  address.addEventListener('change', () => {
    offset.value = '';
    syncMax();
    fetchPage('');
  });

  let topics = [];
  function syncMax() {
    const t = topics.find(x => x.name === address.value);
    if (t && isNum(t.partitions)) {
      partition.max = Math.max(0, t.partitions - 1);
      if (+partition.value > +partition.max) partition.value = 0;
    } else {
      partition.removeAttribute('max');
    }
  }

  // the message's renderings in each protocol, next to what becomes of each field from its origin
  async function showDetail(tr) {
    const m = tr.item;
    if (!page || !m) return;
    for (const r of tbl.tBodies[0].rows) r.classList.toggle('selected', r === tr);
    const id = `${page.address || address.value}@${page.partition ?? partition.value}:${m.offset}`;
    const path = `${enc(page.address || address.value)}@${page.partition ?? partition.value}:${m.offset}`;
    const origin = PROTOCOLS.includes(m.origin) ? m.origin : null;
    detail.hidden = false;
    detail.replaceChildren(
      h('h2', { text: 'Message ' + id }),
      h('dl', { class: 'meta' }, dl([['Origin', m.origin || 'unknown'], ['Time', localTime(m.timestamp)],
        ['Key', m.key == null ? DASH : String(m.key)], ['Size', bytes(m.size)], ['Content type', m.contentType || DASH]])),
      h('h3', { text: 'Headers' }), kvTable(m.headers, 'headers'));
    for (const p of PROTOCOLS) {
      const rendering = h('div', { class: 'rendering' }, h('p', { class: 'muted', text: 'Loading…' }));
      const outcome = h('div', { class: 'outcome-box' });
      detail.append(h('section', { class: 'protocol', 'data-protocol': p },
        h('h3', { text: 'As ' + p }), h('div', { class: 'two' }, rendering, outcome)));
      api(`/api/messages/${path}/as/${enc(p)}`)
        .then(r => rendering.replaceChildren(kvTable((r || {}).as, 'as')))
        .catch(e => rendering.replaceChildren(h('p', { class: 'unavailable', text: e.message })));
      if (!origin) {
        outcome.append(h('p', { class: 'muted', text: 'The message\'s origin protocol is unknown: no field outcome.' }));
      } else {
        outcome.append(h('p', { class: 'muted', text: 'Loading…' }));
        translationPair(origin, p)
          .then(rows => outcome.replaceChildren(h('h4', { text: `From ${origin} to ${p}` }), outcomeTable(rows, origin, p)))
          .catch(e => outcome.replaceChildren(h('p', { class: 'unavailable', text: e.message })));
      }
    }
    detail.scrollIntoView({ block: 'nearest' });
  }

  // fill the address list, then load the page of the URL's address
  (async () => {
    const wanted = params.get('address') || '';
    try {
      const r = await api('/api/topics');
      topics = Array.isArray(r) ? r : [];
    } catch (e) {
      if (mine !== epoch) return;
      sectionError(err, 'addresses: ' + e.message);
      notice(e.message, 'error');
    }
    if (mine !== epoch) return;
    const names = topics.map(t => t.name).sort();
    if (wanted && !names.includes(wanted)) names.unshift(wanted);
    address.replaceChildren(h('option', { value: '', text: names.length ? 'Choose an address' : 'No addresses' }),
      ...names.map(n => h('option', { value: n, text: n })));
    address.value = wanted;
    syncMax();
    if (wanted) fetchPage(offset.value);
    else syncRows(tbl, [], { key: m => m.offset, attr: 'data-offset', empty: 'Choose an address and press Load.' });
  })();
}

/* ---------- page: translation ---------- */

let fullTable = null;

function translationPage(main, params) {
  const opts = () => [h('option', { value: '', text: 'any' }), ...PROTOCOLS.map(p => h('option', { value: p, text: p }))];
  const from = h('select', { id: 'from', 'aria-label': 'From protocol' }, opts());
  const to = h('select', { id: 'to', 'aria-label': 'To protocol' }, opts());
  from.value = PROTOCOLS.includes(params.get('from')) ? params.get('from') : '';
  to.value = PROTOCOLS.includes(params.get('to')) ? params.get('to') : '';
  const hint = h('p', { class: 'muted' });
  const err = errorLine();
  const box = h('div', { class: 'scroll' });
  const mine = epoch;
  let seq = 0;

  main.append(
    h('div', { class: 'page-head' }, h('h1', { text: 'Translation' }),
      h('label', null, 'From ', from), h('label', null, 'to ', to)),
    hint, err, box);

  async function load() {
    const f = from.value, t = to.value, my = ++seq;
    setQuery('translation', { from: f, to: t });
    try {
      if (f && t) {
        const rows = await translationPair(f, t);
        if (my !== seq || mine !== epoch) return;
        hint.textContent = `What becomes of each field of a message published with ${f} and delivered with ${t}.`;
        const tbl = h('table', { id: 'translation', class: 'grid pair' },
          h('thead', null, h('tr', null, ['Field', 'Meaning', f, t, 'Result'].map(x => h('th', { text: x })))), h('tbody'));
        for (const r of rows || []) {
          tbl.tBodies[0].append(h('tr', { class: resultClass(r.result), 'data-field': r.field },
            h('td', { class: 'field', text: r.field }), h('td', { class: 'meaning', text: r.meaning }),
            h('td', { text: carryText(r.from) }), h('td', { text: carryText(r.to) }),
            h('td', { class: 'result', text: r.result })));
        }
        box.replaceChildren(tbl);
      } else {
        if (!fullTable) fullTable = await api('/api/translation');
        if (my !== seq || mine !== epoch) return;
        const cols = PROTOCOLS.filter(p => (!f && !t) || p === f || p === t);
        hint.textContent = f || t ? 'How each protocol carries each field; choose both protocols to see the outcome of the pair.'
          : 'How each protocol carries each envelope field: native, text (binary values lost), converted, or lost.';
        const tbl = h('table', { id: 'translation', class: 'grid full' },
          h('thead', null, h('tr', null, h('th', { text: 'Field' }), h('th', { text: 'Meaning' }),
            cols.map(p => h('th', { text: p })))), h('tbody'));
        for (const r of fullTable || []) {
          tbl.tBodies[0].append(h('tr', { 'data-field': r.field },
            h('td', { class: 'field', text: r.field }), h('td', { class: 'meaning', text: r.meaning }),
            cols.map(p => {
              const c = (r.protocols || {})[p];
              return h('td', { class: c ? 'c-' + c.carry : null, 'data-protocol': p },
                h('span', { class: 'carry', text: c ? c.carry : DASH }), c && c.how ? ' ' + c.how : '');
            })));
        }
        box.replaceChildren(tbl);
      }
      sectionError(err, '');
    } catch (e) {
      if (my !== seq || mine !== epoch) return;
      sectionError(err, e.message);
      notice(e.message, 'error');
      if (!$('#translation', box)) box.replaceChildren(h('table', { id: 'translation', class: 'grid' }, h('tbody')));
    }
  }

  from.addEventListener('change', load);
  to.addEventListener('change', load);
  load();
}

/* ---------- start ---------- */

function start() {
  const token = $('#token');
  token.form.addEventListener('submit', e => e.preventDefault());
  token.value = sessionStorage.getItem(TOKEN_KEY) || '';
  token.addEventListener('input', () => {
    const v = token.value.trim();
    if (v) sessionStorage.setItem(TOKEN_KEY, v); else sessionStorage.removeItem(TOKEN_KEY);
  });
  const d = $('#confirm-dialog');
  $('.confirm-yes', d).addEventListener('click', () => closeConfirm(true));
  $('.confirm-no', d).addEventListener('click', () => closeConfirm(false));
  d.addEventListener('click', e => { if (e.target === d) closeConfirm(false); });
  document.addEventListener('keydown', e => { if (e.key === 'Escape' && !d.hidden) closeConfirm(false); });
  $('#notice').addEventListener('click', () => clearNotice());
  window.addEventListener('hashchange', route);
  route();
}

start();
