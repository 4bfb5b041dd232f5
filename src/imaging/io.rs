//! Reading photos (any format `image` decodes, EXIF orientation applied) and writing results
//! atomically: a picture appears under its final name complete, or not at all.

use std::{
    io::BufWriter,
    path::{Path, PathBuf},
};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

use super::ImageError;

/// Whether an existing file may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveMode {
    RefuseExisting,
    Overwrite,
}

/// Reads the picture at `path` as 8-bit RGB, turned upright by its EXIF orientation.
///
/// # Errors
/// [`ImageError::Read`] naming the file and the reason (missing, unreadable, not a picture).
pub fn load_rgb(path: &Path) -> Result<RgbImage, ImageError> {
    let read_error = |reason: String| ImageError::Read { path: path.to_path_buf(), reason };
    let reader = ImageReader::open(path)
        .map_err(|e| read_error(e.to_string()))?
        .with_guessed_format()
        .map_err(|e| read_error(e.to_string()))?;
    let mut decoder = reader.into_decoder().map_err(|e| read_error(e.to_string()))?;
    let orientation = decoder.orientation().map_err(|e| read_error(e.to_string()))?;
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|e| read_error(e.to_string()))?;
    picture.apply_orientation(orientation);
    Ok(picture.into_rgb8())
}

/// Writes `picture` to `path` in the format its extension names, through a temporary file in
/// the same folder that is renamed into place only once complete.
///
/// # Errors
/// [`ImageError::Exists`] when the file exists and `mode` refuses it, [`ImageError::Write`] for
/// an unknown extension, a missing or unwritable folder, or a full disk.
pub fn save_rgb(picture: &RgbImage, path: &Path, mode: SaveMode) -> Result<(), ImageError> {
    let write_error = |reason: String| ImageError::Write { path: path.to_path_buf(), reason };
    let format = ImageFormat::from_path(path)
        .map_err(|_| write_error("unknown picture format: use an extension such as .png or .jpg".to_string()))?;
    if mode == SaveMode::RefuseExisting && path.exists() {
        return Err(ImageError::Exists { path: path.to_path_buf() });
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("tmp");
    let mut temp = tempfile::Builder::new()
        .prefix(".faceswap-")
        .suffix(&format!(".{extension}"))
        .tempfile_in(&folder)
        .map_err(|e| write_error(format!("cannot create a file in {}: {e}", folder.display())))?;
    {
        let mut writer = BufWriter::new(temp.as_file_mut());
        picture.write_to(&mut writer, format).map_err(|e| write_error(e.to_string()))?;
        std::io::Write::flush(&mut writer).map_err(|e| write_error(e.to_string()))?;
    }
    temp.as_file().sync_all().map_err(|e| write_error(e.to_string()))?;
    match mode {
        SaveMode::Overwrite => temp.persist(path).map(drop).map_err(|e| write_error(e.error.to_string())),
        // No-clobber rename: a file created meanwhile is not replaced either.
        SaveMode::RefuseExisting => temp.persist_noclobber(path).map(drop).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                ImageError::Exists { path: path.to_path_buf() }
            } else {
                write_error(e.error.to_string())
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_refuses_existing_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.png");
        std::fs::write(&path, b"precious").unwrap();
        let err = save_rgb(&RgbImage::new(2, 2), &path, SaveMode::RefuseExisting).unwrap_err();
        assert!(matches!(err, ImageError::Exists { .. }));
        assert_eq!(std::fs::read(&path).unwrap(), b"precious");
        save_rgb(&RgbImage::new(2, 2), &path, SaveMode::Overwrite).unwrap();
        assert_eq!(load_rgb(&path).unwrap().dimensions(), (2, 2));
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn unreadable_picture_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not-a-picture.jpg");
        std::fs::write(&path, b"hello").unwrap();
        let err = load_rgb(&path).unwrap_err().to_string();
        assert!(err.contains("not-a-picture.jpg"), "{err}");
    }

    #[test]
    fn unknown_extension_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = save_rgb(&RgbImage::new(1, 1), &dir.path().join("out.xyz"), SaveMode::Overwrite).unwrap_err();
        assert!(err.to_string().contains("extension"), "{err}");
    }
}
