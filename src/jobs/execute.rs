//! Running one claimed task on the engine (a blocking thread): its inputs fetched from the
//! storage first (small pictures as bytes, videos as something ffmpeg opens: the file, or a
//! presigned URL it reads by ranges), its output written to this process's work folder, for
//! the runner to store.

use std::{path::PathBuf, sync::Arc};

use bytes::Bytes;

use super::{ClaimedTask, JobError, JobFiles, JobRecord, JobStore, TaskKind};
use crate::{
    engine::Engine,
    error_kind::ErrorKind,
    face::FaceSelection,
    pipeline::Controls,
    provenance::{Asset, EditRecord},
    transcode::{
        assemble, container_named, known_extensions, transcode, transcode_part, Progress, TranscodeError, TranscodeJob,
        TranscodeOptions,
    },
    Error,
};

/// The largest source or reference picture fetched (they were checked at upload).
const PICTURE_LIMIT: u64 = 64 << 20;

/// What a task reads and where it writes.
pub(super) struct TaskInputs {
    source: Bytes,
    reference: Option<Bytes>,
    input: PathBuf,
    /// The parts to join (an assembly).
    parts: Vec<PathBuf>,
    /// The local file written.
    pub output: PathBuf,
    /// Where it is stored when done.
    pub output_key: String,
}

impl TaskInputs {
    /// Fetches what `task` needs.
    ///
    /// # Errors
    /// [`JobError::Storage`], [`JobError::Database`].
    pub async fn fetch(
        files: &JobFiles,
        store: &JobStore,
        job: &JobRecord,
        task: &ClaimedTask,
    ) -> Result<Self, JobError> {
        let (id, request, storage) = (job.id, &job.request, files.storage());
        let source = storage.get_bytes(&JobFiles::source(id, request), PICTURE_LIMIT).await?;
        let reference = match JobFiles::reference(id, request) {
            Some(key) => Some(storage.get_bytes(&key, PICTURE_LIMIT).await?),
            None => None,
        };
        let input = storage.locator(&JobFiles::input(id, request)).await?;
        let (output, output_key, parts) = match task.kind {
            TaskKind::Whole | TaskKind::Assemble => {
                (files.scratch(&request.output_extension), JobFiles::result(id, request), Vec::new())
            }
            TaskKind::Part => (files.scratch("nut"), JobFiles::part(id, task.seq), Vec::new()),
        };
        let parts = if task.kind == TaskKind::Assemble {
            let mut located = Vec::new();
            for seq in store.part_numbers(id).await? {
                located.push(storage.locator(&JobFiles::part(id, seq)).await?);
            }
            located
        } else {
            parts
        };
        Ok(Self { source, reference, input, parts, output, output_key })
    }

    /// `message` without the server's file names and URLs (a presigned URL carries a
    /// signature): they become what they are to the client.
    pub fn redact(&self, message: &str) -> String {
        let mut text = message.to_string();
        let mut names: Vec<(String, &str)> = vec![
            (self.input.display().to_string(), "the input video"),
            (crate::video::display_name(&self.input), "the input video"),
            (self.output.display().to_string(), "the result"),
        ];
        for part in &self.parts {
            names.push((part.display().to_string(), "a swapped part"));
            names.push((crate::video::display_name(part), "a swapped part"));
        }
        for (name, what) in names {
            if !name.is_empty() {
                text = text.replace(&name, what);
            }
        }
        text
    }
}

/// How a task ended.
pub(super) enum TaskOutcome {
    /// Written whole: its frames.
    Done { frames: u64, fps: f64 },
    /// Stopped before the end (a shutdown, a cancel, a lost lease): the output is not kept.
    Stopped,
}

/// Whether another try could succeed: input the job itself got wrong fails for good.
pub(super) fn worth_retrying(error: &Error) -> bool {
    !matches!(
        error.kind(),
        ErrorKind::UnsupportedFormat
            | ErrorKind::InvalidInput
            | ErrorKind::NoFace
            | ErrorKind::TooLarge
            | ErrorKind::NotFound
    )
}

/// Runs `task` of `job` (blocking).
pub(super) fn execute(
    engine: &Engine,
    job: &JobRecord,
    task: &ClaimedTask,
    inputs: &TaskInputs,
    controls: &Arc<Controls>,
    on_progress: impl FnMut(&Progress),
) -> Result<TaskOutcome, Error> {
    let request = &job.request;
    // Every try writes the same file afresh: a task run twice gives the same output.
    let options = TranscodeOptions { overwrite: true, ..request.options.clone() };
    let source_sha256 = crate::provenance::sha256_hex(&inputs.source);
    if task.kind == TaskKind::Assemble {
        let report = assemble(&inputs.input, &inputs.parts, &inputs.output, true)?;
        // A split job is signed once, here, over the whole result.
        let record = EditRecord {
            target: if crate::video::is_url(&inputs.input) {
                Asset::Named { name: &request.input_name }
            } else {
                Asset::Renamed { name: &request.input_name, path: &inputs.input }
            },
            source_face: Some(&source_sha256),
            swapper: options.swapper.name(),
            enhancer: options.enhancer.map(|e| e.kind.name()),
        };
        engine.provenance().sign_file(&inputs.output, &inputs.output, &record)?;
        return Ok(TaskOutcome::Done { frames: report.frames, fps: 0.0 });
    }
    let picture = engine.decode_picture(&inputs.source, "the job's source picture")?;
    let source = engine.source_face(&picture, "the job's source picture", request.source_face)?;
    let selection = match (request.target.fixed(), &inputs.reference) {
        (Some(selection), _) => selection,
        (None, Some(bytes)) => engine
            .most_like(&engine.decode_picture(bytes, "the job's reference picture")?, "the job's reference picture")?,
        (None, None) => FaceSelection::Largest,
    };
    let transcode_job = TranscodeJob {
        input: inputs.input.clone(),
        output: inputs.output.clone(),
        sources: Arc::new(source).into(),
        selection,
        source_sha256: Some(source_sha256.clone()),
        input_name: Some(request.input_name.clone()),
    };
    let report = match (task.kind, task.spec.part) {
        (TaskKind::Part, Some(part)) => {
            // A part is encoded as the result's container will hold it.
            let container =
                container_named(&request.output_extension).ok_or_else(|| TranscodeError::UnknownContainer {
                    path: PathBuf::from(&request.output_extension),
                    known: known_extensions(),
                })?;
            transcode_part(engine, &transcode_job, &part, container, &options, controls, on_progress)?
        }
        _ => transcode(engine, &transcode_job, &options, controls, on_progress)?,
    };
    if report.interrupted {
        let _ = std::fs::remove_file(&inputs.output);
        return Ok(TaskOutcome::Stopped);
    }
    Ok(TaskOutcome::Done { frames: report.frames, fps: report.stats.fps })
}
