// The dashboard's only script: polls GET /v1/dashboard and draws plain SVG, so the page needs
// nothing but this replica (no CDN, no chart library). Text from the API (titles, ids) is always
// set through textContent, never as HTML: titles are written by anyone holding the admin token.

const SVG = 'http://www.w3.org/2000/svg';
const POLL_MS = 1000;
const COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04'];
const colourOf = new Map();

function colour(variant) {
  if (!colourOf.has(variant)) colourOf.set(variant, COLOURS[colourOf.size % COLOURS.length]);
  return colourOf.get(variant);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function duration(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= value) return m * step;
  return 10 * step;
}

/**
 * Draws lines (one per series) into an SVG with a time x-axis. Each series is
 * { name, colour, points: [[t, y], ...] }; null ys break the line. A series of one point shows as a dot.
 */
function drawChart(target, series, options = {}) {
  const W = 480, H = 200, left = 42, right = 8, top = 8, bottom = 22;
  target.replaceChildren();
  const all = series.flatMap((s) => s.points.filter((p) => p[1] !== null));
  const now = Date.now();
  const t0 = all.length > 0 ? Math.min(...all.map((p) => p[0])) : now - 60_000;
  const t1 = Math.max(now, t0 + 1000);
  const yMax = options.yMax ?? niceMax(Math.max(0, ...all.map((p) => p[1])));
  const x = (t) => left + ((t - t0) / (t1 - t0)) * (W - left - right);
  const y = (v) => top + (1 - v / yMax) * (H - top - bottom);
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    target.append(svg('line', { class: 'grid', x1: left, x2: W - right, y1: y(v), y2: y(v) }));
    target.append(svg('text', { x: left - 4, y: y(v) + 3, 'text-anchor': 'end' }, options.format ? options.format(v) : String(+v.toFixed(3))));
  }
  target.append(svg('text', { x: left, y: H - 6 }, new Date(t0).toLocaleTimeString()));
  target.append(svg('text', { x: W - right, y: H - 6, 'text-anchor': 'end' }, new Date(t1).toLocaleTimeString()));
  if (all.length === 0) {
    target.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, options.empty ?? 'no data yet'));
    return;
  }
  for (const s of series) {
    let path = '';
    let pen = false;
    for (const [t, v] of s.points) {
      if (v === null) { pen = false; continue; }
      path += `${pen ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    }
    if (path !== '') target.append(svg('path', { d: path, fill: 'none', stroke: s.colour, 'stroke-width': 2, 'data-series': s.name }));
    for (const [t, v] of s.points) if (v !== null) target.append(svg('circle', { cx: x(t).toFixed(1), cy: y(v).toFixed(1), r: 2.5, fill: s.colour, 'data-series': s.name }));
  }
}

// A step series: a variant's figure holds from one snapshot to the next, so it is extended to now.
function stepPoints(points, field) {
  const out = [];
  for (const p of points) {
    if (out.length > 0) out.push([p.at, out.at(-1)[1]]);
    out.push([p.at, p[field]]);
  }
  if (out.length > 0) out.push([Date.now(), out.at(-1)[1]]);
  return out;
}

let variants = [];

function renderVariants(list) {
  const body = document.querySelector('#variants tbody');
  body.replaceChildren(...list.map((v) => el('tr', { 'data-variant': v.variant },
    el('td', {}, el('span', { class: 'swatch', style: `background:${colour(v.variant)}` }), v.variant),
    el('td', {}, v.method),
    el('td', {}, `v${v.version}`),
    el('td', { title: v.backboneId }, el('code', {}, v.backboneId.slice(0, 12))),
    el('td', {}, duration(v.freshnessMs)),
    el('td', {}, `${v.examplesTrained.toLocaleString()} clicks`),
    el('td', {}, String(v.snapshotsApplied)),
    el('td', {}, String(v.snapshotsRefused)),
    el('td', {}, v.previousVersion === null ? el('span', { class: 'muted' }, '–')
      : el('button', { type: 'button', onclick: () => rollback(v.variant) }, `to v${v.previousVersion}`)),
  )));
  document.querySelector('#legend').replaceChildren(...list.map((v) => el('span', {}, el('span', { class: 'swatch', style: `background:${colour(v.variant)}` }), `${v.variant} (${v.method})`)));
}

function renderCharts(state) {
  for (const [id, field] of [['#chart-hr10', 'hr10'], ['#chart-ndcg10', 'ndcg10']]) {
    drawChart(document.querySelector(id), state.variants.map((v) => ({ name: v.variant, colour: colour(v.variant), points: stepPoints(v.series, field) })),
      { empty: 'no published figures yet', format: (n) => String(+n.toFixed(3)) });
  }
  const traffic = state.traffic.series;
  const last = traffic.at(-1);
  const lines = [['#chart-rps', '#now-rps', 'requestsPerSecond'], ['#chart-p99', '#now-p99', 'p99Ms'], ['#chart-eps', '#now-eps', 'eventsPerSecond']];
  for (const [chart, now, field] of lines) {
    drawChart(document.querySelector(chart), [{ name: field, colour: '#2563eb', points: traffic.map((p) => [p.at, p[field]]) }]);
    const value = last?.[field];
    document.querySelector(now).textContent = value === null || value === undefined ? '' : `now ${+value.toFixed(1)}`;
  }
}

// The explorer's picks: the replica's most recently active users, as options of the user field.
function renderUsers(users) {
  const list = document.querySelector('#users');
  if (list.dataset.users === users.join('\n')) return;
  list.dataset.users = users.join('\n');
  list.replaceChildren(...users.map((user) => Object.assign(document.createElement('option'), { value: user })));
}

async function poll() {
  const status = document.querySelector('#status');
  try {
    const response = await fetch('/v1/dashboard', { cache: 'no-store' });
    if (!response.ok) throw new Error(`GET /v1/dashboard answered ${response.status}`);
    const state = await response.json();
    const known = variants.map((v) => v.variant).join();
    variants = state.variants;
    renderVariants(state.variants);
    renderCharts(state);
    renderUsers(state.users);
    status.textContent = `live · ${state.variants.length} variant${state.variants.length === 1 ? '' : 's'} · ${new Date(state.now).toLocaleTimeString()}`;
    status.className = 'muted';
    // The first answer (or a new variant) is when the explorer learns which lists to show.
    if (known !== state.variants.map((v) => v.variant).join()) await explore();
  } catch (error) {
    // Shown on the page rather than thrown: a replica restarting is a state, not a page fault.
    status.textContent = `not reachable (${error.message}); retrying`;
    status.className = 'error';
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

async function rollback(variant) {
  const out = document.querySelector('#rollback-result');
  const token = document.querySelector('#token').value;
  if (token === '') { out.textContent = 'enter the admin token first'; out.className = 'error'; return; }
  const response = await fetch(`/v1/models/${encodeURIComponent(variant)}/rollback`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  const body = await response.json().catch(() => ({}));
  out.textContent = response.ok ? `${variant}: rolled back from v${body.rolledBackFrom} to v${body.restores} (now v${body.version}, on every replica)` : `${variant}: ${body.code ?? response.status} ${body.message ?? ''}`;
  out.className = response.ok ? 'muted' : 'error';
}

function explorerRequest() {
  const userId = document.querySelector('#user').value.trim();
  const k = Number(document.querySelector('#k').value) || 10;
  const typed = document.querySelector('#history').value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return { userId, k, ...(typed.length > 0 ? { history: typed } : {}) };
}

let lastLists = new Map();

/** Every variant's top-k for the explorer's user, side by side; returns whether any list changed. */
async function explore() {
  const request = explorerRequest();
  const lists = document.querySelector('#lists');
  if (request.userId === '' || variants.length === 0) return false;
  const answers = await Promise.all(variants.map(async ({ variant }) => {
    const response = await fetch('/v1/recommendations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...request, variant }) });
    return { variant, response: response.status, body: await response.json() };
  }));
  let changed = false;
  const next = new Map();
  lists.replaceChildren(...answers.map(({ variant, response, body }) => {
    const key = response === 200 ? body.items.map((i) => i.itemId).join() : `error ${response}`;
    next.set(variant, key);
    const differs = lastLists.has(variant) && lastLists.get(variant) !== key;
    changed ||= differs;
    const card = el('div', { class: `list${differs ? ' changed' : ''}`, 'data-variant': variant });
    if (response !== 200) {
      card.append(el('h3', {}, variant), el('p', { class: 'error' }, `${body.code ?? response}: ${body.message ?? ''}`));
      return card;
    }
    const note = body.fallback === 'popularity' ? ' · popularity fallback' : '';
    card.append(
      el('h3', {}, el('span', { class: 'swatch', style: `background:${colour(variant)}` }), `${variant} v${body.version}`, el('span', { class: 'muted' }, ` · history ${body.historyLength}${note}`)),
      el('ol', {}, ...body.items.map((item) => el('li', { 'data-item': item.itemId, title: `click ${item.itemId} as ${request.userId}`, onclick: () => click(item.itemId) },
        el('span', { class: 'score' }, item.score.toFixed(3)),
        item.title ?? item.itemId,
        item.title === undefined ? '' : el('span', { class: 'muted' }, ` ${item.itemId}`),
        item.categories === undefined ? '' : el('div', { class: 'cats' }, item.categories.join(' · ')),
      ))),
    );
    return card;
  }));
  lastLists = next;
  return changed;
}

/**
 * Posts a click for the explorer's user, then refreshes the lists until they change (the click
 * reaches serving's history through reco.events, usually within a few hundred ms) or 3 s pass.
 */
async function click(itemId) {
  const { userId } = explorerRequest();
  const historyField = document.querySelector('#history');
  if (historyField.value.trim() !== '') historyField.value = `${historyField.value.trim()}, ${itemId}`;
  const response = await fetch('/v1/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events: [{ userId, itemId, type: 'click', ts: Date.now() }] }) });
  if (response.status !== 202) {
    document.querySelector('#status').textContent = `click refused: ${response.status}`;
    return;
  }
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    if (await explore()) return;
  }
}

document.querySelector('#explore').addEventListener('submit', (event) => {
  event.preventDefault();
  lastLists = new Map();
  void explore();
});

void poll();
