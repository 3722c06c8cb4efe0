// The Evaluate card's DOM: per-class scores, the confusion matrix and the examples behind a cell,
// and the likely mislabelled examples. An example is shown as its thumbnail (`url`) in an image
// project and as its text (`text`) in a text project: truncated, the full text on expand.
import { paintClass, swatch } from './class-colours.js';

const $ = (id) => document.getElementById(id);
const pct = (x) => `${(100 * x).toFixed(1)}%`;
/** Texts longer than this are cut in lists; the full text opens below (a <details>). */
const SHORT_TEXT = 140;

function cell(tag, text) {
  const el = document.createElement(tag);
  el.textContent = String(text);
  return el;
}

/** A class's name with its colour swatch. */
function className(tag, classes, index) {
  const el = document.createElement(tag);
  el.append(swatch(index), classes[index] ?? `class ${index}`);
  return el;
}

/** A text as a list shows it: whole when short, else cut with the rest behind "more". */
function exampleText(text) {
  const quote = cell('q', text.length > SHORT_TEXT ? `${text.slice(0, SHORT_TEXT).trimEnd()}…` : text);
  quote.className = 'example-text';
  if (text.length <= SHORT_TEXT) return quote;
  const details = document.createElement('details');
  const summary = document.createElement('summary');
  summary.append(quote);
  summary.title = text;
  const full = cell('p', text);
  full.className = 'example-text';
  details.append(summary, full);
  return details;
}

export const evaluationView = {
  showEvaluation(evaluation, classes, onCell) {
    const { report } = evaluation;
    $('eval-empty').hidden = true;
    $('evaluation').hidden = false;
    $('per-class').querySelector('tbody').replaceChildren(...report.per_class.map((m, i) => {
      const row = document.createElement('tr');
      row.append(className('td', classes, i), cell('td', m.precision.toFixed(3)), cell('td', m.recall.toFixed(3)),
        cell('td', m.f1.toFixed(3)), cell('td', m.support));
      return row;
    }));
    const weights = evaluation.epoch == null ? '' : `The kept weights (epoch ${evaluation.epoch + 1}): `;
    // How far the stated confidences are from the accuracy they come with (ECE), and the
    // temperature that calibration applied when the run ended, and how it was chosen where the
    // validation loss could not choose it (or why none was applied).
    const c = evaluation.calibration;
    const why = c?.reason ? `: ${c.reason}` : '';
    const scaled = c?.applied ? ` after temperature scaling (T = ${c.temperature.toFixed(2)}; ${pct(c.ece_before)} before${why})`
      : c?.reason ? ` (no temperature scaling${why})` : '';
    const calibration = evaluation.expected_calibration_error == null ? '' : ` · calibration error ${pct(evaluation.expected_calibration_error)}${scaled}`;
    $('averages').textContent = `${weights}Accuracy ${pct(report.accuracy)} · macro F1 ${report.macro_f1.toFixed(3)} · weighted F1 ${report.weighted_f1.toFixed(3)} · top-${evaluation.top_k} ${pct(evaluation.top_k_accuracy)}${calibration}`;
    const table = $('confusion');
    const head = document.createElement('tr');
    head.append(cell('th', 'actual \\ predicted'), ...classes.map((_, i) => className('th', classes, i)));
    const rows = report.confusion.counts.map((counts, a) => {
      const row = document.createElement('tr');
      row.append(className('th', classes, a));
      counts.forEach((n, p) => {
        const td = cell('td', n);
        td.className = a === p ? 'cell diag' : 'cell';
        td.tabIndex = 0;
        td.dataset.actual = String(a);
        td.dataset.predicted = String(p);
        td.setAttribute('aria-label', `${n} ${classes[a]} predicted as ${classes[p]}`);
        td.addEventListener('click', () => onCell(a, p));
        td.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); onCell(a, p); } });
        row.append(td);
      });
      return row;
    });
    table.replaceChildren(head, ...rows);
    let detail = $('cell-examples');
    if (!detail) {
      detail = document.createElement('div');
      detail.id = 'cell-examples';
      detail.setAttribute('aria-live', 'polite');
      $('evaluation').append(detail);
    }
    detail.replaceChildren();
  },

  /** Lists the `hardest` examples: `{label, predicted, loss, url?, text?}` with class names. */
  showHardest(items, classes) {
    const list = $('hardest');
    list.classList.toggle('texts', items.some((x) => x.text != null));
    list.replaceChildren(...items.map((x) => {
      const li = document.createElement('li');
      paintClass(li, x.label);
      li.append(swatch(x.label), `labelled ${classes[x.label]}, predicted ${classes[x.predicted]} (loss ${x.loss.toFixed(2)})`);
      if (x.url) {
        const img = document.createElement('img');
        img.src = x.url;
        img.alt = '';
        img.width = 40;
        li.prepend(img);
      }
      if (x.text != null) li.append(': ', exampleText(x.text));
      return li;
    }));
  },

  /** The examples behind a confusion-matrix cell: `{ urls }` (thumbnails) or `{ texts }`. */
  showCellExamples(title, { urls = [], texts = null }) {
    const detail = $('cell-examples');
    if (texts) {
      const list = document.createElement('ol');
      list.className = 'texts';
      list.setAttribute('aria-label', title);
      list.append(...texts.map((t) => { const li = document.createElement('li'); li.append(exampleText(t)); return li; }));
      detail.replaceChildren(cell('p', title), list);
      return;
    }
    const thumbs = document.createElement('div');
    thumbs.className = 'thumbs';
    thumbs.append(...urls.map((url) => { const img = document.createElement('img'); img.src = url; img.alt = ''; return img; }));
    detail.replaceChildren(cell('p', title), thumbs);
  },
};
