// Text projects: labelled files (columns picked from the header) and texts pasted per class.
// The sources are kept in the order they were added; the worker's trainer is rebuilt from them
// when a column choice changes, and again for every Train.
import { guessColumns, textFormat } from './text-columns.js';
import { state, errorText, createTrainer } from './page-state.js';
import { ui } from './ui.js';
import * as saving from './saving.js';

/** Adds one source to the current trainer; resolves to its report (files) or count (lines). */
export async function addTextSource(source) {
  if (source.kind === 'file') return state.client.addTextFile(source.file, source.options);
  return state.client.addTexts(source.lines, source.className);
}

export async function showTextCounts() { ui.showTextCounts(await state.client.classCounts()); }

function keep(source) {
  source.n = state.nextText++;
  state.textSources.push(source);
  saving.saveTextSource(source);
}

/** Offers the columns of the last file again (after a saved project is opened). */
export async function showColumnsOfLastFile() {
  const source = state.textSources.findLast((s) => s.kind === 'file');
  if (!source) return;
  const columns = await state.client.textColumns(source.file, source.options.format);
  ui.setColumns(columns, { text: source.options.text_column, label: source.options.label_column });
}

ui.onTextFile(async (file) => {
  ui.dataError('');
  try {
    const format = textFormat(file.name);
    const columns = await state.client.textColumns(file, format);
    const chosen = guessColumns(columns);
    const source = { kind: 'file', file, options: { format, text_column: chosen.text, label_column: chosen.label } };
    const report = await addTextSource(source);
    keep(source);
    ui.setColumns(columns, chosen);
    ui.showSkippedRows(report.skipped);
    await showTextCounts();
  } catch (e) {
    ui.dataError(`${file.name}: ${errorText(e)} The texts loaded before are kept.`);
  }
});

// A new column choice re-reads the last file: the trainer is rebuilt from every source. Changes
// run one after another (each rebuild replaces the worker), each with the pickers' latest values.
let columnWork = Promise.resolve();
ui.onColumnsChange(() => { columnWork = columnWork.then(rereadColumns); });

async function rebuild() {
  await createTrainer();
  const reports = new Map();
  for (const s of state.textSources) reports.set(s, await addTextSource(s));
  return reports;
}

async function rereadColumns() {
  const source = state.textSources.findLast((s) => s.kind === 'file');
  const { text, label } = ui.textColumns();
  if (!source || (source.options.text_column === text && source.options.label_column === label)) return;
  ui.dataError('');
  const previous = source.options;
  source.options = { ...previous, text_column: text, label_column: label };
  try {
    ui.showSkippedRows((await rebuild()).get(source).skipped);
    saving.saveTextSource(source);
  } catch (e) {
    ui.dataError(`${source.file.name} with text column "${text}" and label column "${label}": ${errorText(e)} The previous columns are kept.`);
    source.options = previous;
    try { await rebuild(); } catch (again) { ui.dataError(errorText(again)); }
  }
  await showTextCounts();
}

ui.onPaste(async (className, text) => {
  ui.dataError('');
  const name = className.trim();
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (!name) { ui.dataError('Name the class these texts belong to.'); return; }
  if (!lines.length) { ui.dataError('Paste at least one text (one per line).'); return; }
  try {
    const source = { kind: 'lines', className: name, lines };
    await addTextSource(source);
    keep(source);
    ui.clearPaste();
    await showTextCounts();
  } catch (e) {
    ui.dataError(errorText(e));
  }
});
