// Small hand-written SVG line charts for the training curves (no library, works offline), and
// the overfitting rule the page labels them with.
const NS = 'http://www.w3.org/2000/svg';
const W = 320;
const H = 180;
const PAD = { left: 44, right: 10, top: 22, bottom: 26 };

function el(name, attrs, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function tickLabel(v) {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(1) : a >= 0.01 ? v.toFixed(2) : v.toExponential(0);
}

/**
 * Draws `series` ([{ name, values, className }], one value per epoch) into `svg`, with axes,
 * a legend and an optional shaded `band` ({ from, label }) from epoch index `from` onwards.
 */
export function drawLineChart(svg, { title, series, band = null, yMin = null, yMax = null }) {
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const n = Math.max(...series.map((s) => s.values.length), 1);
  let lo = yMin ?? Math.min(...all);
  let hi = yMax ?? Math.max(...all);
  if (!all.length) { lo = 0; hi = 1; }
  if (hi - lo < 1e-12) { hi = lo + 1; }
  const x = (i) => PAD.left + (n === 1 ? 0.5 : i / (n - 1)) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - ((v - lo) / (hi - lo)) * (H - PAD.top - PAD.bottom);

  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('role', 'img');
  svg.replaceChildren(el('title', {}, title));
  if (band && band.from < n) {
    const x0 = x(Math.max(band.from - 0.5, 0));
    svg.append(el('rect', { x: x0, y: PAD.top, width: W - PAD.right - x0, height: H - PAD.top - PAD.bottom, class: 'band' }),
      el('text', { x: W - PAD.right - 2, y: PAD.top + 12, 'text-anchor': 'end', class: 'band-label' }, band.label));
  }
  svg.append(el('line', { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom, class: 'axis' }),
    el('line', { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom, class: 'axis' }));
  for (const v of [lo, (lo + hi) / 2, hi]) {
    svg.append(el('text', { x: PAD.left - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, tickLabel(v)));
  }
  svg.append(el('text', { x: PAD.left, y: H - 8, class: 'tick' }, 'epoch 1'),
    el('text', { x: W - PAD.right, y: H - 8, 'text-anchor': 'end', class: 'tick' }, `epoch ${n}`));
  series.forEach((s, k) => {
    const points = s.values.map((v, i) => (Number.isFinite(v) ? `${x(i).toFixed(1)},${y(v).toFixed(1)}` : null)).filter(Boolean);
    if (points.length > 1) svg.append(el('polyline', { points: points.join(' '), class: `line ${s.className}` }));
    for (const p of points) { const [cx, cy] = p.split(','); svg.append(el('circle', { cx, cy, r: 2, class: `dot ${s.className}` })); }
    svg.append(el('text', { x: PAD.left + 6 + k * 90, y: 14, class: `legend ${s.className}` }, `— ${s.name}`));
  });
}

/**
 * The epoch (0-based) from which the run looks overfit — validation loss, two or more epochs
 * after its best, clearly above it while training loss keeps falling, so the gap widens — or
 * null.
 */
export function overfittingFrom(history) {
  let best = Infinity;
  let bestAt = -1;
  history.forEach((r, i) => { if (r.val_loss < best) { best = r.val_loss; bestAt = i; } });
  const last = history.length - 1;
  if (bestAt < 0 || last - bestAt < 2) return null;
  const after = history.slice(bestAt);
  // Ignore noise: the rise must be clear in relative and absolute terms.
  const valRising = after.at(-1).val_loss > best + Math.max(0.05 * best, 0.01);
  const trainFalling = after.at(-1).train_loss < after[0].train_loss;
  const gap = (r) => r.val_loss - r.train_loss;
  const gapWidening = gap(after.at(-1)) > gap(after[0]) + 0.01;
  return valRising && trainFalling && gapWidening ? bestAt + 1 : null;
}
