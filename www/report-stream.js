// A request that reports progress, as an async iterator of its reports: each report is yielded
// in order, and the iterator ends when the request succeeds or throws its failure.

/**
 * Starts `start(onReport)` (a request that calls `onReport` for each report and resolves when
 * done) and yields its reports. Aborting `signal` calls `stop()` (the request then ends after
 * its current step).
 */
export async function* reportsOf(start, stop, signal) {
  const queue = [];
  let wake = null;
  let finished = false;
  let failure = null;
  const done = start((report) => { queue.push(report); wake?.(); })
    .then(() => { finished = true; wake?.(); }, (e) => { failure = e; wake?.(); });
  signal?.addEventListener('abort', stop, { once: true });
  try {
    while (true) {
      if (queue.length) { yield queue.shift(); continue; }
      if (failure) throw failure;
      if (finished) break;
      await new Promise((resolve) => { wake = resolve; });
      wake = null;
    }
    await done;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}
