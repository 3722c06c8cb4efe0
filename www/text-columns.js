// The column names of a labelled text file, read from its first line, and a guess of which
// column holds the text and which the label. Only the header is read here; the rows are parsed
// (and bad ones reported) by kindling itself.

export function textFormat(name) {
  const lower = name.toLowerCase();
  return lower.endsWith('.jsonl') || lower.endsWith('.json') ? 'jsonl' : lower.endsWith('.tsv') ? 'tsv' : 'csv';
}

// One delimited line split into fields, honouring double quotes ("" is a quote).
function splitLine(line, delimiter) {
  const fields = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) { fields.push(field); field = ''; } else field += c;
  }
  fields.push(field);
  return fields.map((f) => f.trim());
}

/** The column names of `file` (a CSV/TSV header or the keys of the first JSON line). */
export async function readColumns(file, format) {
  const head = await file.slice(0, 64 * 1024).text();
  const first = head.replace(/^\uFEFF/, '').split(/\r?\n/).find((l) => l.trim() !== '');
  if (first === undefined) throw new Error(`${file.name} is empty.`);
  if (format === 'jsonl') {
    let row;
    try { row = JSON.parse(first); } catch { throw new Error(`${file.name}: the first line is not JSON (JSONL needs one object per line).`); }
    if (!row || typeof row !== 'object' || Array.isArray(row)) throw new Error(`${file.name}: the first line is not a JSON object.`);
    return Object.keys(row);
  }
  const columns = splitLine(first, format === 'tsv' ? '\t' : ',');
  if (columns.length < 2) throw new Error(`${file.name}: the first line has one column; a text and a label column are needed (is it ${format === 'tsv' ? 'comma' : 'tab'}-separated?).`);
  return columns;
}

const TEXT_NAMES = ['text', 'sentence', 'review', 'content', 'body', 'tweet', 'message', 'comment', 'title'];
const LABEL_NAMES = ['label', 'class', 'sentiment', 'category', 'target', 'intent', 'tag', 'y'];

/** The likely text and label columns among `columns`. */
export function guessColumns(columns) {
  const find = (names) => columns.find((c) => names.includes(c.toLowerCase()));
  const text = find(TEXT_NAMES) ?? columns[0];
  const label = find(LABEL_NAMES.filter((n) => n !== text.toLowerCase())) ?? columns.filter((c) => c !== text).at(-1) ?? columns[0];
  return { text, label };
}
