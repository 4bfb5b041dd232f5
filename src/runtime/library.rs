//! Finding and loading the ONNX Runtime shared library (`ort` with `load-dynamic`).
//!
//! `ort::init()` panics when no library is found, so faceswap looks for the file itself and loads
//! it with `ort::init_from`, turning every failure into a [`RuntimeError`].

use std::{
    path::{Path, PathBuf},
    sync::{Mutex, PoisonError},
};

use ort::environment::Environment;

use super::RuntimeError;

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
                return Err(RuntimeError::LibraryLoad {
                    path: library,
                    reason: format!(
                        "ONNX Runtime is already loaded from {} in this process",
                        runtime.library.display()
                    ),
                });
            }
            return Ok(runtime.clone());
        }
        let load_error = |reason: String| RuntimeError::LibraryLoad { path: library.clone(), reason };
        let builder = ort::init_from(&library).map_err(|e| load_error(e.to_string()))?;
        let environment = builder.with_name("faceswap").build().map_err(|e| load_error(e.to_string()))?;
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
/// then [`DEFAULT_LIBRARY_DIR`] under the working directory and under the executable's ancestors.
/// A folder is searched for `libonnxruntime.so*`.
///
/// # Errors
/// [`RuntimeError::LibraryNotFound`] naming every place searched.
pub fn locate_library(explicit: Option<&Path>, from_env: Option<PathBuf>) -> Result<PathBuf, RuntimeError> {
    // A path the user named is used as given or not at all: falling back past it would hide a typo.
    if let Some(path) = explicit.map(Path::to_path_buf).or(from_env) {
        return library_in(&path).ok_or_else(|| RuntimeError::LibraryNotFound { searched: path.display().to_string() });
    }
    let mut candidates = vec![PathBuf::from(DEFAULT_LIBRARY_DIR)];
    if let Ok(exe) = std::env::current_exe() {
        candidates.extend(exe.ancestors().skip(1).take(4).map(|dir| dir.join(DEFAULT_LIBRARY_DIR)));
    }
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
    fn folder_is_searched_for_the_library() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("libonnxruntime.so.1.32.0"), b"").unwrap();
        std::fs::write(dir.path().join("unrelated.so"), b"").unwrap();
        let found = locate_library(Some(dir.path()), None).unwrap();
        assert_eq!(found, dir.path().join("libonnxruntime.so.1.32.0"));
    }
}
