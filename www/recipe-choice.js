// The Train card's recipe beyond filling the Advanced panel: a named recipe's augmentation
// adapted to the images (kindling's Recipe::adapt, asked through the client), and Auto (a
// comparison of the recipes that suit the examples whose best is kept).
import { state } from './page-state.js';
import { ui } from './ui.js';
import { imageProfile } from './image-classes.js';
import { augmentIsRecipes, setAugment } from './options.js';

// A named recipe's augmentation adapted to the images (kindling's Recipe::adapt: no flips for
// greyscale images, colour jitter for few colour ones) when the person has not changed it since
// the recipe filled the panel; returns what changed, a sentence each.
export async function adaptRecipe(advanced, settings) {
  const recipe = ui.recipe();
  const { horizontal_flip: flip, random_resized_crop: crop, color_jitter: jitter } = settings.augment ?? {};
  // Only a recipe's own augmentation adapts (Recipe::adapt): without any, there is nothing to ask.
  const augments = flip || crop || jitter > 0;
  if (state.task !== 'images' || recipe === 'auto' || !augments || !augmentIsRecipes()) return [];
  const { augment, notes } = await state.client.adaptRecipe(recipe, settings.augment, imageProfile());
  if (notes.length) setAugment(advanced, augment);
  return notes.map((note) => `${recipe[0].toUpperCase()}${recipe.slice(1)}: ${note}.`);
}

// The Auto recipe: a comparison of the recipes that suit the examples (shown on the
// leaderboard), whose best becomes the project's model; the status says what it chose and why.
export async function trainAuto(experiments, settings) {
  ui.setStatus('Auto: comparing recipes…');
  try {
    const { row, why, others } = await experiments.runAuto(settings);
    if (!row) {
      ui.setStatus('Auto: no run finished.');
      return;
    }
    const against = others.length ? ` against ${others.map((r) => `${r.name} ${(100 * r.accuracy).toFixed(1)}%`).join(', ')}` : '';
    ui.setStatus(`Auto chose ${row.name}: validation accuracy ${(100 * row.accuracy).toFixed(1)}%${against} — ${why}.`);
  } finally {
    ui.setTraining(false);
  }
}
