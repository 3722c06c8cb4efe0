// Turns inputs into what the trainer takes. For this slice: a seeded synthetic data set of
// separable feature vectors (3 classes around random centres).
export function syntheticFeatures({ dim = 16, perClass = 40, classes = ['red', 'green', 'blue'], seed = 7 } = {}) {
  let s = seed >>> 0;
  const uniform = () => { s = (s * 1664525 + 1013904223) >>> 0; return (s + 0.5) / 4294967296; };
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const centres = classes.map(() => Array.from({ length: dim }, () => 2 * normal()));
  const n = perClass * classes.length;
  const values = new Float32Array(n * dim);
  const labels = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes.length;
    labels[i] = c;
    for (let j = 0; j < dim; j++) values[i * dim + j] = centres[c][j] + 0.3 * normal();
  }
  return { dim, values, labels, classes };
}
