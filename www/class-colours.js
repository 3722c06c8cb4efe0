// One colour per class, reused wherever a class appears: its card and thumbnails, the per-class
// scores, the confusion matrix and the prediction bars (Tableau 10: distinct, and readable for
// the common colour-vision deficiencies when paired with the class's name, which is always shown).
const COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** Sets `element`'s `--class-colour` (which style.css uses) to class `index`'s colour. */
export function paintClass(element, index) {
  element.style.setProperty('--class-colour', COLOURS[index % COLOURS.length]);
}

/** A small square in class `index`'s colour, to put before its name. */
export function swatch(index) {
  const span = document.createElement('span');
  span.className = 'swatch';
  span.setAttribute('aria-hidden', 'true');
  paintClass(span, index);
  return span;
}
