// The overfitting rule the page labels its curves with (a pure function: no browser needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { overfittingFrom } from '../../www/charts.js';

const run = (pairs) => pairs.map(([train_loss, val_loss]) => ({ train_loss, val_loss }));

test('a widening gap after the best validation loss is overfitting, from the epoch after the best', () => {
  assert.equal(overfittingFrom(run([[1.0, 1.0], [0.6, 0.7], [0.4, 0.6], [0.25, 0.7], [0.1, 0.9]])), 3);
});

test('steady improvement, noise near zero, or a too-recent best are not labelled', () => {
  assert.equal(overfittingFrom(run([[1.0, 1.1], [0.6, 0.7], [0.4, 0.5], [0.3, 0.45]])), null);
  assert.equal(overfittingFrom(run([[0.5, 0.5], [0.05, 0.008], [0.03, 0.009], [0.02, 0.012]])), null);
  assert.equal(overfittingFrom(run([[1.0, 1.0], [0.6, 0.6], [0.4, 0.9]])), null);
  assert.equal(overfittingFrom([]), null);
});

test('validation loss rising while training loss rises too is not overfitting (it is divergence)', () => {
  assert.equal(overfittingFrom(run([[1.0, 1.0], [0.8, 0.8], [0.9, 1.0], [1.2, 1.4]])), null);
});
