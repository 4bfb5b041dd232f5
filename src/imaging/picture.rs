//! Pictures in memory: decoded from bytes (a file's or an upload's) with their size checked from
//! the header before any pixel memory is spent, truncation refused, EXIF orientation applied; and
//! encoded to bytes as PNG or JPEG.

use std::io::Cursor;

use image::{
    codecs::{jpeg::JpegEncoder, png::PngEncoder},
    DynamicImage, GrayImage, ImageDecoder, ImageEncoder, ImageFormat, ImageReader, RgbImage,
};
use serde::{Deserialize, Serialize};

use super::{ImageError, PictureCause};

/// The most pixels a picture may have unless configured otherwise: 40 megapixels holds an
/// 8K UHD frame (33 MP) and every phone photo, and keeps one decoded picture under 160 MB.
pub const DEFAULT_MAX_PIXELS: u64 = 40_000_000;

/// How large a picture may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PictureLimits {
    /// Width × height, checked from the header before decoding.
    pub max_pixels: u64,
}

impl Default for PictureLimits {
    fn default() -> Self {
        Self { max_pixels: DEFAULT_MAX_PIXELS }
    }
}

impl PictureLimits {
    /// The most bytes an encoded picture within these limits can reasonably take: four bytes
    /// a pixel (more than any PNG or JPEG of real content) and a megabyte of metadata.
    pub fn max_encoded_bytes(&self) -> u64 {
        self.max_pixels.saturating_mul(4).saturating_add(1 << 20)
    }
}

/// The formats results are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PictureFormat {
    #[default]
    Png,
    Jpeg,
}

impl PictureFormat {
    /// The media type (`image/png`).
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
        }
    }
}

impl std::str::FromStr for PictureFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "png" => Ok(Self::Png),
            "jpeg" | "jpg" => Ok(Self::Jpeg),
            other => Err(format!("unknown picture format {other:?}: use png or jpeg")),
        }
    }
}

/// A decoded picture: the 8-bit RGB the engine works on, and what RGB leaves out.
#[derive(Debug, Clone)]
pub struct Picture {
    pub rgb: RgbImage,
    /// The alpha channel (8-bit), when the picture has one.
    pub alpha: Option<GrayImage>,
    /// It had more than 8 bits a channel (the result is 8-bit).
    pub deep: bool,
}

/// Decodes `bytes` as 8-bit RGB, turned upright by its EXIF orientation; `what` names the
/// picture in errors.
///
/// # Errors
/// See [`decode_picture`].
pub fn decode_rgb(bytes: &[u8], what: &str, limits: PictureLimits) -> Result<RgbImage, ImageError> {
    decode_picture(bytes, what, limits).map(|p| p.rgb)
}

/// Decodes `bytes` as a [`Picture`], turned upright by its EXIF orientation, keeping its alpha
/// channel; `what` names the picture in errors.
///
/// # Errors
/// [`ImageError::Format`] for data that is not a PNG or JPEG, [`ImageError::TooLarge`] when the
/// header claims more than `limits` allow (nothing is decoded then), [`ImageError::Truncated`]
/// when the data ends early, [`ImageError::Damaged`] when the decoder fails.
pub fn decode_picture(bytes: &[u8], what: &str, limits: PictureLimits) -> Result<Picture, ImageError> {
    let format_error = |source: PictureCause| ImageError::Format { what: what.to_string(), source };
    let reader = || -> Result<ImageReader<Cursor<&[u8]>>, ImageError> {
        ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| format_error(e.into()))
    };
    let format = reader()?.format().ok_or_else(|| format_error("its data is no picture format known".into()))?;
    if !matches!(format, ImageFormat::Png | ImageFormat::Jpeg) {
        return Err(format_error(format!("it is {format:?}").into()));
    }
    // The header alone: no pixel memory is spent before the size is known to be acceptable.
    let mut probe = reader()?;
    probe.no_limits();
    let (width, height) = probe.into_dimensions().map_err(|e| damaged_or_format(what, e))?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(ImageError::TooLarge { what: what.to_string(), width, height, pixels, limit: limits.max_pixels });
    }
    if pixels == 0 {
        return Err(ImageError::Damaged { what: what.to_string(), source: "it has no pixels".into() });
    }
    let complete = match format {
        ImageFormat::Png => png_is_complete(bytes),
        _ => jpeg_is_complete(bytes),
    };
    if !complete {
        let format = if format == ImageFormat::Png { "PNG" } else { "JPEG" };
        return Err(ImageError::Truncated { what: what.to_string(), format });
    }
    let mut reader = reader()?;
    let mut image_limits = image::Limits::default();
    // RGBA at 16 bits a channel is the widest decode buffer; a conversion may need a second one.
    image_limits.max_alloc = Some(pixels.saturating_mul(8 * 2).saturating_add(1 << 20));
    reader.limits(image_limits);
    let mut decoder = reader.into_decoder().map_err(|e| damaged_or_format(what, e))?;
    let orientation = decoder.orientation().map_err(|e| damaged_or_format(what, e))?;
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|e| damaged_or_format(what, e))?;
    picture.apply_orientation(orientation);
    let color = picture.color();
    // Said by whoever writes the result (once, for the picture that is written), not here:
    // the same file read as a source and a target would say it twice.
    let deep = u16::from(color.bytes_per_pixel()) > u16::from(color.channel_count());
    let alpha = color.has_alpha().then(|| {
        let rgba = picture.to_rgba8();
        GrayImage::from_fn(rgba.width(), rgba.height(), |x, y| image::Luma([rgba.get_pixel(x, y)[3]]))
    });
    Ok(Picture { rgb: picture.into_rgb8(), alpha, deep })
}

fn damaged_or_format(what: &str, error: image::ImageError) -> ImageError {
    match error {
        unsupported @ image::ImageError::Unsupported(_) => {
            ImageError::Format { what: what.to_string(), source: unsupported.into() }
        }
        other => ImageError::Damaged { what: what.to_string(), source: other.into() },
    }
}

/// Whether the PNG chunk chain reaches its IEND chunk.
fn png_is_complete(bytes: &[u8]) -> bool {
    let mut at = 8usize;
    while let Some(header) = bytes.get(at..at + 8) {
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if &header[4..8] == b"IEND" {
            // Whole, its CRC included.
            return bytes.len() >= at + 12;
        }
        at = match at.checked_add(12).and_then(|a| a.checked_add(length)) {
            Some(next) => next,
            None => return false,
        };
    }
    false
}

/// Whether a JPEG has its end-of-image marker after the start of its first scan. Inside the
/// entropy-coded data a 0xFF byte is always followed by 0x00 or a restart marker, so an FF D9
/// after the first scan starts is the real end, not a thumbnail's.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut at = 2usize; // after SOI
    loop {
        // Markers may be preceded by fill bytes (0xFF).
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return false;
        };
        match marker {
            0xD9 => return false, // an end before any scan
            0xD0..=0xD7 | 0x01 => at += 2,
            _ => {
                let Some(len) = bytes.get(at + 2..at + 4).map(|l| usize::from(u16::from_be_bytes([l[0], l[1]]))) else {
                    return false;
                };
                if marker == 0xDA {
                    let scan = at + 2 + len;
                    return bytes.get(scan..).is_some_and(|rest| rest.windows(2).any(|w| w == [0xFF, 0xD9]));
                }
                at += 2 + len;
            }
        }
    }
}

/// Encodes `rgb` with its `alpha` channel as `format`: PNG keeps the alpha; JPEG has none, so
/// it is dropped, with a warning.
///
/// # Errors
/// [`ImageError::Encode`] when the encoder fails.
pub fn encode_with_alpha(
    rgb: &RgbImage,
    alpha: Option<&GrayImage>,
    format: PictureFormat,
) -> Result<Vec<u8>, ImageError> {
    let Some(alpha) = alpha.filter(|a| a.dimensions() == rgb.dimensions()) else {
        return encode_rgb(rgb, format);
    };
    if format == PictureFormat::Jpeg {
        tracing::warn!("JPEG has no alpha channel: the picture's transparency is dropped (PNG keeps it)");
        return encode_rgb(rgb, format);
    }
    let rgba = image::RgbaImage::from_fn(rgb.width(), rgb.height(), |x, y| {
        let [r, g, b] = rgb.get_pixel(x, y).0;
        image::Rgba([r, g, b, alpha.get_pixel(x, y)[0]])
    });
    let mut out = Vec::with_capacity(rgba.as_raw().len() / 3);
    PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    )
    .write_image(rgba.as_raw(), rgba.width(), rgba.height(), image::ExtendedColorType::Rgba8)
    .map_err(|source| ImageError::Encode { format: format.content_type(), source })?;
    Ok(out)
}

/// Encodes `picture` as `format` (PNG: fast compression; JPEG: quality 95, as OpenCV's default).
///
/// # Errors
/// [`ImageError::Encode`] when the encoder fails.
pub fn encode_rgb(picture: &RgbImage, format: PictureFormat) -> Result<Vec<u8>, ImageError> {
    let (width, height) = picture.dimensions();
    // A compressed picture is rarely over a third of its raw size; start there.
    let mut out = Vec::with_capacity(picture.as_raw().len() / 3);
    let result = match format {
        PictureFormat::Png => PngEncoder::new_with_quality(
            &mut out,
            image::codecs::png::CompressionType::Fast,
            image::codecs::png::FilterType::Adaptive,
        )
        .write_image(picture.as_raw(), width, height, image::ExtendedColorType::Rgb8),
        PictureFormat::Jpeg => JpegEncoder::new_with_quality(&mut out, 95).write_image(
            picture.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        ),
    };
    result.map_err(|source| ImageError::Encode { format: format.content_type(), source })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(format: PictureFormat) -> Vec<u8> {
        let picture = RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 128]));
        encode_rgb(&picture, format).unwrap()
    }

    #[test]
    fn round_trip_in_memory() {
        for format in [PictureFormat::Png, PictureFormat::Jpeg] {
            let decoded = decode_rgb(&sample(format), "sample", PictureLimits::default()).unwrap();
            assert_eq!(decoded.dimensions(), (64, 48));
        }
    }

    #[test]
    fn exif_orientation_is_applied_to_pictures_in_memory() {
        let jpeg = sample(PictureFormat::Jpeg);
        // An APP1 Exif segment saying "rotate 90° clockwise" (orientation 6), after the SOI.
        let tiff: [u8; 26] = [
            b'M', b'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF header, first IFD at 8
            0, 1, // one entry
            0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, // Orientation, SHORT, 1 value: 6
            0, 0, 0, 0, // no next IFD
        ];
        let mut app1 = vec![0xFF, 0xE1];
        app1.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
        app1.extend_from_slice(b"Exif\0\0");
        app1.extend_from_slice(&tiff);
        let rotated = [&jpeg[..2], &app1, &jpeg[2..]].concat();
        let upright = decode_rgb(&rotated, "phone photo", PictureLimits::default()).unwrap();
        assert_eq!(upright.dimensions(), (48, 64), "turned upright by its EXIF orientation");
    }

    #[test]
    fn alpha_is_kept_through_a_png_and_depth_is_reported() {
        let rgba = image::RgbaImage::from_fn(8, 6, |x, y| image::Rgba([x as u8 * 30, y as u8 * 40, 9, (x * 30) as u8]));
        let mut png = Vec::new();
        PngEncoder::new(&mut png).write_image(rgba.as_raw(), 8, 6, image::ExtendedColorType::Rgba8).unwrap();
        let picture = decode_picture(&png, "rgba", PictureLimits::default()).unwrap();
        let alpha = picture.alpha.clone().expect("alpha kept");
        assert_eq!(alpha.get_pixel(3, 0)[0], 90);
        let again = encode_with_alpha(&picture.rgb, Some(&alpha), PictureFormat::Png).unwrap();
        let back = image::load_from_memory(&again).unwrap().to_rgba8();
        assert_eq!(back, rgba, "the same pixels and transparency");

        let deep = image::ImageBuffer::<image::Rgb<u16>, _>::from_pixel(4, 4, image::Rgb([60_000u16, 10, 10]));
        let mut png16 = Vec::new();
        DynamicImage::ImageRgb16(deep).write_to(&mut Cursor::new(&mut png16), ImageFormat::Png).unwrap();
        assert!(decode_picture(&png16, "deep", PictureLimits::default()).unwrap().deep);
        assert!(!decode_picture(&png, "rgba", PictureLimits::default()).unwrap().deep);
    }

    #[test]
    fn truncated_pictures_are_refused() {
        for format in [PictureFormat::Png, PictureFormat::Jpeg] {
            let bytes = sample(format);
            let cut = &bytes[..bytes.len() * 4 / 10];
            let err = decode_rgb(cut, "cut", PictureLimits::default()).unwrap_err();
            assert!(matches!(err, ImageError::Truncated { .. } | ImageError::Damaged { .. }), "{format:?}: {err}");
        }
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn a_header_claiming_too_many_pixels_is_refused_before_decoding() {
        let mut bytes = sample(PictureFormat::Png);
        // IHDR width and height (bytes 16..24), with its CRC (bytes 29..33) made right again.
        bytes[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        let err = decode_rgb(&bytes, "bomb", PictureLimits::default()).unwrap_err();
        assert!(matches!(err, ImageError::TooLarge { width: 100_000, height: 100_000, .. }), "{err}");
    }

    #[test]
    fn not_a_picture_is_a_format_error() {
        let err = decode_rgb(b"hello, world", "notes", PictureLimits::default()).unwrap_err();
        assert!(matches!(err, ImageError::Format { .. }), "{err}");
        assert!(err.to_string().contains("notes"));
    }
}
