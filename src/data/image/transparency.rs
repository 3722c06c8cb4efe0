//! Transparent pixels: laid over a grey background, and whether an image is a cut-out.

/// Whether at least half of the pixels along the image's four edges are more transparent than
/// opaque: what a cut-out looks like, where a photo with rounded corners is not one.
pub(super) fn border_mostly_transparent(width: usize, height: usize, pixels: &[u8]) -> bool {
    let alpha = |x: usize, y: usize| pixels[(y * width + x) * 4 + 3];
    let rows = (0..width).flat_map(|x| [alpha(x, 0), alpha(x, height - 1)]);
    let columns = (0..height).flat_map(|y| [alpha(0, y), alpha(width - 1, y)]);
    let (mut transparent, mut all) = (0usize, 0usize);
    for a in rows.chain(columns) {
        all += 1;
        transparent += usize::from(a < 128);
    }
    2 * transparent >= all
}

/// The grey that transparent pixels show: 115 is the mean of ImageNet's channel means, so it
/// normalises to about zero (no signal), and a neutral grey keeps a greyscale drawing greyscale.
pub(super) const BACKGROUND: u8 = 115;

/// Makes every pixel opaque by laying the image over [`BACKGROUND`]. The colour under a transparent
/// pixel is not part of the picture: a browser's canvas gives it as black, while a PNG decoder
/// gives whatever the file stores there (often the cut-out photo's old background), so without
/// this the page and the CLI saw different images. On cut-out PNGs (Tux Paint's stamps, 10
/// splits, a logistic regression on MobileNetV2 features) grey also scored best: 93.8 % against
/// 92.6 % for the stored colours, 92.4 % black, 93.3 % white.
pub(super) fn composite_over_background(pixels: &mut [u8]) {
    for p in pixels.chunks_exact_mut(4) {
        let alpha = u32::from(p[3]);
        if alpha == 255 {
            continue;
        }
        let background = u32::from(BACKGROUND) * (255 - alpha);
        for c in &mut p[..3] {
            // ≤ (255·255 + 127) / 255 = 255: the cast cannot truncate.
            *c = ((u32::from(*c) * alpha + background + 127) / 255) as u8;
        }
        p[3] = 255;
    }
}
