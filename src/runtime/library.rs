//! Finding and loading the ONNX Runtime shared library (`ort` with `load-dynamic`).
//!
//! `ort::init()` panics when no library is found, so faceswap looks for the file itself and loads
//! it with `ort::init_from`, turning every failure into a [`RuntimeError`].

use std::{
    path::{Path, PathBuf},
    sync::{Mutex, PoisonError},
};

use ort::environment::Environment;

use super::{OrtCause, RuntimeError};

/// Where scripts/setup.sh unpacks the library, relative to the working directory.
pub const DEFAULT_LIBRARY_DIR: &str = ".cache/onnxruntime";

/// ONNX Runtime allows one environment per process, ever (ort refuses a second even after the
/// first is dropped), so the loaded runtime is kept here and handed out again. This is the
/// only process-wide state in the library; sessions are never global.
static LOADED: Mutex<Option<OrtRuntime>> = Mutex::new(None);

/// A loaded ONNX Runtime: the environment every session is built in.
#[derive(Clone)]
pub struct OrtRuntime {
    environment: Environment,
    library: PathBuf,
    version: String,
}

impl std::fmt::Debug for OrtRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtRuntime").field("library", &self.library).field("version", &self.version).finish()
    }
}

impl OrtRuntime {
    /// Finds the library (see [`locate_library`]), loads it and creates the environment.
    ///
    /// # Errors
    /// [`RuntimeError::LibraryNotFound`] when no library file is found, and
    /// [`RuntimeError::LibraryLoad`] when the file does not load or is too old for `ort`.
    /// Loading again in the same process returns the runtime already loaded, unless it came
    /// from another file, which is an error.
    pub fn load(explicit: Option<&Path>) -> Result<Self, RuntimeError> {
        let library = locate_library(explicit, std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from))?;
        let mut loaded = LOADED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(runtime) = loaded.as_ref() {
            let canonical = |p: &Path| p.canonicalize().ok();
            if canonical(&runtime.library) != canonical(&library) {
                return Err(RuntimeError::OtherLibraryLoaded { path: library, loaded: runtime.library.clone() });
            }
            return Ok(runtime.clone());
        }
        // Loading a truncated library does not fail cleanly: the first call into a missing page
        // is a bus error. Its headers say how long it must be; check that first.
        check_shared_library(&library)
            .map_err(|problem| RuntimeError::LibraryDamaged { path: library.clone(), problem })?;
        let load_error = |source: OrtCause| RuntimeError::LibraryLoad { path: library.clone(), source };
        let builder = ort::init_from(&library).map_err(|e| load_error(e.into()))?;
        let environment = builder.with_name("faceswap").build().map_err(|e| load_error(e.into()))?;
        let version = version_of(&library);
        tracing::debug!(library = %library.display(), %version, "ONNX Runtime loaded");
        let runtime = Self { environment, library, version };
        *loaded = Some(runtime.clone());
        Ok(runtime)
    }

    /// The environment sessions are built in.
    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    /// The library file that was loaded.
    pub fn library(&self) -> &Path {
        &self.library
    }

    /// The ONNX Runtime version, e.g. `1.32.0`.
    pub fn version(&self) -> &str {
        &self.version
    }
}

/// Finds the ONNX Runtime library: `explicit` (`--ort-lib`), then `from_env` (`ORT_DYLIB_PATH`),
/// then [`DEFAULT_LIBRARY_DIR`] in the places [`crate::paths`] searches.
/// A folder is searched for `libonnxruntime.so*`.
///
/// # Errors
/// [`RuntimeError::LibraryNotFound`] naming every place searched.
pub fn locate_library(explicit: Option<&Path>, from_env: Option<PathBuf>) -> Result<PathBuf, RuntimeError> {
    // A path the user named is used as given or not at all: falling back past it would hide a typo.
    if let Some(path) = explicit.map(Path::to_path_buf).or(from_env) {
        return library_in(&path).ok_or_else(|| RuntimeError::LibraryNotFound { searched: path.display().to_string() });
    }
    let candidates = crate::paths::searched(DEFAULT_LIBRARY_DIR);
    candidates.iter().find_map(|dir| library_in(dir)).ok_or_else(|| RuntimeError::LibraryNotFound {
        searched: candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
    })
}

fn library_in(path: &Path) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path.to_path_buf());
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(path)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with("libonnxruntime.so")
                    || n == "onnxruntime.dll"
                    || n.starts_with("libonnxruntime.") && n.ends_with(".dylib")
            })
        })
        .collect();
    // The most specific name (libonnxruntime.so.1.32.0) sorts last.
    found.sort();
    found.pop()
}

/// Checks that an ELF shared library is whole: every loaded segment and the section table lie
/// within the file. (Files that are not ELF are left to the loader, which refuses them cleanly.)
///
/// # Errors
/// What is wrong, in words.
pub fn check_shared_library(path: &Path) -> Result<(), String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    let mut header = [0u8; 64];
    if file.read_exact(&mut header).is_err() {
        return Err(format!("it is only {size} bytes long"));
    }
    if &header[..4] != b"\x7fELF" {
        return Ok(());
    }
    if header[4] != 2 || header[5] != 1 {
        return Err("it is not a 64-bit little-endian ELF file".into());
    }
    let u16_at = |at: usize| u64::from(u16::from_le_bytes([header[at], header[at + 1]]));
    let u64_at = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().unwrap_or([0; 8]));
    let (ph_offset, sh_offset) = (u64_at(0x20), u64_at(0x28));
    let (ph_size, ph_count, sh_size, sh_count) = (u16_at(0x36), u16_at(0x38), u16_at(0x3A), u16_at(0x3C));
    let truncated = |needed: u64| format!("it is {size} bytes long, its headers need {needed}: the copy is truncated");
    let sections_end = sh_offset.saturating_add(sh_size.saturating_mul(sh_count));
    if sh_count > 0 && sections_end > size {
        return Err(truncated(sections_end));
    }
    let headers_end = ph_offset.saturating_add(ph_size.saturating_mul(ph_count));
    if ph_size < 56 || headers_end > size {
        return Err(truncated(headers_end));
    }
    file.seek(SeekFrom::Start(ph_offset)).map_err(|e| e.to_string())?;
    let mut table = vec![0u8; usize::try_from(ph_size * ph_count).map_err(|e| e.to_string())?];
    file.read_exact(&mut table).map_err(|e| e.to_string())?;
    for entry in table.chunks_exact(usize::try_from(ph_size).unwrap_or(56)) {
        let kind = u32::from_le_bytes(entry[0..4].try_into().unwrap_or([0; 4]));
        let offset = u64::from_le_bytes(entry[8..16].try_into().unwrap_or([0; 8]));
        let length = u64::from_le_bytes(entry[32..40].try_into().unwrap_or([0; 8]));
        // PT_LOAD: mapped from the file.
        if kind == 1 && offset.saturating_add(length) > size {
            return Err(truncated(offset.saturating_add(length)));
        }
    }
    Ok(())
}

fn version_of(library: &Path) -> String {
    let info = ort::info();
    if let Some(branch) = info.split(',').find_map(|part| part.trim().strip_prefix("git-branch=rel-")) {
        return branch.to_string();
    }
    library.file_name().and_then(|n| n.to_str()).and_then(|n| n.split(".so.").nth(1)).unwrap_or("unknown").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_path_that_does_not_exist_is_not_found() {
        let err = locate_library(Some(Path::new("/nonexistent/libonnxruntime.so")), None).unwrap_err();
        assert!(matches!(err, RuntimeError::LibraryNotFound { .. }));
        // What to do about it (scripts/setup.sh, --ort-lib) is the front-end's hint.
        assert!(err.to_string().contains("/nonexistent/libonnxruntime.so"));
    }

    #[test]
    fn a_truncated_library_is_found_damaged() {
        let library = locate_library(None, None).expect("scripts/setup.sh installs ONNX Runtime");
        assert_eq!(check_shared_library(&library), Ok(()));
        let bytes = std::fs::read(&library).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cut = dir.path().join("libonnxruntime.so.1.32.0");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let reason = check_shared_library(&cut).unwrap_err();
        assert!(reason.contains("truncated"), "{reason}");
    }

    #[test]
    fn folder_is_searched_for_the_library() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("libonnxruntime.so.1.32.0"), b"").unwrap();
        std::fs::write(dir.path().join("unrelated.so"), b"").unwrap();
        let found = locate_library(Some(dir.path()), None).unwrap();
        assert_eq!(found, dir.path().join("libonnxruntime.so.1.32.0"));
    }
}
