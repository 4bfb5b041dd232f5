//! Property tests for the entry points hostile files reach first: pictures (any bytes, every
//! truncation of real ones), the model manifest, the emap reader, container names. None may
//! panic; each answers with its typed error.

use proptest::prelude::*;

use faceswap::{
    imaging::{decode_rgb, encode_rgb, ImageError, PictureFormat, PictureLimits},
    models::Manifest,
    swap::read_last_initializer,
    transcode::container_for,
};

fn small_picture(format: PictureFormat) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(24, 16, |x, y| image::Rgb([(x * 10) as u8, (y * 15) as u8, 77]));
    encode_rgb(&picture, format).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_decode_to_a_picture_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = decode_rgb(&bytes, "fuzz", PictureLimits::default());
    }

    #[test]
    fn a_picture_cut_anywhere_is_refused_never_half_decoded(cut in 0usize..10_000, png in any::<bool>()) {
        let format = if png { PictureFormat::Png } else { PictureFormat::Jpeg };
        let bytes = small_picture(format);
        let cut = cut % bytes.len();
        let outcome = decode_rgb(&bytes[..cut], "cut", PictureLimits::default());
        prop_assert!(outcome.is_err(), "a picture cut at {} of {} bytes was accepted", cut, bytes.len());
    }

    #[test]
    fn a_picture_with_a_byte_changed_decodes_or_errs(at in 0usize..10_000, value in any::<u8>(), png in any::<bool>()) {
        let format = if png { PictureFormat::Png } else { PictureFormat::Jpeg };
        let mut bytes = small_picture(format);
        let at = at % bytes.len();
        bytes[at] = value;
        match decode_rgb(&bytes, "changed", PictureLimits::default()) {
            Ok(picture) => prop_assert!(u64::from(picture.width()) * u64::from(picture.height()) <= 40_000_000),
            Err(ImageError::Format { .. } | ImageError::Truncated { .. } | ImageError::Damaged { .. } | ImageError::TooLarge { .. }) => {}
            Err(other) => prop_assert!(false, "unexpected error {}", other),
        }
    }

    #[test]
    fn any_manifest_text_parses_or_errs(text in ".{0,400}") {
        let _ = Manifest::parse(&text);
    }

    #[test]
    fn any_file_reads_an_initializer_or_errs(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.onnx");
        std::fs::write(&path, &bytes).unwrap();
        let _ = read_last_initializer(&path);
    }

    #[test]
    fn any_output_name_has_a_container_or_a_clear_error(name in "[a-zA-Z0-9._ -]{0,24}") {
        if let Err(e) = container_for(std::path::Path::new(&name)) {
            prop_assert!(e.to_string().contains(".mp4"));
        }
    }
}
