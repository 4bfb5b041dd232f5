//! The output file of a transcode: checked before any work (never the input, never an existing
//! file unless replacing was asked), written under a hidden temporary name beside the target,
//! and renamed into place only when complete. A failed or abandoned run leaves nothing.

use std::path::{Path, PathBuf};

use tempfile::TempPath;

use super::TranscodeError;

/// An output being written.
pub struct PendingOutput {
    temp: TempPath,
    path: PathBuf,
    overwrite: bool,
}

fn folder_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Refuses what would lose the user's files: the input as output, an existing output.
///
/// # Errors
/// [`TranscodeError::InputMissing`], [`TranscodeError::OutputFolder`],
/// [`TranscodeError::OutputIsInput`] or [`TranscodeError::OutputExists`].
pub fn check_paths(input: &Path, output: &Path, overwrite: bool) -> Result<(), TranscodeError> {
    if !input.is_file() {
        return Err(TranscodeError::InputMissing { path: input.to_path_buf() });
    }
    let folder = folder_of(output);
    let name = output.file_name().ok_or_else(|| TranscodeError::OutputFolder { path: output.to_path_buf() })?;
    let output_abs =
        folder.canonicalize().map_err(|_| TranscodeError::OutputFolder { path: folder.to_path_buf() })?.join(name);
    let input_abs = input.canonicalize().map_err(|_| TranscodeError::InputMissing { path: input.to_path_buf() })?;
    if output_abs == input_abs || output_abs.canonicalize().is_ok_and(|o| o == input_abs) {
        return Err(TranscodeError::OutputIsInput { path: output.to_path_buf() });
    }
    if output.exists() && !overwrite {
        return Err(TranscodeError::OutputExists { path: output.to_path_buf() });
    }
    Ok(())
}

impl PendingOutput {
    /// A hidden `.NAME.*.partial.EXT` beside `path`.
    ///
    /// # Errors
    /// [`TranscodeError::Output`] when the folder cannot be written.
    pub fn create(path: &Path, overwrite: bool) -> Result<Self, TranscodeError> {
        let folder = folder_of(path);
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("mp4");
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("output");
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{stem}."))
            .suffix(&format!(".partial.{extension}"))
            .tempfile_in(folder)
            .map_err(|source| TranscodeError::Output { path: folder.to_path_buf(), source })?
            .into_temp_path();
        Ok(Self { temp, path: path.to_path_buf(), overwrite })
    }

    /// Where the file is being written.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Renames the finished file into place (never over a file that appeared meanwhile,
    /// unless replacing was asked).
    ///
    /// # Errors
    /// [`TranscodeError::OutputExists`] or [`TranscodeError::Output`]; the temporary file is
    /// removed then.
    pub fn commit(self) -> Result<PathBuf, TranscodeError> {
        let outcome =
            if self.overwrite { self.temp.persist(&self.path) } else { self.temp.persist_noclobber(&self.path) };
        match outcome {
            Ok(()) => Ok(self.path),
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(TranscodeError::OutputExists { path: self.path })
            }
            Err(e) => Err(TranscodeError::Output { path: self.path, source: e.error }),
        }
    }
}
