//! A job's files: in the storage under `jobs/<id>/` (its source, input, reference, the parts
//! of a split job and the result); on this machine, `incoming/` for uploads still being
//! received and `work/<pid>/` for what this process is writing. Names are made from the job's
//! id and fixed words only, never from anything a client sends.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
};

use super::{JobError, JobId, JobRequest};
use crate::storage::Storage;

/// Where jobs keep their files.
#[derive(Debug, Clone)]
pub struct JobFiles {
    storage: Storage,
    incoming: PathBuf,
    scratch: PathBuf,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> JobError + '_ {
    move |source| JobError::Files { path: path.to_path_buf(), source }
}

fn alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

/// The process id a local working name starts with (`<pid>` or `<pid>-…`).
fn owner(name: &str) -> Option<u32> {
    name.split(['-', '.']).next().and_then(|p| p.parse().ok())
}

impl JobFiles {
    /// The job files in `storage`, with this process's local folders under `data_dir`;
    /// what dead processes left there is removed.
    ///
    /// # Errors
    /// [`JobError::Files`] when the folders cannot be created.
    pub fn open(storage: Storage, data_dir: &Path) -> Result<Self, JobError> {
        let incoming = data_dir.join("incoming");
        let work = data_dir.join("work");
        for dir in [&incoming, &work] {
            std::fs::create_dir_all(dir).map_err(io_error(dir))?;
            for entry in std::fs::read_dir(dir).map_err(io_error(dir))?.flatten() {
                let name = entry.file_name();
                // Our own process id is no sign of life: nothing is ours yet, so those are a
                // predecessor's that had the same id (a container's process is always 1).
                let me = std::process::id();
                if owner(&name.to_string_lossy()).is_some_and(|pid| pid != me && alive(pid)) {
                    continue;
                }
                let path = entry.path();
                let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
                match removed {
                    Ok(()) => tracing::info!(path = %path.display(), "removed a file left by a stopped process"),
                    Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot remove a leftover file"),
                }
            }
        }
        let scratch = work.join(std::process::id().to_string());
        std::fs::create_dir_all(&scratch).map_err(io_error(&scratch))?;
        Ok(Self { storage, incoming, scratch })
    }

    /// The storage.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// A fresh local name for an upload being received.
    pub fn incoming(&self) -> PathBuf {
        self.incoming.join(format!("{}-{}.part", std::process::id(), uuid::Uuid::new_v4()))
    }

    /// A fresh local name for an output this process writes, ending in `.extension`.
    pub fn scratch(&self, extension: &str) -> PathBuf {
        self.scratch.join(format!("{}.{extension}", uuid::Uuid::new_v4()))
    }

    /// The job's folder in the storage.
    pub fn prefix(id: JobId) -> String {
        format!("jobs/{id}")
    }

    pub fn source(id: JobId, request: &JobRequest) -> String {
        format!("jobs/{id}/source.{}", request.source_extension)
    }

    pub fn input(id: JobId, request: &JobRequest) -> String {
        format!("jobs/{id}/input.{}", request.input_extension)
    }

    pub fn reference(id: JobId, request: &JobRequest) -> Option<String> {
        request.reference_extension.as_ref().map(|e| format!("jobs/{id}/reference.{e}"))
    }

    pub fn result(id: JobId, request: &JobRequest) -> String {
        format!("jobs/{id}/result.{}", request.output_extension)
    }

    /// The result's signed manifest, for a WebM or MKV result (which cannot hold one).
    pub fn manifest(id: JobId) -> String {
        format!("jobs/{id}/result.c2pa")
    }

    pub fn part(id: JobId, seq: i64) -> String {
        format!("jobs/{id}/parts/{seq:05}.nut")
    }

    /// Stores the received uploads (local files, each already synced) under the job's keys,
    /// so that once the job's row is written its files are there for any worker.
    ///
    /// # Errors
    /// [`JobError::Storage`]; what was stored of the job is removed again then.
    pub async fn adopt(&self, id: JobId, uploads: &[(PathBuf, String)]) -> Result<(), JobError> {
        for (from, key) in uploads {
            if let Err(e) = self.storage.put_file(key, from).await {
                let _ = self.remove(id).await;
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// Removes the job's files (nothing to do when they are gone already).
    ///
    /// # Errors
    /// [`JobError::Storage`].
    pub async fn remove(&self, id: JobId) -> Result<(), JobError> {
        self.storage.remove_prefix(&Self::prefix(id)).await?;
        Ok(())
    }

    /// Removes the files of jobs that have no row and were last written before
    /// `before_ms`: uploads whose job was never recorded (the request failed half-way) and
    /// parts a worker stored after its job was removed. The age keeps them apart from the
    /// uploads another replica is storing right now. Returns how many jobs' files went.
    ///
    /// # Errors
    /// [`JobError::Storage`] when the storage cannot be listed.
    pub async fn remove_orphans(&self, known: &HashSet<JobId>, before_ms: i64) -> Result<usize, JobError> {
        let mut removed = 0;
        for (name, newest) in self.storage.children("jobs").await? {
            let owned = name.parse::<JobId>().is_ok_and(|id| known.contains(&id));
            if owned || newest >= before_ms {
                continue;
            }
            match self.storage.remove_prefix(&format!("jobs/{name}")).await {
                Ok(_) => removed += 1,
                Err(e) => tracing::warn!(job = %name, error = %e, "cannot remove a leftover job's files"),
            }
        }
        Ok(removed)
    }
}
