//! The output file of a transcode: checked before any work (never the input, never an existing
//! file unless replacing was asked), written under a hidden temporary name beside the target,
//! and renamed into place only when complete. A failed or abandoned run leaves nothing.

use std::path::{Path, PathBuf};

use super::TranscodeError;
use crate::atomic_file::{remove_stale_partials, AtomicFile, CommitError};

/// An output being written.
pub struct PendingOutput {
    file: AtomicFile,
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
    if crate::video::is_url(input) {
        return check_output(output, overwrite);
    }
    if !input.is_file() {
        return Err(TranscodeError::InputMissing { path: input.to_path_buf() });
    }
    if output.is_dir() {
        return Err(TranscodeError::OutputIsFolder { path: output.to_path_buf() });
    }
    let folder = folder_of(output);
    let name = output.file_name().ok_or_else(|| TranscodeError::OutputFolder { path: output.to_path_buf() })?;
    let output_abs =
        folder.canonicalize().map_err(|_| TranscodeError::OutputFolder { path: folder.to_path_buf() })?.join(name);
    let input_abs = input.canonicalize().map_err(|_| TranscodeError::InputMissing { path: input.to_path_buf() })?;
    if output_abs == input_abs || output_abs.canonicalize().is_ok_and(|o| o == input_abs) {
        return Err(TranscodeError::OutputIsInput { path: output.to_path_buf() });
    }
    check_output(output, overwrite)
}

/// The output's own checks: a file name in a folder that exists, not there unless replacing.
fn check_output(output: &Path, overwrite: bool) -> Result<(), TranscodeError> {
    if output.is_dir() {
        return Err(TranscodeError::OutputIsFolder { path: output.to_path_buf() });
    }
    let folder = folder_of(output);
    if output.file_name().is_none() || !folder.is_dir() {
        return Err(TranscodeError::OutputFolder { path: folder.to_path_buf() });
    }
    if output.exists() && !overwrite {
        return Err(TranscodeError::OutputExists { path: output.to_path_buf() });
    }
    Ok(())
}

impl PendingOutput {
    /// A hidden partial file beside `path`; partials of the same output left by a killed run
    /// are removed first.
    ///
    /// # Errors
    /// [`TranscodeError::Output`] when the folder cannot be written.
    pub fn create(path: &Path, overwrite: bool) -> Result<Self, TranscodeError> {
        remove_stale_partials(path);
        let file = AtomicFile::create(path)
            .map_err(|source| TranscodeError::Output { path: folder_of(path).to_path_buf(), source })?;
        Ok(Self { file, overwrite })
    }

    /// Where the file is being written.
    pub fn temp_path(&self) -> &Path {
        self.file.temp_path()
    }

    /// The name it gets when finished.
    pub fn final_path(&self) -> &Path {
        self.file.path()
    }

    /// Renames the finished file into place (never over a file that appeared meanwhile,
    /// unless replacing was asked).
    ///
    /// # Errors
    /// [`TranscodeError::OutputExists`] or [`TranscodeError::Output`]; the temporary file is
    /// removed then.
    pub fn commit(self) -> Result<PathBuf, TranscodeError> {
        self.file.commit(self.overwrite).map_err(|e| match e {
            CommitError::Exists { path } => TranscodeError::OutputExists { path },
            CommitError::Io { path, source } => TranscodeError::Output { path, source },
        })
    }
}
