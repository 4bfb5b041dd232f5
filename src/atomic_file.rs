//! Every file faceswap writes for the user (pictures, videos, models, stats) appears under its
//! final name complete, or not at all: it is written as a hidden `.NAME.PID-XXXX.partial.EXT`
//! beside the target, synced, and renamed into place. The result gets the mode a plain file
//! would get under the user's umask (or the mode of the file it replaces), not the temporary
//! file's 0600. Partials left by a killed run are found by their dead process id and removed.

use std::{
    fs::{File, Permissions},
    io,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
};

use tempfile::TempPath;

impl CommitError {
    /// The final name the file was to have.
    pub fn path(&self) -> &Path {
        match self {
            Self::Exists { path } | Self::NotAFile { path, .. } | Self::Io { path, .. } => path,
        }
    }
}

/// A file being written under a temporary name.
pub struct AtomicFile {
    temp: TempPath,
    file: Option<File>,
    path: PathBuf,
}

/// Why a finished file could not be put in place.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("{path} appeared meanwhile")]
    Exists { path: PathBuf },
    #[error("{path} is {what} now, not a regular file")]
    NotAFile { path: PathBuf, what: NotAFile },
    #[error("cannot put {path} in place")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn folder_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// The longest file name the filesystems we write on take (Linux's NAME_MAX).
pub const NAME_MAX: usize = 255;

/// The `(prefix, suffix)` of `path`'s partial files; a partial's name is prefix, PID, `-`,
/// random letters, suffix. The stem is shortened (at a character) so that a partial of a name
/// near [`NAME_MAX`] still fits.
fn partial_name(path: &Path) -> (String, String) {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("output");
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() && extension.len() <= 16 => (stem, format!(".{extension}")),
        _ => (name, String::new()),
    };
    // Dots, the PID (10), '-', six random letters and ".partial".
    let room = NAME_MAX.saturating_sub(2 + 10 + 1 + 6 + ".partial".len() + extension.len());
    let mut end = stem.len().min(room);
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    (format!(".{}.", &stem[..end]), format!(".partial{extension}"))
}

impl AtomicFile {
    /// A new hidden partial file beside `path`.
    ///
    /// # Errors
    /// When the folder is missing or not writable.
    pub fn create(path: &Path) -> io::Result<Self> {
        let (prefix, suffix) = partial_name(path);
        let named = tempfile::Builder::new()
            .prefix(&format!("{prefix}{}-", std::process::id()))
            .suffix(&suffix)
            .tempfile_in(folder_of(path))?;
        let (file, temp) = named.into_parts();
        Ok(Self { temp, file: Some(file), path: path.to_path_buf() })
    }

    /// The open file, for writers that write through it.
    pub fn file_mut(&mut self) -> Option<&mut File> {
        self.file.as_mut()
    }

    /// Where the file is being written, for writers that open it by name.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// The final name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Syncs the file and renames it into place: over an existing file only when `replace`
    /// (keeping that file's mode), else never over one that appeared meanwhile.
    ///
    /// # Errors
    /// [`CommitError`]; the partial file is removed then.
    pub fn commit(mut self, replace: bool) -> Result<PathBuf, CommitError> {
        let path = self.path.clone();
        if let Some(what) = not_a_file(&path) {
            // What appeared there meanwhile is kept: a rename would replace a link or a device.
            return Err(CommitError::NotAFile { path, what });
        }
        let io_error = |source| CommitError::Io { path: path.clone(), source };
        let file = match self.file.take() {
            Some(file) => file,
            None => File::options().append(true).open(&self.temp).map_err(io_error)?,
        };
        file.sync_all().map_err(io_error)?;
        let mode =
            std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o7777).unwrap_or_else(|_| plain_file_mode());
        file.set_permissions(Permissions::from_mode(mode)).map_err(io_error)?;
        drop(file);
        let outcome = if replace { self.temp.persist(&path) } else { self.temp.persist_noclobber(&path) };
        match outcome {
            Ok(()) => Ok(path),
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Err(CommitError::Exists { path }),
            Err(e) => Err(CommitError::Io { path, source: e.error }),
        }
    }
}

/// Why a path cannot take an output file.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{path} is a folder: name a file")]
    IsFolder { path: PathBuf },
    #[error("the folder of {path} does not exist")]
    NoFolder { path: PathBuf },
    #[error("{path} is not a regular file ({what}): name a file")]
    NotAFile { path: PathBuf, what: NotAFile },
    #[error("{path} already exists")]
    Exists { path: PathBuf },
    #[error("{path} is one of this command's inputs")]
    IsAnInput { path: PathBuf },
    #[error("the name of {path} is {bytes} bytes long, over the {NAME_MAX} a file name may have")]
    NameTooLong { path: PathBuf, bytes: usize },
    #[error("cannot write in the folder of {path}")]
    NotWritable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// What an existing path is when it is not a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAFile {
    Folder,
    /// Not followed: renaming over a link would replace the link, so it is refused as it is.
    SymbolicLink,
    Pipe,
    Device,
    Socket,
}

impl std::fmt::Display for NotAFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Folder => "a folder",
            Self::SymbolicLink => "a symbolic link",
            Self::Pipe => "a pipe",
            Self::Device => "a device",
            Self::Socket => "a socket",
        })
    }
}

/// What is at `path` when something other than a regular file is: `None` for a regular file
/// or nothing at all.
pub fn not_a_file(path: &Path) -> Option<NotAFile> {
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::symlink_metadata(path).ok()?.file_type();
    if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some(NotAFile::Folder)
    } else if kind.is_symlink() {
        Some(NotAFile::SymbolicLink)
    } else if kind.is_fifo() {
        Some(NotAFile::Pipe)
    } else if kind.is_socket() {
        Some(NotAFile::Socket)
    } else {
        Some(NotAFile::Device)
    }
}

/// Where `path` is or would be: the file itself resolved through links when it exists, else its
/// resolved folder joined with its name (so that two names for one file not written yet, such
/// as an output and a report, compare equal).
pub fn resolved(path: &Path) -> Option<PathBuf> {
    path.canonicalize().ok().or_else(|| Some(folder_of(path).canonicalize().ok()?.join(path.file_name()?)))
}

/// Checks, before any work, that `path` can take an output file: a name that fits, in a folder
/// that exists; no folder, link, device or pipe there; none of `inputs`; and nothing there at
/// all unless `replace`.
///
/// # Errors
/// [`TargetError`].
pub fn check_target(path: &Path, replace: bool, inputs: &[&Path]) -> Result<(), TargetError> {
    let owned = || path.to_path_buf();
    match not_a_file(path) {
        Some(NotAFile::Folder) => return Err(TargetError::IsFolder { path: owned() }),
        Some(what) => return Err(TargetError::NotAFile { path: owned(), what }),
        None => {}
    }
    let bytes = path.file_name().map_or(0, |n| n.len());
    if bytes > NAME_MAX {
        return Err(TargetError::NameTooLong { path: owned(), bytes });
    }
    if path.file_name().is_none() || !folder_of(path).is_dir() {
        return Err(TargetError::NoFolder { path: owned() });
    }
    if let Some(target) = resolved(path) {
        if inputs.iter().any(|input| resolved(input).is_some_and(|i| i == target)) {
            return Err(TargetError::IsAnInput { path: owned() });
        }
    }
    if !replace && std::fs::symlink_metadata(path).is_ok() {
        return Err(TargetError::Exists { path: owned() });
    }
    // Found now, not after the work: a read-only folder, or one on a full disk.
    tempfile::Builder::new()
        .prefix(".faceswap-check-")
        .tempfile_in(folder_of(path))
        .map_err(|source| TargetError::NotWritable { path: owned(), source })?;
    Ok(())
}

/// Why [`write_whole`] wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("cannot write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Commit(#[from] CommitError),
}

/// Writes `bytes` to `path` whole, through a partial renamed into place: after the checks of
/// [`check_target`] (without inputs: the caller checked those before its work), and over an
/// existing file only when `replace`.
///
/// # Errors
/// [`WriteError`]; nothing is left behind then.
pub fn write_whole(path: &Path, bytes: &[u8], replace: bool) -> Result<(), WriteError> {
    use std::io::Write;
    check_target(path, replace, &[])?;
    let io_error = |source| WriteError::Io { path: path.to_path_buf(), source };
    let mut file = AtomicFile::create(path).map_err(io_error)?;
    if let Some(out) = file.file_mut() {
        out.write_all(bytes).map_err(io_error)?;
    }
    file.commit(replace)?;
    Ok(())
}

/// The mode a new plain file gets: 0666 less the process's umask (read from /proc; 022 where
/// it cannot be read).
pub fn plain_file_mode() -> u32 {
    let umask = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Umask:").map(|v| v.trim().to_string())))
        .and_then(|v| u32::from_str_radix(&v, 8).ok())
        .unwrap_or(0o022);
    0o666 & !umask
}

/// Removes the partial files of `path` whose writing process is gone (a killed run); returns
/// them. A partial of a process still running is left alone.
pub fn remove_stale_partials(path: &Path) -> Vec<PathBuf> {
    let (prefix, suffix) = partial_name(path);
    let Ok(entries) = std::fs::read_dir(folder_of(path)) else { return Vec::new() };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(pid) = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(&suffix))
            .and_then(|middle| middle.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let stale = entry.path();
        if std::fs::remove_file(&stale).is_ok() {
            tracing::warn!(file = %stale.display(), "removed a partial output left by an interrupted run");
            removed.push(stale);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn commit_gives_the_umask_mode_and_keeps_a_replaced_files_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.png");
        let mut file = AtomicFile::create(&path).unwrap();
        file.file_mut().unwrap().write_all(b"one").unwrap();
        file.commit(false).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, plain_file_mode(), "{mode:o}");
        std::fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        let mut again = AtomicFile::create(&path).unwrap();
        again.file_mut().unwrap().write_all(b"two").unwrap();
        assert!(matches!(AtomicFile::create(&path).unwrap().commit(false), Err(CommitError::Exists { .. })));
        again.commit(true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no partial left");
    }

    #[test]
    fn partials_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clip.mp4");
        // A PID above Linux's maximum is never a running process; ours is alive.
        let dead = dir.path().join(".clip.999999999-abc.partial.mp4");
        let alive = dir.path().join(format!(".clip.{}-def.partial.mp4", std::process::id()));
        let other = dir.path().join(".other.1-abc.partial.mp4");
        for p in [&dead, &alive, &other] {
            std::fs::write(p, b"x").unwrap();
        }
        assert_eq!(remove_stale_partials(&path), vec![dead.clone()]);
        assert!(!dead.exists() && alive.exists() && other.exists());
    }
}
