// Small helpers shared by the page's modules.

export const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];

/** One line of error text: the message, not a stack; strings and other throwables too. */
export const errorText = (e) => (e instanceof Error ? e.message : String(e)) || 'unknown error';
