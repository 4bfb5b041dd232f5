//! The containers faceswap writes and the codecs it encodes with, and which go together:
//! checked before any frame is decoded, so a mismatch is a clear error up front, not
//! "Invalid argument" from the muxer at the end.

use std::path::Path;

use ffmpeg_next as ffmpeg;

use super::TranscodeError;
use crate::video::EncoderSettings;

/// A video codec by its common name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoCodec {
    pub name: &'static str,
    /// The ffmpeg encoder used for it.
    pub encoder: &'static str,
    /// CRF when none is given: visually lossless for most clips.
    pub default_crf: u32,
    /// The encoder's highest CRF (x264 and x265 stop at 51).
    pub max_crf: u32,
    /// Whether the encoder takes x264-style presets.
    pub takes_preset: bool,
}

/// The codecs known by name; any other ffmpeg encoder may be named directly.
pub const CODECS: [VideoCodec; 4] = [
    VideoCodec { name: "h264", encoder: "libx264", default_crf: 18, max_crf: 51, takes_preset: true },
    VideoCodec { name: "h265", encoder: "libx265", default_crf: 20, max_crf: 51, takes_preset: true },
    VideoCodec { name: "vp9", encoder: "libvpx-vp9", default_crf: 31, max_crf: 63, takes_preset: false },
    VideoCodec { name: "av1", encoder: "libaom-av1", default_crf: 30, max_crf: 63, takes_preset: false },
];

/// A container by its file extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Container {
    pub extensions: &'static [&'static str],
    /// ffmpeg's muxer name.
    pub muxer: &'static str,
    /// The codec used when none is named: the container's natural one.
    pub default_codec: &'static str,
}

/// The containers faceswap writes.
pub const CONTAINERS: [Container; 4] = [
    Container { extensions: &["mp4", "m4v"], muxer: "mp4", default_codec: "h264" },
    Container { extensions: &["mkv"], muxer: "matroska", default_codec: "h264" },
    Container { extensions: &["mov"], muxer: "mov", default_codec: "h264" },
    Container { extensions: &["webm"], muxer: "webm", default_codec: "vp9" },
];

/// The extensions of the containers we write, for messages.
pub fn known_extensions() -> String {
    CONTAINERS.iter().flat_map(|c| c.extensions.iter().map(|e| format!(".{e}"))).collect::<Vec<_>>().join(", ")
}

/// The container `path`'s extension names.
///
/// # Errors
/// [`TranscodeError::UnknownContainer`] listing the extensions that work.
pub fn container_for(path: &Path) -> Result<Container, TranscodeError> {
    path.extension()
        .and_then(|e| e.to_str())
        .and_then(container_named)
        .ok_or_else(|| TranscodeError::UnknownContainer { path: path.to_path_buf(), known: known_extensions() })
}

/// The container a file extension (`mp4`, `MKV`) names.
pub fn container_named(extension: &str) -> Option<Container> {
    let extension = extension.to_ascii_lowercase();
    CONTAINERS.into_iter().find(|c| c.extensions.contains(&extension.as_str()))
}

/// The codec `name` names (`hevc` is h265).
pub fn codec_named(name: &str) -> Option<VideoCodec> {
    let name = if name.eq_ignore_ascii_case("hevc") { "h265" } else { name };
    CODECS.into_iter().find(|c| c.name.eq_ignore_ascii_case(name))
}

/// Whether ffmpeg's muxer `muxer` can hold what encoder `encoder` writes.
fn muxer_takes(muxer: &str, encoder: &ffmpeg::Codec) -> bool {
    let Ok(name) = std::ffi::CString::new(muxer) else { return false };
    // SAFETY: av_guess_format reads the NUL-terminated name and returns a static pointer (or
    // null); avformat_query_codec only reads the format it is given.
    unsafe {
        let format = ffmpeg::ffi::av_guess_format(name.as_ptr(), std::ptr::null(), std::ptr::null());
        !format.is_null() && ffmpeg::ffi::avformat_query_codec(format, encoder.id().into(), 0) == 1
    }
}

/// The encoder settings for `codec` (the container's natural codec when `None`) in
/// `container`, checked: the encoder exists, the container holds it, the CRF is in range.
///
/// # Errors
/// [`TranscodeError::UnknownCodec`], [`TranscodeError::CodecNotInContainer`] or
/// [`TranscodeError::Crf`].
pub fn encoder_settings(
    container: Container,
    codec: Option<&str>,
    crf: Option<u32>,
    preset: &str,
    threads: u32,
) -> Result<EncoderSettings, TranscodeError> {
    crate::video::init_ffmpeg()
        .map_err(|e| TranscodeError::UnknownCodec { codec: e.to_string(), known: String::new() })?;
    let requested = codec.unwrap_or(container.default_codec);
    let known = codec_named(requested);
    let encoder_name = known.map_or(requested, |c| c.encoder);
    let unknown = || TranscodeError::UnknownCodec {
        codec: requested.to_string(),
        known: CODECS.iter().map(|c| c.name).collect::<Vec<_>>().join(", "),
    };
    let encoder = ffmpeg::encoder::find_by_name(encoder_name).filter(|e| e.is_video()).ok_or_else(unknown)?;
    if !muxer_takes(container.muxer, &encoder) {
        let allowed = CODECS
            .iter()
            .filter(|c| ffmpeg::encoder::find_by_name(c.encoder).is_some_and(|e| muxer_takes(container.muxer, &e)))
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(", ");
        return Err(TranscodeError::CodecNotInContainer {
            codec: requested.to_string(),
            container: container.muxer,
            allowed,
        });
    }
    if let (Some(crf), Some(codec)) = (crf, known) {
        if crf > codec.max_crf {
            return Err(TranscodeError::Crf { crf, codec: codec.name, max: codec.max_crf });
        }
    }
    Ok(EncoderSettings {
        encoder: encoder_name.to_string(),
        crf: crf.or(known.map(|c| c.default_crf)),
        preset: known.filter(|c| c.takes_preset).map(|_| preset.to_string()),
        threads: (threads > 0).then_some(threads),
        options: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_pick_their_natural_codec_and_refuse_mismatches() {
        let webm = container_for(Path::new("out.webm")).unwrap();
        assert_eq!(encoder_settings(webm, None, None, "superfast", 1).unwrap().encoder, "libvpx-vp9");
        let err = encoder_settings(webm, Some("h264"), None, "superfast", 1).unwrap_err();
        assert!(matches!(err, TranscodeError::CodecNotInContainer { .. }), "{err}");
        assert!(err.to_string().contains("webm") && err.to_string().contains("h264"), "{err}");
        let mp4 = container_for(Path::new("OUT.MP4")).unwrap();
        let err = encoder_settings(mp4, Some("h264"), Some(60), "superfast", 1).unwrap_err();
        assert!(matches!(err, TranscodeError::Crf { max: 51, .. }), "{err}");
        assert!(container_for(Path::new("out.xyz")).unwrap_err().to_string().contains(".mp4"));
    }
}
