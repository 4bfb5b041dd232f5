//! Where live frames can go besides the window: a virtual camera (v4l2loopback), a network
//! stream (UDP/TCP/SRT as MPEG-TS, RTMP as FLV, RTSP), or a recording file.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::StreamError;

/// One output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutputTarget {
    /// A v4l2loopback device, written raw (yuv420p) at a fixed size.
    V4l2 { device: PathBuf },
    /// A network stream: the URL and ffmpeg's muxer for it.
    Network { url: String, muxer: String },
    /// A recording file (temporary name, renamed when finished, over an existing file only
    /// when `overwrite`).
    Record { path: PathBuf, overwrite: bool },
}

/// The schemes a network output may use, and the container each is sent in.
const SCHEMES: [(&str, &str); 6] =
    [("udp", "mpegts"), ("tcp", "mpegts"), ("srt", "mpegts"), ("rtmp", "flv"), ("rtmps", "flv"), ("rtsp", "rtsp")];

impl std::str::FromStr for OutputTarget {
    type Err = StreamError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some(device) = text.strip_prefix("v4l2:") {
            return Ok(Self::V4l2 { device: PathBuf::from(device) });
        }
        let scheme = text.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        match scheme.and_then(|s| SCHEMES.iter().find(|(name, _)| *name == s)) {
            Some((_, muxer)) => Ok(Self::Network { url: text.to_string(), muxer: (*muxer).to_string() }),
            None => Err(StreamError::UnknownOutput { output: text.to_string() }),
        }
    }
}

impl OutputTarget {
    /// What the output is called in stats and logs.
    pub fn name(&self) -> String {
        match self {
            Self::V4l2 { device } => format!("v4l2:{}", device.display()),
            Self::Network { url, .. } => url.clone(),
            Self::Record { path, .. } => format!("record:{}", path.display()),
        }
    }

    /// Checks what can be checked before the first frame: that a v4l2 device exists and is a
    /// loopback device (a real camera cannot take frames).
    ///
    /// # Errors
    /// [`StreamError::NoDevice`] or [`StreamError::NotLoopback`].
    pub fn check(&self) -> Result<(), StreamError> {
        let Self::V4l2 { device } = self else { return Ok(()) };
        if !device.exists() {
            return Err(StreamError::NoDevice { device: device.clone() });
        }
        if !is_loopback(device) {
            return Err(StreamError::NotLoopback { device: device.clone() });
        }
        Ok(())
    }
}

/// Whether a video device is a v4l2loopback one: those are virtual, with no hardware parent.
fn is_loopback(device: &Path) -> bool {
    let Some(name) = device.canonicalize().ok().and_then(|d| d.file_name().map(|n| n.to_os_string())) else {
        return false;
    };
    let class = Path::new("/sys/class/video4linux").join(&name);
    let virtual_device = Path::new("/sys/devices/virtual/video4linux").join(&name).exists();
    let driver_name = std::fs::read_to_string(class.join("name")).unwrap_or_default().to_ascii_lowercase();
    virtual_device || driver_name.contains("loopback") || driver_name.contains("dummy")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_parse_by_scheme() {
        assert_eq!(
            "udp://127.0.0.1:5000".parse::<OutputTarget>().unwrap(),
            OutputTarget::Network { url: "udp://127.0.0.1:5000".into(), muxer: "mpegts".into() }
        );
        assert!(
            matches!("rtmp://host/live/key".parse::<OutputTarget>().unwrap(), OutputTarget::Network { muxer, .. } if muxer == "flv")
        );
        assert_eq!(
            "v4l2:/dev/video9".parse::<OutputTarget>().unwrap(),
            OutputTarget::V4l2 { device: "/dev/video9".into() }
        );
        let err = "gopher://x".parse::<OutputTarget>().unwrap_err().to_string();
        assert!(err.contains("gopher://x") && err.contains("udp://"), "{err}");
    }

    #[test]
    fn a_missing_device_says_how_to_make_one() {
        let err = OutputTarget::V4l2 { device: "/dev/video-none".into() }.check().unwrap_err().to_string();
        assert!(err.contains("/dev/video-none") && err.contains("v4l2loopback"), "{err}");
    }
}
