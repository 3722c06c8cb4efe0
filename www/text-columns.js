// Which column of a labelled text file holds the text and which the label: the file's format from
// its name, and a guess among its column names. The names themselves are read by kindling (the
// client's textColumns()), which also parses the rows and reports bad ones.

export function textFormat(name) {
  const lower = name.toLowerCase();
  return lower.endsWith('.jsonl') || lower.endsWith('.json') ? 'jsonl' : lower.endsWith('.tsv') ? 'tsv' : 'csv';
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
