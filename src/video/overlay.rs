//! Text drawn over the picture (fps, delays, provider, …) with the 8×8 bitmap font of
//! `font8x8`, onto the 0RGB buffer the window shows.

use font8x8::UnicodeFonts;

/// Draws `lines` from the top-left corner on a dark band, each glyph `scale` pixels per dot.
pub fn draw_text(buffer: &mut [u32], width: usize, height: usize, lines: &[String], scale: usize) {
    let scale = scale.max(1);
    let line_height = 10 * scale;
    let band_width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0) * 8 * scale + 8;
    let band_height = lines.len() * line_height + 6;
    // Darken the band so the text reads on any picture.
    for y in 0..band_height.min(height) {
        for px in &mut buffer[y * width..y * width + band_width.min(width)] {
            *px = (*px >> 2) & 0x003f_3f3f;
        }
    }
    for (row, line) in lines.iter().enumerate() {
        let top = 4 + row * line_height;
        for (col, ch) in line.chars().enumerate() {
            let Some(glyph) = font8x8::BASIC_FONTS.get(ch).or_else(|| font8x8::LATIN_FONTS.get(ch)) else {
                continue;
            };
            let left = 4 + col * 8 * scale;
            for (gy, bits) in glyph.iter().enumerate() {
                for gx in 0..8 {
                    if bits & (1 << gx) == 0 {
                        continue;
                    }
                    for dy in 0..scale {
                        for dx in 0..scale {
                            let (x, y) = (left + gx * scale + dx, top + gy * scale + dy);
                            if x < width && y < height {
                                buffer[y * width + x] = 0x00ff_ff66;
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lights_pixels_and_stays_in_bounds() {
        let mut buffer = vec![0x00ff_ffffu32; 40 * 12];
        draw_text(&mut buffer, 40, 12, &["fps 30 and more than fits".to_string()], 1);
        assert!(buffer.contains(&0x00ff_ff66));
        assert!(buffer.contains(&0x003f_3f3f)); // darkened band
    }
}
