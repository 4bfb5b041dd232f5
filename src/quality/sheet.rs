//! Before/after contact sheets with the figures printed on them: for a picture, each face's
//! original and result side by side; for a video, sampled frames, originals above results.

use std::path::Path;

use font8x8::UnicodeFonts;
use image::{imageops::FilterType, Rgb, RgbImage};

use super::{FaceFigures, PictureComparison, VideoComparison};
use crate::{
    imaging::PictureLimits,
    video::{FrameSource, VideoFileSource},
    Result,
};

const INK: Rgb<u8> = Rgb([255, 255, 102]);
const PAPER: Rgb<u8> = Rgb([24, 24, 24]);
const LINE: u32 = 12;

/// Writes `text` at (`x`, `y`) in the 8×8 font.
fn write(sheet: &mut RgbImage, x: u32, y: u32, text: &str) {
    for (col, ch) in text.chars().enumerate() {
        let Some(glyph) = font8x8::BASIC_FONTS.get(ch).or_else(|| font8x8::LATIN_FONTS.get(ch)) else { continue };
        for (gy, bits) in glyph.iter().enumerate() {
            for gx in 0..8u32 {
                let (px, py) = (x + col as u32 * 8 + gx, y + gy as u32);
                if bits & (1 << gx) != 0 && px < sheet.width() && py < sheet.height() {
                    sheet.put_pixel(px, py, INK);
                }
            }
        }
    }
}

fn face_lines(f: &FaceFigures) -> [String; 5] {
    [
        format!("identity {:+.2} -> {:+.2}", f.identity_before, f.identity_after),
        format!("eyes  {:.3} -> {:.3}", f.eyes_before, f.eyes_after),
        format!("mouth {:.3} -> {:.3}", f.mouth_before, f.mouth_after),
        format!("drift {:.1}%", f.drift * 100.0),
        f.seam.map_or_else(String::new, |s| format!("seam {s:.1}")),
    ]
}

/// A square crop around `bbox` (1.5 times its size), scaled to `side`.
fn face_crop(picture: &RgbImage, bbox: [f32; 4], side: u32) -> RgbImage {
    let size = (bbox[2] - bbox[0]).max(bbox[3] - bbox[1]) * 1.5;
    let (cx, cy) = ((bbox[0] + bbox[2]) / 2.0, (bbox[1] + bbox[3]) / 2.0);
    let x0 = (cx - size / 2.0).clamp(0.0, picture.width() as f32 - 1.0) as u32;
    let y0 = (cy - size / 2.0).clamp(0.0, picture.height() as f32 - 1.0) as u32;
    let w = (size as u32).min(picture.width() - x0).max(1);
    let h = (size as u32).min(picture.height() - y0).max(1);
    let crop = image::imageops::crop_imm(picture, x0, y0, w, h).to_image();
    image::imageops::resize(&crop, side, side, FilterType::CatmullRom)
}

/// Each face of a picture: original, result, figures, one row a face.
pub fn picture_sheet(original: &RgbImage, result: &RgbImage, comparison: &PictureComparison) -> RgbImage {
    const SIDE: u32 = 192;
    const TEXT: u32 = 220;
    let header = 3 * LINE + 8;
    let rows = comparison.faces.len().max(1) as u32;
    let mut sheet = RgbImage::from_pixel(2 * SIDE + TEXT + 16, header + rows * (SIDE + 8), PAPER);
    write(&mut sheet, 4, 4, "original | result");
    write(
        &mut sheet,
        4,
        4 + LINE,
        &format!(
            "mean: identity {:.2}, |eye change| {:.3}, |mouth change| {:.3}, seam {}",
            comparison.mean_identity_after,
            comparison.mean_eye_change,
            comparison.mean_mouth_change,
            comparison.mean_seam.map_or_else(|| "-".to_string(), |s| format!("{s:.1}"))
        ),
    );
    for (row, face) in comparison.faces.iter().enumerate() {
        let top = header + row as u32 * (SIDE + 8);
        image::imageops::replace(&mut sheet, &face_crop(original, face.bbox, SIDE), 4, i64::from(top));
        image::imageops::replace(&mut sheet, &face_crop(result, face.bbox, SIDE), i64::from(SIDE + 8), i64::from(top));
        write(&mut sheet, 2 * SIDE + 14, top + 4, &format!("face {row}"));
        for (n, line) in face_lines(face).iter().enumerate() {
            write(&mut sheet, 2 * SIDE + 14, top + 4 + (n as u32 + 1) * LINE, line);
        }
    }
    sheet
}

/// `count` of the sampled frames: originals above, results below, each with its figures.
///
/// # Errors
/// When a video cannot be read again.
pub fn video_sheet(original: &Path, result: &Path, comparison: &VideoComparison, count: usize) -> Result<RgbImage> {
    const WIDTH: u32 = 240;
    let picks: Vec<u64> = if comparison.frames.is_empty() {
        Vec::new()
    } else {
        let n = count.clamp(1, comparison.frames.len());
        (0..n).map(|i| comparison.frames[i * comparison.frames.len() / n].frame).collect()
    };
    let limits = PictureLimits::default();
    let mut before = VideoFileSource::open(original, None, false, limits)?;
    let mut after = VideoFileSource::open(result, None, false, limits)?;
    let info = before.info();
    let height = (WIDTH as f32 * info.height as f32 / info.width.max(1) as f32).round() as u32;
    let header = 2 * LINE + 8;
    let text = 6 * LINE + 4;
    let columns = picks.len().max(1) as u32;
    let mut sheet = RgbImage::from_pixel(columns * (WIDTH + 8) + 8, header + 2 * height + 12 + text, PAPER);
    write(
        &mut sheet,
        4,
        4,
        &format!(
            "eye corr {:.2}  mouth corr {:.2}  identity {:.2} -> {:.2}  flicker {:.2}   (original above, result below)",
            comparison.eye_correlation,
            comparison.mouth_correlation,
            comparison.mean_identity_before,
            comparison.mean_identity_after,
            comparison.flicker
        ),
    );
    let mut index = 0u64;
    let mut column = 0u32;
    while column < picks.len() as u32 {
        let (Some(b), Some(a)) = (before.next_frame(None)?, after.next_frame(None)?) else { break };
        if index == picks[column as usize] {
            let left = 8 + column * (WIDTH + 8);
            let small = |f: &RgbImage| image::imageops::resize(f, WIDTH, height, FilterType::Triangle);
            image::imageops::replace(&mut sheet, &small(&b.image), i64::from(left), i64::from(header));
            image::imageops::replace(&mut sheet, &small(&a.image), i64::from(left), i64::from(header + height + 4));
            if let Some(figures) = comparison.frames.iter().find(|f| f.frame == index) {
                let top = header + 2 * height + 10;
                write(&mut sheet, left, top, &format!("frame {index}"));
                for (n, line) in face_lines(&figures.face).iter().enumerate() {
                    write(&mut sheet, left, top + (n as u32 + 1) * LINE, line);
                }
            }
            column += 1;
        }
        index += 1;
    }
    Ok(sheet)
}
