//! Reading a whole file with a ceiling: a device, a pipe or a file still growing says nothing
//! true in its size, so the ceiling is enforced on the bytes read, not on the metadata.

use std::{io::Read, path::Path};

/// Why a bounded read gave nothing.
#[derive(Debug, thiserror::Error)]
pub enum BoundedReadError {
    #[error("cannot read it")]
    Io(#[source] std::io::Error),
    /// `bytes` is what was seen: the file's size, or `limit + 1` for a stream cut off there.
    #[error("it is over the limit of {limit} bytes")]
    TooLarge { bytes: u64, limit: u64 },
}

/// The bytes of `path`, at most `limit` of them: a regular file over the limit is refused before
/// a byte is read, anything else after `limit + 1` bytes.
///
/// # Errors
/// [`BoundedReadError::Io`] when it cannot be opened or read, [`BoundedReadError::TooLarge`].
pub fn read_at_most(path: &Path, limit: u64) -> Result<Vec<u8>, BoundedReadError> {
    let file = std::fs::File::open(path).map_err(BoundedReadError::Io)?;
    let size = file.metadata().map_err(BoundedReadError::Io)?.len();
    if size > limit {
        return Err(BoundedReadError::TooLarge { bytes: size, limit });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(BoundedReadError::Io)?;
    let read = bytes.len() as u64;
    if read > limit {
        return Err(BoundedReadError::TooLarge { bytes: read, limit });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_that_never_ends_is_cut_off_at_the_limit() {
        let err = read_at_most(Path::new("/dev/zero"), 4096).unwrap_err();
        assert!(matches!(err, BoundedReadError::TooLarge { bytes: 4097, limit: 4096 }), "{err:?}");
    }

    #[test]
    fn a_file_within_the_limit_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_at_most(&path, 5).unwrap(), b"12345");
        assert!(matches!(read_at_most(&path, 4), Err(BoundedReadError::TooLarge { bytes: 5, limit: 4 })));
    }
}
