//! Opening media files with ffmpeg on our terms. A file may only be read by the demuxer of a
//! real media container, and only through the protocol its name means: an upload that is an
//! HLS playlist or a concat list naming other files (or a URL) is refused, not followed. Paths
//! go to ffmpeg as bytes, so a name that is not UTF-8 works as it does for pictures.

use std::{ffi::CString, os::unix::ffi::OsStrExt, path::Path, ptr};

use ffmpeg_next as ffmpeg;

/// The demuxers a video input may be read with: containers and elementary streams that hold
/// their own media. Missing on purpose: playlists (hls, dash), concat lists, image sequences,
/// `tee`, `data` and everything else that names other files or protocols.
const MEDIA_DEMUXERS: &str = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts,mpeg,nut,ogg,asf,mxf,\
h264,hevc,m4v,mpegvideo,ivf,obu,yuv4mpegpipe,dv,gif,mjpeg,wav";

/// The protocols a URL input may use: the object store's presigned URLs.
const URL_PROTOCOLS: &str = "http,https,tcp,tls,crypto";

/// `path` as ffmpeg's name for it: a local file always through the `file:` protocol (so that
/// `a:b.mp4` is a file, not protocol `a`), a URL as it is.
fn ffmpeg_name(path: &Path) -> Result<CString, ffmpeg::Error> {
    let mut bytes = Vec::new();
    if !super::is_url(path) {
        bytes.extend_from_slice(b"file:");
    }
    bytes.extend_from_slice(path.as_os_str().as_bytes());
    CString::new(bytes).map_err(|_| invalid())
}

/// A name with a NUL byte in it, which no file has.
fn invalid() -> ffmpeg::Error {
    ffmpeg::Error::Other { errno: ffmpeg::util::error::EINVAL }
}

/// Opens `path` (a local file, or an `http(s)` URL from our storage) for reading, probes its
/// streams, and refuses any container that is not a media container.
///
/// # Errors
/// ffmpeg's error; `InvalidData` for a file no allowed demuxer reads.
pub fn open_input(path: &Path) -> Result<ffmpeg::format::context::Input, ffmpeg::Error> {
    let name = ffmpeg_name(path)?;
    let mut options = ffmpeg::Dictionary::new();
    options.set("format_whitelist", MEDIA_DEMUXERS);
    options.set("protocol_whitelist", if super::is_url(path) { URL_PROTOCOLS } else { "file" });
    // SAFETY: the same calls ffmpeg-next's `format::input_with_dictionary` makes, with a name
    // built from bytes: `ps` is null or a context avformat_open_input allocated, closed on every
    // error path after it; the dictionary is handed back to Rust to be freed.
    unsafe {
        let mut ps = ptr::null_mut();
        let mut opts = options.disown();
        let opened = ffmpeg::ffi::avformat_open_input(&mut ps, name.as_ptr(), ptr::null_mut(), &mut opts);
        drop(ffmpeg::Dictionary::own(opts));
        if opened < 0 {
            return Err(ffmpeg::Error::from(opened));
        }
        let found = ffmpeg::ffi::avformat_find_stream_info(ps, ptr::null_mut());
        if found < 0 {
            ffmpeg::ffi::avformat_close_input(&mut ps);
            return Err(ffmpeg::Error::from(found));
        }
        Ok(ffmpeg::format::context::Input::wrap(ps))
    }
}

/// Opens `path` for writing in `format` (by name), else the format its extension names,
/// passing `options` to the I/O layer (network outputs' time-outs).
///
/// # Errors
/// ffmpeg's error.
pub fn open_output(
    path: &Path,
    format: Option<&str>,
    options: ffmpeg::Dictionary,
) -> Result<ffmpeg::format::context::Output, ffmpeg::Error> {
    // An output is a local file or a stream URL the user named (rtmp://, srt://, /dev/video9):
    // given to ffmpeg as it is, since its protocol is the point.
    let name = CString::new(path.as_os_str().as_bytes()).map_err(|_| invalid())?;
    let format = format.map(CString::new).transpose().map_err(|_| invalid())?;
    // SAFETY: as ffmpeg-next's `format::output_as_with`: the context is freed on the error path
    // after it was allocated; the dictionary is handed back to Rust to be freed.
    unsafe {
        let mut ps = ptr::null_mut();
        let allocated = ffmpeg::ffi::avformat_alloc_output_context2(
            &mut ps,
            ptr::null_mut(),
            format.as_ref().map_or(ptr::null(), |f| f.as_ptr()),
            name.as_ptr(),
        );
        if allocated < 0 {
            return Err(ffmpeg::Error::from(allocated));
        }
        let mut opts = options.disown();
        let opened =
            ffmpeg::ffi::avio_open2(&mut (*ps).pb, name.as_ptr(), ffmpeg::ffi::AVIO_FLAG_WRITE, ptr::null(), &mut opts);
        drop(ffmpeg::Dictionary::own(opts));
        if opened < 0 {
            ffmpeg::ffi::avformat_free_context(ps);
            return Err(ffmpeg::Error::from(opened));
        }
        Ok(ffmpeg::format::context::Output::wrap(ps))
    }
}

/// Whether swscale can take frames of `format` as input: a stream whose pixel format the
/// demuxer could not tell (none) or swscale does not know would abort the process inside it.
pub fn scalable(format: ffmpeg::format::Pixel) -> bool {
    if format == ffmpeg::format::Pixel::None {
        return false;
    }
    // SAFETY: sws_isSupportedInput only looks the format up in a table.
    unsafe { ffmpeg::ffi::sws_isSupportedInput(format.into()) > 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_name_always_goes_through_the_file_protocol() {
        assert_eq!(ffmpeg_name(Path::new("a:b.mp4")).unwrap().as_bytes(), b"file:a:b.mp4");
        assert_eq!(ffmpeg_name(Path::new("https://h/x.mp4?sig")).unwrap().as_bytes(), b"https://h/x.mp4?sig");
    }

    #[test]
    fn a_playlist_naming_another_file_is_refused() {
        super::super::init_ffmpeg().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let playlist = dir.path().join("x.m3u8");
        std::fs::write(&playlist, "#EXTM3U\n#EXTINF:1.0,\n/etc/passwd\n#EXT-X-ENDLIST\n").unwrap();
        assert!(open_input(&playlist).is_err());
        let concat = dir.path().join("x.txt");
        std::fs::write(&concat, "ffconcat version 1.0\nfile /etc/passwd\n").unwrap();
        assert!(open_input(&concat).is_err());
    }

    #[test]
    fn unknown_pixel_formats_are_not_scalable() {
        assert!(!scalable(ffmpeg::format::Pixel::None));
        assert!(scalable(ffmpeg::format::Pixel::YUV420P));
    }
}
