//! A job's files under the data folder: `jobs/<id>/` holds its source, input, reference and
//! result; `incoming/` holds uploads still being received. Names are made from the job's id
//! and fixed words only, never from anything a client sends.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
};

use super::{JobError, JobId, JobRequest};

/// The folders jobs keep their files in.
#[derive(Debug, Clone)]
pub struct JobFiles {
    jobs: PathBuf,
    incoming: PathBuf,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> JobError + '_ {
    move |source| JobError::Files { path: path.to_path_buf(), source }
}

impl JobFiles {
    /// The folders under `data_dir`, created when missing.
    ///
    /// # Errors
    /// [`JobError::Files`] when they cannot be created.
    pub fn open(data_dir: &Path) -> Result<Self, JobError> {
        let files = Self { jobs: data_dir.join("jobs"), incoming: data_dir.join("incoming") };
        for dir in [&files.jobs, &files.incoming] {
            std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        }
        Ok(files)
    }

    /// A fresh name for an upload being received.
    pub fn incoming(&self) -> PathBuf {
        self.incoming.join(format!("{}.part", uuid::Uuid::new_v4()))
    }

    /// The job's folder.
    pub fn dir(&self, id: JobId) -> PathBuf {
        self.jobs.join(id.to_string())
    }

    pub fn source(&self, id: JobId, request: &JobRequest) -> PathBuf {
        self.dir(id).join(format!("source.{}", request.source_extension))
    }

    pub fn input(&self, id: JobId, request: &JobRequest) -> PathBuf {
        self.dir(id).join(format!("input.{}", request.input_extension))
    }

    pub fn reference(&self, id: JobId, request: &JobRequest) -> Option<PathBuf> {
        request.reference_extension.as_ref().map(|e| self.dir(id).join(format!("reference.{e}")))
    }

    pub fn result(&self, id: JobId, request: &JobRequest) -> PathBuf {
        self.dir(id).join(format!("result.{}", request.output_extension))
    }

    /// Moves received uploads (each already synced to disk) into the job's folder under their
    /// final names, and syncs the folders, so that once the job's row is written its files
    /// survive a crash.
    ///
    /// # Errors
    /// [`JobError::Files`]; the job's folder is removed again then.
    pub fn adopt(&self, id: JobId, uploads: &[(PathBuf, PathBuf)]) -> Result<(), JobError> {
        let dir = self.dir(id);
        std::fs::create_dir(&dir).map_err(io_error(&dir))?;
        let moved = uploads.iter().try_for_each(|(from, to)| std::fs::rename(from, to).map_err(io_error(to)));
        let synced = moved.and_then(|()| sync_dir(&dir)).and_then(|()| sync_dir(&self.jobs));
        if synced.is_err() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        synced
    }

    /// Removes the job's folder (nothing to do when it is gone already).
    ///
    /// # Errors
    /// [`JobError::Files`] when it exists and cannot be removed.
    pub fn remove(&self, id: JobId) -> Result<(), JobError> {
        let dir = self.dir(id);
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(JobError::Files { path: dir, source: e }),
            _ => Ok(()),
        }
    }

    /// Removes what no job owns: uploads cut off by a crash, and folders of jobs whose row was
    /// never written (their upload was never acknowledged). Returns how many were removed.
    pub fn remove_orphans(&self, known: &HashSet<JobId>) -> usize {
        let mut removed = 0;
        for folder in [&self.incoming, &self.jobs] {
            let Ok(entries) = std::fs::read_dir(folder) else { continue };
            for entry in entries.flatten() {
                let path = entry.path();
                let owned = folder == &self.jobs
                    && path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .and_then(|n| n.parse::<JobId>().ok())
                        .is_some_and(|id| known.contains(&id));
                if owned {
                    continue;
                }
                let outcome = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
                match outcome {
                    Ok(()) => removed += 1,
                    Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot remove a leftover job file"),
                }
            }
        }
        removed
    }
}

fn sync_dir(dir: &Path) -> Result<(), JobError> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io_error(dir))
}
