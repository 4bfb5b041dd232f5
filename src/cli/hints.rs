//! What the user can do about an error, in terms of this command line's flags: the library's
//! messages say what is wrong; the hints that name flags live here.

use faceswap::{
    imaging::ImageError, models::ModelError, runtime::RuntimeError, transcode::TranscodeError, video::VideoError, Error,
};

/// Where the error came from, as far as hints go.
#[derive(Debug, Clone, Copy, Default)]
pub struct HintContext {
    /// A mirror was given (so "pass --mirror" would not help).
    pub mirror_given: bool,
}

/// The hint for the first library error in `error`'s chain that has one.
pub fn hint(error: &anyhow::Error, context: HintContext) -> Option<&'static str> {
    error.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<Error>() {
            return library_hint(e, context);
        }
        None.or_else(|| cause.downcast_ref::<ImageError>().and_then(image_hint))
            .or_else(|| cause.downcast_ref::<TranscodeError>().and_then(transcode_hint))
            .or_else(|| cause.downcast_ref::<RuntimeError>().and_then(runtime_hint))
            .or_else(|| cause.downcast_ref::<ModelError>().and_then(|e| model_hint(e, context)))
            .or_else(|| cause.downcast_ref::<VideoError>().and_then(video_hint))
    })
}

fn library_hint(error: &Error, context: HintContext) -> Option<&'static str> {
    match error {
        Error::Image(e) => image_hint(e),
        Error::Transcode(e) => transcode_hint(e),
        Error::Runtime(e) => runtime_hint(e),
        Error::Model(e) => model_hint(e, context),
        Error::Video(e) => video_hint(e),
        Error::Pipeline(faceswap::pipeline::PipelineError::Source(e)) => video_hint(e),
        Error::Swap(faceswap::swap::SwapError::Runtime(e)) => runtime_hint(e),
        _ => None,
    }
}

const OVERWRITE: &str = "pass --overwrite to replace it, or choose another path";

fn image_hint(error: &ImageError) -> Option<&'static str> {
    match error {
        ImageError::Exists { .. } => Some(OVERWRITE),
        ImageError::OutputIsInput { .. } => Some("choose another output path"),
        ImageError::TooLarge { .. } => Some("scale it down, or raise --max-pixels"),
        _ => None,
    }
}

fn transcode_hint(error: &TranscodeError) -> Option<&'static str> {
    match error {
        TranscodeError::OutputExists { .. } => Some(OVERWRITE),
        TranscodeError::OutputIsInput { .. } => Some("choose another output path"),
        TranscodeError::CodecNotInContainer { .. } => Some("choose another --codec, or another output extension"),
        _ => None,
    }
}

fn runtime_hint(error: &RuntimeError) -> Option<&'static str> {
    match error {
        RuntimeError::LibraryNotFound { .. } => {
            Some("run scripts/setup.sh, or pass --ort-lib PATH or set ORT_DYLIB_PATH")
        }
        RuntimeError::LibraryDamaged { .. } => {
            Some("reinstall it with scripts/setup.sh, or point --ort-lib at a good copy")
        }
        RuntimeError::ProviderUnavailable { provider, .. } | RuntimeError::ProviderNotBuilt { provider, .. }
            if provider.starts_with("openvino") =>
        {
            Some(
                "get the OpenVINO build with scripts/setup.sh --openvino and pass --ort-lib .cache/onnxruntime-openvino, \
                 or choose --ep cpu",
            )
        }
        RuntimeError::ProviderUnavailable { .. } | RuntimeError::ProviderNotBuilt { .. } => Some(
            "get the GPU build with scripts/setup.sh --gpu and pass --ort-lib .cache/onnxruntime-gpu, \
             or choose --ep cpu (--ep-fallback runs on CPU when the GPU fails)",
        ),
        _ => None,
    }
}

fn model_hint(error: &ModelError, context: HintContext) -> Option<&'static str> {
    match error {
        ModelError::Missing { .. } => Some("models are looked for in --models-dir (or FACESWAP_MODELS_DIR)"),
        ModelError::Fetch { .. } | ModelError::NoUrl { .. } if !context.mirror_given => {
            Some("put a good copy there, or pass --mirror BASE_URL")
        }
        ModelError::Repair { .. } | ModelError::RepairBackup { .. } if !context.mirror_given => {
            Some("put a good copy there, or pass --mirror BASE_URL")
        }
        ModelError::Repair { .. } | ModelError::RepairBackup { .. } => Some("put a good copy there"),
        _ => None,
    }
}

fn video_hint(error: &VideoError) -> Option<&'static str> {
    match error {
        VideoError::Picture(e) => image_hint(e),
        VideoError::TooLarge { .. } => Some("scale it down, or raise --max-pixels"),
        VideoError::NoCamera { .. } => Some("use --input FILE to run on a video or picture instead"),
        VideoError::Window { .. } => Some("run with --headless, or set DISPLAY"),
        _ => None,
    }
}
