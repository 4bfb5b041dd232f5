//! The media formats provenance is written to and read from, by extension.

use std::path::{Path, PathBuf};

/// A format an output can be in, and how its manifest travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaFormat {
    Jpeg,
    Png,
    Mp4,
    Mov,
    /// C2PA cannot embed a manifest in WebM or Matroska: a `.c2pa` sidecar travels beside it.
    Webm,
    Mkv,
}

impl MediaFormat {
    /// The format `path`'s extension names.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "jpg" | "jpeg" => Self::Jpeg,
            "png" => Self::Png,
            "mp4" | "m4v" => Self::Mp4,
            "mov" => Self::Mov,
            "webm" => Self::Webm,
            "mkv" => Self::Mkv,
            _ => return None,
        })
    }

    /// Its MIME type, as C2PA names formats.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Mp4 => "video/mp4",
            Self::Mov => "video/quicktime",
            Self::Webm => "video/webm",
            Self::Mkv => "video/x-matroska",
        }
    }

    /// Whether the manifest is embedded (else it is a sidecar).
    pub fn embeds(self) -> bool {
        !matches!(self, Self::Webm | Self::Mkv)
    }

    /// Whether it is a picture (else a video).
    pub fn is_picture(self) -> bool {
        matches!(self, Self::Jpeg | Self::Png)
    }
}

/// Where the sidecar manifest of `output` goes: the same name with `.c2pa`.
pub fn sidecar_path(output: &Path) -> PathBuf {
    output.with_extension("c2pa")
}

impl MediaFormat {
    /// The format the first bytes of a file say (WebM and Matroska read alike: Matroska).
    pub fn sniff(head: &[u8]) -> Option<Self> {
        if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if head.len() >= 12 && &head[4..8] == b"ftyp" {
            Some(if &head[8..12] == b"qt  " { Self::Mov } else { Self::Mp4 })
        } else if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
            Some(if head.windows(4).any(|w| w == b"webm") { Self::Webm } else { Self::Mkv })
        } else {
            None
        }
    }
}
