//! The output file of a transcode: checked before any work (never the input, never an existing
//! file unless replacing was asked), written under a hidden temporary name beside the target,
//! and renamed into place only when complete. A failed or abandoned run leaves nothing.

use std::path::{Path, PathBuf};

use super::TranscodeError;
use crate::atomic_file::{
    check_target, not_a_file, remove_stale_partials, AtomicFile, CommitError, NotAFile, TargetError,
};

/// An output being written.
pub struct PendingOutput {
    file: AtomicFile,
    overwrite: bool,
}

fn folder_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Refuses what would lose the user's files, before any work: an input that is not a
/// regular file, the input as output, an existing output, a path that cannot take a file.
///
/// # Errors
/// [`TranscodeError::InputMissing`], [`TranscodeError::InputNotAFile`],
/// [`TranscodeError::OutputIsInput`], [`TranscodeError::OutputExists`] or
/// [`TranscodeError::Target`].
pub fn check_paths(input: &Path, output: &Path, overwrite: bool) -> Result<(), TranscodeError> {
    let mut inputs = Vec::new();
    if !crate::video::is_url(input) {
        check_input(input)?;
        inputs.push(input);
    }
    check_target(output, overwrite, &inputs).map_err(|e| match e {
        TargetError::IsAnInput { path } => TranscodeError::OutputIsInput { path },
        TargetError::Exists { path } => TranscodeError::OutputExists { path },
        other => TranscodeError::Target(other),
    })
}

/// A video input is a regular file that is there (a device or a pipe never ends; a folder is
/// no video).
///
/// # Errors
/// [`TranscodeError::InputMissing`] or [`TranscodeError::InputNotAFile`].
pub fn check_input(input: &Path) -> Result<(), TranscodeError> {
    match std::fs::metadata(input) {
        Err(_) => Err(TranscodeError::InputMissing { path: input.to_path_buf() }),
        Ok(meta) if meta.is_file() => Ok(()),
        // Followed through links: a link to a video is a video.
        Ok(_) => Err(TranscodeError::InputNotAFile {
            path: input.to_path_buf(),
            what: std::fs::canonicalize(input).ok().and_then(|p| not_a_file(&p)).unwrap_or(NotAFile::Device),
        }),
    }
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
            e @ CommitError::NotAFile { .. } => {
                let path = e.path().to_path_buf();
                TranscodeError::Output { path, source: std::io::Error::other(e.to_string()) }
            }
        })
    }
}
