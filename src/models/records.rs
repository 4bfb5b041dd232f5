//! `records.toml` in the models folder: the size and sha256 of each file whose manifest entry
//! could cite none (recorded when it was first fetched), and of the user's own files
//! (`faceswap models add`), with where each came from. Written whole and atomically.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{ModelError, ModelRole, Pin};

/// The file's name in the models folder.
pub const RECORDS_FILE: &str = "records.toml";
/// The largest records file read (a few lines a model).
const MAX_RECORDS_BYTES: u64 = 1 << 20;

/// One recorded file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub name: String,
    pub role: ModelRole,
    /// The file's name in the models folder.
    pub file: String,
    #[serde(flatten)]
    pub pin: Pin,
    /// Where it came from: the URL it was fetched from, or the path it was added from (a
    /// repair copies it from there again, when that copy still has this hash).
    pub source: String,
    pub license: String,
}

/// Every record of a models folder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Records {
    #[serde(default, rename = "record")]
    pub records: Vec<Record>,
}

impl Records {
    /// The records in `dir` (none when there is no file yet).
    ///
    /// # Errors
    /// [`ModelError::Records`] for a file that cannot be read or parsed, or is too large.
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        let path = dir.join(RECORDS_FILE);
        let bad = |reason: String| ModelError::Records { path: path.clone(), reason };
        let text = match std::fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(ModelError::Io { path, source: e }),
            Ok(meta) if meta.len() > MAX_RECORDS_BYTES => {
                return Err(bad(format!(
                    "it has {} bytes, over the {MAX_RECORDS_BYTES} a records file may have",
                    meta.len()
                )))
            }
            Ok(_) => std::fs::read_to_string(&path).map_err(|source| ModelError::Io { path: path.clone(), source })?,
        };
        let records: Self = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if let Some(r) = records.records.iter().find(|r| !is_sha256(&r.pin.sha256) || !is_plain_file_name(&r.file)) {
            return Err(bad(format!("the record of {} has a bad sha256 or file name", r.name)));
        }
        Ok(records)
    }

    /// The record called `name`.
    pub fn get(&self, name: &str) -> Option<&Record> {
        self.records.iter().find(|r| r.name == name)
    }

    /// Adds `record`, replacing one of the same name, and writes the file.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn put(&mut self, dir: &Path, record: Record) -> Result<(), ModelError> {
        self.records.retain(|r| r.name != record.name);
        self.records.push(record);
        let path: PathBuf = dir.join(RECORDS_FILE);
        let text =
            toml::to_string(self).map_err(|e| ModelError::Records { path: path.clone(), reason: e.to_string() })?;
        let text =
            format!("# Written by faceswap: the size and sha256 of model files whose manifest entry has none.\n{text}");
        crate::atomic_file::write_whole(&path, text.as_bytes(), true)
            .map_err(|source| ModelError::RecordsWrite { path, source })
    }
}

fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A name with no folder in it: a record cannot point outside the models folder.
pub fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && Path::new(name).file_name().is_some_and(|f| f == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_a_path_outside_the_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Records::load(dir.path()).unwrap().records.is_empty());
        let mut records = Records::default();
        let record = Record {
            name: "mine".into(),
            role: ModelRole::Enhancer,
            file: "mine.onnx".into(),
            pin: Pin { size: 3, sha256: "a".repeat(64) },
            source: "/tmp/mine.onnx".into(),
            license: "the user's own".into(),
        };
        records.put(dir.path(), record.clone()).unwrap();
        assert_eq!(Records::load(dir.path()).unwrap().get("mine"), Some(&record));
        let text = std::fs::read_to_string(dir.path().join(RECORDS_FILE)).unwrap().replace("mine.onnx", "../x.onnx");
        std::fs::write(dir.path().join(RECORDS_FILE), text).unwrap();
        assert!(matches!(Records::load(dir.path()), Err(ModelError::Records { .. })));
    }
}
