//! How a video job is accepted: everything that can be known before it runs is checked now, so
//! a job that cannot run is refused at once (with the reason), never queued to fail later.
//! The upload is probed (a real video, a size within the limits, frames and length within the
//! job limits), the codec and container checked, the swapper's model found, the source and
//! reference faces found on an engine worker; then the cuts are planned from the packet index,
//! the files stored and the job inserted, the queue's limit checked in the same transaction.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use bytes::Bytes;

use super::{JobError, JobFiles, JobId, JobRecord, JobRequest, JobStore, NewTask, TargetChoice, TaskKind, TaskSpec};
use crate::{
    engine::{Engine, EnginePool},
    face::FaceSelection,
    swap::SourceFace,
    transcode::{container_named, encoder_settings, plan_parts, PartPlan, TranscodeOptions},
    video::{probe, VideoError},
    Error, Result,
};

/// Which faces of the video a submission replaces.
#[derive(Debug, Clone)]
pub enum TargetFaces {
    Fixed(FaceSelection),
    /// The face most like the one in this picture.
    LikeReference(Bytes),
}

/// A job as a client asks for it.
#[derive(Debug, Clone)]
pub struct JobSubmission {
    /// The source picture's bytes.
    pub source: Bytes,
    pub source_face: Option<usize>,
    /// The uploaded video, in a local file the caller keeps until this returns.
    pub input: PathBuf,
    /// The name the client gave the video, if any.
    pub input_name: Option<String>,
    pub faces: TargetFaces,
    /// The result's container by extension (none: the input's when it is one we write, else mp4).
    pub container: Option<String>,
    pub options: TranscodeOptions,
}

/// What a service lets a job be.
#[derive(Debug, Clone, PartialEq)]
pub struct JobLimits {
    /// Jobs that may wait; one more is refused as busy.
    pub max_queued: u64,
    /// Videos longer than this are cut into parts that workers swap apart (0: never).
    pub part_seconds: f64,
    /// The most frames a job's video may have.
    pub max_frames: u64,
    /// The longest a job's video may play, in seconds.
    pub max_seconds: f64,
    /// The codecs a job may ask for (empty: every codec the encoder has).
    pub codecs: Vec<String>,
}

impl Default for JobLimits {
    fn default() -> Self {
        Self {
            max_queued: 100,
            part_seconds: 60.0,
            // An hour at 30 fps, and an hour.
            max_frames: 108_000,
            max_seconds: 3600.0,
            // av1's encoder here runs at a frame or two a second: a short clip takes minutes.
            codecs: ["h264", "h265", "vp9"].map(String::from).to_vec(),
        }
    }
}

/// The result's extension: the one asked for, else the input's when we write it, else mp4.
fn output_extension(container: Option<&str>, input_name: Option<&str>) -> String {
    if let Some(asked) = container {
        return asked.to_ascii_lowercase();
    }
    let input = input_extension(input_name);
    if container_named(&input).is_some() {
        input
    } else {
        "mp4".to_string()
    }
}

/// A file name's extension, lower case and plain (letters and digits only), else `mp4`.
fn input_extension(name: Option<&str>) -> String {
    name.and_then(|n| Path::new(n).extension())
        .and_then(|e| e.to_str())
        .filter(|e| !e.is_empty() && e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map_or_else(|| "mp4".to_string(), str::to_ascii_lowercase)
}

/// The extension of a picture's format, from its bytes.
fn picture_extension(bytes: &[u8]) -> &'static str {
    match image::guess_format(bytes) {
        Ok(image::ImageFormat::Jpeg) => "jpg",
        _ => "png",
    }
}

/// Why the upload is no video we run, without the server's file names.
fn video_reason(error: &VideoError) -> String {
    match error {
        VideoError::Open { source, .. } | VideoError::Decode { source, .. } => crate::error_text::with_causes(source),
        VideoError::NoVideoStream { .. } => "it has no video stream".into(),
        VideoError::Missing { .. } => "it is empty".into(),
        VideoError::TooLarge { width, height, limit, .. } => {
            format!("its frames are {width}×{height}, over the limit of {limit} pixels")
        }
        _ => "it could not be opened".into(),
    }
}

/// Checks the upload and plans its parts (blocking: ffmpeg reads the file).
fn plan(
    video: &Path,
    extension: &str,
    options: &TranscodeOptions,
    engine: &Engine,
    limits: &JobLimits,
) -> Result<PartPlan> {
    let container = container_named(extension).ok_or_else(|| crate::transcode::TranscodeError::UnknownContainer {
        path: PathBuf::from(format!("result.{extension}")),
        known: crate::transcode::known_extensions(),
    })?;
    let codec = options.codec.as_deref().unwrap_or(container.default_codec);
    if !limits.codecs.is_empty() && !limits.codecs.iter().any(|c| c.eq_ignore_ascii_case(codec)) {
        return Err(JobError::CodecNotAllowed { codec: codec.to_string(), allowed: limits.codecs.join(", ") }.into());
    }
    encoder_settings(container, options.codec.as_deref(), options.crf, &options.preset, 1)?;
    let invalid = |e: VideoError| Error::from(JobError::NotAVideo { reason: video_reason(&e) });
    let shape = probe(video).map_err(invalid)?;
    let max_pixels = engine.limits().max_pixels;
    if u64::from(shape.width) * u64::from(shape.height) > max_pixels {
        return Err(invalid(VideoError::TooLarge {
            path: video.to_path_buf(),
            width: shape.width,
            height: shape.height,
            limit: max_pixels,
        }));
    }
    let plan = plan_parts(video, limits.part_seconds).map_err(invalid)?;
    if plan.frames > limits.max_frames {
        return Err(JobError::TooManyFrames { frames: plan.frames, limit: limits.max_frames }.into());
    }
    if plan.duration_s > limits.max_seconds {
        return Err(JobError::TooLong { seconds: plan.duration_s, limit: limits.max_seconds }.into());
    }
    Ok(plan)
}

/// Checks on a worker that `bytes` is a picture with the face to take (face `face`, else any).
async fn check_face(pool: &EnginePool, bytes: Bytes, field: &'static str, face: Option<usize>) -> Result<()> {
    pool.run(move |worker, engine| {
        let picture = engine.decode_picture(&bytes, &format!("in field {field:?}"))?;
        let _: SourceFace = worker.source_face(&picture, &format!("the picture in field {field:?}"), face)?;
        Ok(())
    })
    .await
}

/// Writes `bytes` to a new incoming file, synced; the file goes when the returned path does.
fn store_picture(path: PathBuf, bytes: &[u8]) -> Result<tempfile::TempPath, JobError> {
    use std::io::Write;
    let path = tempfile::TempPath::try_from_path(&path).map_err(|source| JobError::Files { path, source })?;
    let written = std::fs::File::create(&path).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    written.map_err(|source| JobError::Files { path: path.to_path_buf(), source })?;
    Ok(path)
}

/// Where a job's work lands: the engine (and its workers, for the face checks), the job
/// table and the job files.
pub struct JobIntake<'a> {
    pub engine: &'a Arc<Engine>,
    pub pool: &'a EnginePool,
    pub store: &'a JobStore,
    pub files: &'a JobFiles,
    pub limits: &'a JobLimits,
}

impl JobIntake<'_> {
    /// Accepts `submission` as a queued job, or refuses it with the reason.
    ///
    /// # Errors
    /// [`JobError::NotAVideo`], [`JobError::TooManyFrames`], [`JobError::TooLong`],
    /// [`JobError::CodecNotAllowed`], [`JobError::QueueFull`], a container, codec or CRF the
    /// encoder refuses, the swapper's model missing, no face in the source or reference.
    pub async fn submit(&self, submission: JobSubmission) -> Result<JobRecord> {
        let JobSubmission { source, source_face, input, input_name, faces, container, options } = submission;
        // A swapper without its model is refused now, not when a worker gets to it.
        self.engine.swapper_file(options.swapper)?;
        let extension = output_extension(container.as_deref(), input_name.as_deref());
        let plan = {
            let (video, options, limits, extension) =
                (input.clone(), options.clone(), self.limits.clone(), extension.clone());
            let engine = self.engine.clone();
            tokio::task::spawn_blocking(move || plan(&video, &extension, &options, &engine, &limits))
                .await
                .map_err(|_| crate::pipeline::PipelineError::Panicked { stage: "job planning" })??
        };
        check_face(self.pool, source.clone(), "source", source_face).await?;
        let (target, reference) = match faces {
            TargetFaces::Fixed(FaceSelection::Index(n)) => (TargetChoice::Index(n), None),
            TargetFaces::Fixed(FaceSelection::Indices(list)) => (TargetChoice::Indices(list), None),
            TargetFaces::Fixed(FaceSelection::All) => (TargetChoice::All, None),
            TargetFaces::Fixed(FaceSelection::Largest) => (TargetChoice::Largest, None),
            // A selection by identity is a reference picture's, analysed on the job's worker.
            TargetFaces::Fixed(FaceSelection::MostLike(_)) => return Err(JobError::LikenessWithoutReference.into()),
            TargetFaces::LikeReference(bytes) => {
                check_face(self.pool, bytes.clone(), "reference", None).await?;
                (TargetChoice::Reference, Some(bytes))
            }
        };
        let id = JobId::new();
        let request = JobRequest {
            source_extension: picture_extension(&source).to_string(),
            source_face,
            input_extension: input_extension(input_name.as_deref()),
            input_name: input_name.unwrap_or_else(|| "input".into()).chars().take(200).collect(),
            reference_extension: reference.as_ref().map(|b| picture_extension(b).to_string()),
            target,
            output_extension: extension,
            options,
        };
        let (new_source, new_reference) = (self.files.incoming(), self.files.incoming());
        let (source_file, reference_file) = tokio::task::spawn_blocking(move || -> Result<_, JobError> {
            let source_file = store_picture(new_source, &source)?;
            let reference_file = reference.as_ref().map(|b| store_picture(new_reference, b)).transpose()?;
            Ok((source_file, reference_file))
        })
        .await
        .map_err(|_| crate::pipeline::PipelineError::Panicked { stage: "job upload" })??;
        let mut uploads = vec![
            (source_file.to_path_buf(), JobFiles::source(id, &request)),
            (input.clone(), JobFiles::input(id, &request)),
        ];
        if let (Some(file), Some(key)) = (&reference_file, JobFiles::reference(id, &request)) {
            uploads.push((file.to_path_buf(), key));
        }
        // Stored (moved, or sent and removed): the temporary names are gone either way.
        self.files.adopt(id, &uploads).await?;
        let tasks: Vec<NewTask> = if plan.parts.len() > 1 {
            let parts =
                plan.parts.iter().map(|part| NewTask { kind: TaskKind::Part, spec: TaskSpec { part: Some(*part) } });
            parts.chain([NewTask { kind: TaskKind::Assemble, spec: TaskSpec::default() }]).collect()
        } else {
            vec![NewTask { kind: TaskKind::Whole, spec: TaskSpec::default() }]
        };
        if let Err(e) = self.store.insert(id, &request, Some(plan.frames), &tasks, self.limits.max_queued).await {
            let _ = self.files.remove(id).await;
            return Err(e.into());
        }
        tracing::info!(job = %id, parts = plan.parts.len(), frames = plan.frames, "job queued");
        Ok(self.store.get(id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_result_takes_the_inputs_container_when_it_is_one_we_write() {
        assert_eq!(output_extension(None, Some("clip.MKV")), "mkv");
        assert_eq!(output_extension(None, Some("clip.avi")), "mp4");
        assert_eq!(output_extension(None, None), "mp4");
        assert_eq!(output_extension(Some("WebM"), Some("clip.mkv")), "webm");
        assert_eq!(input_extension(Some("a.b/../x.m$4")), "mp4");
    }
}
