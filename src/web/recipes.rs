//! A recipe's adaptation to a project's examples (`Recipe::adapt`), for the page: the page fills
//! its Advanced panel from the recipe and asks here what the examples change, and why.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::{from_js, to_js};
use crate::data::image::Augment;
use crate::train::recipe::{DataProfile, Recipe};

#[derive(Serialize)]
struct Adapted {
    augment: Augment,
    notes: Vec<String>,
}

/// `{augment, notes}`: recipe `name`'s augmentation `augment` adapted to the examples described
/// by `profile` (`{smallest_class, images, greyscale}`), with a sentence per change.
#[wasm_bindgen(js_name = adaptRecipe)]
pub fn adapt_recipe(name: String, augment: JsValue, profile: JsValue) -> Result<JsValue, JsError> {
    let recipe: Recipe = name.parse()?;
    let augment: Augment = from_js(augment, "augment")?;
    augment.validate()?;
    let profile: DataProfile = from_js(profile, "profile")?;
    let (augment, notes) = recipe.adapt(augment, &profile);
    to_js(&Adapted { augment, notes })
}
