//! Picture files: read (size checked before memory is spent, see [`decode_rgb`]) and written
//! atomically: a picture appears under its final name complete, or not at all.

use std::path::Path;

use image::{ImageFormat, RgbImage};

use super::{decode_picture, encode_rgb, ImageError, Picture, PictureFormat, PictureLimits};
use crate::{
    atomic_file::{CommitError, TargetError, WriteError},
    bounded_read::{read_at_most, BoundedReadError},
};

/// Whether an existing file may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveMode {
    RefuseExisting,
    Overwrite,
}

impl SaveMode {
    /// The mode an `--overwrite` flag asks for.
    pub fn from_overwrite(overwrite: bool) -> Self {
        if overwrite {
            Self::Overwrite
        } else {
            Self::RefuseExisting
        }
    }
}

/// Reads the picture at `path` as 8-bit RGB within the default limits.
///
/// # Errors
/// See [`load_rgb_within`].
pub fn load_rgb(path: &Path) -> Result<RgbImage, ImageError> {
    load_rgb_within(path, PictureLimits::default())
}

/// Reads the picture at `path` as 8-bit RGB, turned upright by its EXIF orientation.
///
/// # Errors
/// See [`load_picture_within`].
pub fn load_rgb_within(path: &Path, limits: PictureLimits) -> Result<RgbImage, ImageError> {
    load_picture_within(path, limits).map(|p| p.rgb)
}

/// Reads the picture at `path`, turned upright by its EXIF orientation, with its alpha.
///
/// # Errors
/// [`ImageError::Missing`], [`ImageError::Unreadable`], [`ImageError::FileTooLarge`] (checked
/// before reading), and every error of [`decode_picture`], each naming the file.
pub fn load_picture_within(path: &Path, limits: PictureLimits) -> Result<Picture, ImageError> {
    let what = path.display().to_string();
    let limit = limits.max_encoded_bytes();
    let bytes = read_at_most(path, limit).map_err(|e| match e {
        BoundedReadError::Io(source) if source.kind() == std::io::ErrorKind::NotFound => {
            ImageError::Missing { what: what.clone() }
        }
        BoundedReadError::Io(source) => ImageError::Unreadable { what: what.clone(), source },
        BoundedReadError::TooLarge { bytes, limit } => ImageError::FileTooLarge { what: what.clone(), bytes, limit },
    })?;
    decode_picture(&bytes, &what, limits)
}

/// Whether `path` names a picture by its extension (what `live` and `compare` take as a still
/// rather than a video).
pub fn is_picture_path(path: &Path) -> bool {
    ImageFormat::from_path(path).is_ok()
}

/// The format a file name asks for (`.png`, `.jpg`, `.jpeg`).
///
/// # Errors
/// [`ImageError::Write`] for any other extension.
pub fn format_for_path(path: &Path) -> Result<PictureFormat, ImageError> {
    match ImageFormat::from_path(path) {
        Ok(ImageFormat::Png) => Ok(PictureFormat::Png),
        Ok(ImageFormat::Jpeg) => Ok(PictureFormat::Jpeg),
        _ => Err(ImageError::UnknownExtension { path: path.to_path_buf() }),
    }
}

/// Refuses an output that would lose the user's files: one of the `inputs`, or an existing file
/// that `mode` does not allow replacing; and an extension that names no picture format.
///
/// # Errors
/// [`ImageError::OutputIsInput`], [`ImageError::Exists`] or [`ImageError::Write`].
pub fn check_output(output: &Path, inputs: &[&Path], mode: SaveMode) -> Result<PictureFormat, ImageError> {
    let format = format_for_path(output)?;
    crate::atomic_file::check_target(output, mode == SaveMode::Overwrite, inputs).map_err(target_error)?;
    Ok(format)
}

fn target_error(e: TargetError) -> ImageError {
    match e {
        TargetError::IsAnInput { path } => ImageError::OutputIsInput { path },
        TargetError::Exists { path } => ImageError::Exists { path },
        other => ImageError::Target(other),
    }
}

/// Writes `picture` to `path` in the format its extension names.
///
/// # Errors
/// See [`write_atomically`]; [`ImageError::Write`] for an unknown extension.
pub fn save_rgb(picture: &RgbImage, path: &Path, mode: SaveMode) -> Result<(), ImageError> {
    let format = format_for_path(path)?;
    if mode == SaveMode::RefuseExisting && path.exists() {
        return Err(ImageError::Exists { path: path.to_path_buf() });
    }
    write_atomically(path, &encode_rgb(picture, format)?, mode)
}

/// Writes `bytes` to `path` through a hidden temporary file in the same folder, synced and then
/// renamed into place: readers see the old file or the whole new one, never a part.
///
/// # Errors
/// [`ImageError::Exists`] when the file exists and `mode` refuses it (a file created meanwhile
/// included), [`ImageError::Target`] for a path that cannot take it, [`ImageError::Write`] for
/// a failed write.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: SaveMode) -> Result<(), ImageError> {
    crate::atomic_file::write_whole(path, bytes, mode == SaveMode::Overwrite).map_err(|e| match e {
        WriteError::Target(e) => target_error(e),
        WriteError::Commit(CommitError::Exists { path }) => ImageError::Exists { path },
        other => ImageError::Write { path: path.to_path_buf(), source: other },
    })
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
        let missing = load_rgb(&dir.path().join("gone.png")).unwrap_err();
        assert!(matches!(missing, ImageError::Missing { .. }), "{missing}");
    }

    #[test]
    fn unknown_extension_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = save_rgb(&RgbImage::new(1, 1), &dir.path().join("out.xyz"), SaveMode::Overwrite).unwrap_err();
        assert!(err.to_string().contains("extension"), "{err}");
    }
}
