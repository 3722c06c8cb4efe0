// A sweep's results on the client's side: the rows as they arrive, each with its model file, and
// the leaderboard the worker sends at the end (ranking, cross-validation). The client keeps one
// record per project and saves it with the project (store.js: [id, 'sweep'] and
// [id, 'sweep-model', entry]), so a leaderboard and its models survive a reload.

export class SweepRecord {
  constructor(spec) {
    this.spec = spec;
    this.entries = [];
    this.baselines = null;
    this.rows = [];
    this.ranking = [];
    this.crossValidation = null;
    this.auto = null; // an Auto sweep's plan: { recipes, why }
    this.stopped = false;
    this.finished = false;
    this.running = null; // { entry, name } of the run in progress (not saved)
    this.models = new Map(); // entry -> model file (Uint8Array; saved one by one)
  }

  /** A record from what `board()` returned (as saved with a project), with its models (`Map<entry, bytes>`). */
  static fromSaved(saved, models = new Map()) {
    const record = new SweepRecord(saved.spec);
    for (const key of ['entries', 'baselines', 'rows', 'ranking', 'crossValidation', 'auto', 'stopped', 'finished']) {
      if (key in saved) record[key] = saved[key];
    }
    record.models = new Map([...models].map(([entry, bytes]) => [Number(entry), bytes]));
    return record;
  }

  /** Takes one of the worker's sweep messages (`{ kind: 'planned' | 'baselines' | 'start' | 'epoch' | 'row', … }`). */
  accept(message) {
    switch (message.kind) {
      case 'planned': this.entries = message.entries; break;
      case 'baselines': this.baselines = message.baselines; break;
      case 'start': this.running = { entry: message.entry, name: message.name }; break;
      case 'row':
        this.rows.push(message.row);
        this.models.set(message.row.entry, message.model);
        this.ranking = rank(this.rows);
        this.running = null;
        break;
      default: break;
    }
  }

  /** The end of the sweep: the worker's leaderboard (ranking, cross-validation) and whether it was stopped. */
  finish(leaderboard, stopped) {
    this.ranking = leaderboard?.ranking ?? rank(this.rows);
    this.crossValidation = leaderboard?.cross_validation ?? null;
    this.auto = leaderboard?.auto ?? null;
    this.stopped = stopped;
    this.finished = !stopped;
    this.running = null;
  }

  /** The leaderboard as the client's API returns it, and as a project saves it. */
  board() {
    return structuredClone({
      spec: this.spec, planned: this.entries.length, entries: this.entries, baselines: this.baselines,
      rows: this.rows, ranking: this.ranking, crossValidation: this.crossValidation, auto: this.auto,
      stopped: this.stopped, finished: this.finished,
    });
  }

  /** The model file of the row of `entry`. */
  model(entry) {
    const bytes = this.models.get(entry);
    if (!bytes) throw new Error(`the sweep has no finished row for entry ${entry}: pick one of ${[...this.models.keys()].join(', ') || 'none yet'}`);
    return bytes;
  }
}

// Rows held out on validation examples, best first (as the wasm ranks them: accuracy, then
// macro-F1, then plan order) — while the sweep runs, before its leaderboard arrives.
function rank(rows) {
  return rows.map((row, i) => [row, i])
    .filter(([row]) => row.split.kind !== 'all')
    .sort(([a], [b]) => b.accuracy - a.accuracy || b.macro_f1 - a.macro_f1 || a.entry - b.entry)
    .map(([, i]) => i);
}
