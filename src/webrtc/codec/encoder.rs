//! Swapped pictures encoded for the browser, for the lowest delay: libvpx's realtime mode for
//! VP8, libx264's constrained baseline with zerolatency for H.264.

use ffmpeg::{codec, format::Pixel, software::scaling, util::frame::video::Video, util::picture, Dictionary, Packet};
use ffmpeg_next as ffmpeg;
use image::RgbImage;

use super::LiveCodec;
use crate::video::{init_ffmpeg, MediaCause};

/// Encodes RGB pictures in one codec.
pub struct VideoEncoder {
    codec: LiveCodec,
    encoder: ffmpeg::encoder::Video,
    scaler: scaling::Context,
    rgb: Video,
    yuv: Video,
    size: (u32, u32),
    packet: Packet,
}

impl VideoEncoder {
    /// An encoder for `width`×`height` pictures at about `bitrate` bits a second.
    ///
    /// # Errors
    /// When this ffmpeg has no encoder for the codec, or it refuses the settings.
    pub fn new(codec: LiveCodec, width: u32, height: u32, fps: u32, bitrate: usize) -> Result<Self, MediaCause> {
        init_ffmpeg()?;
        let name = match codec {
            LiveCodec::Vp8 => "libvpx",
            LiveCodec::H264 => "libx264",
        };
        let found = ffmpeg::encoder::find_by_name(name)
            .ok_or_else(|| format!("this ffmpeg has no {codec} encoder ({name})"))?;
        let mut encoder = codec::context::Context::new_with_codec(found).encoder().video()?;
        // 4:2:0 wants even sizes; an odd row or column is scaled away.
        let (w, h) = ((width & !1).max(2), (height & !1).max(2));
        encoder.set_width(w);
        encoder.set_height(h);
        encoder.set_format(Pixel::YUV420P);
        encoder.set_time_base((1, 1000));
        encoder.set_frame_rate(Some((i32::try_from(fps).unwrap_or(30), 1)));
        encoder.set_bit_rate(bitrate);
        encoder.set_max_b_frames(0);
        // A keyframe every two seconds as well as on request: a late joiner's or a lossy
        // link's picture recovers on its own.
        encoder.set_gop(fps.saturating_mul(2).max(1));
        let mut options = Dictionary::new();
        match codec {
            LiveCodec::Vp8 => {
                options.set("deadline", "realtime");
                options.set("cpu-used", "8");
                options.set("lag-in-frames", "0");
                options.set("error-resilient", "1");
                options.set("auto-alt-ref", "0");
            }
            LiveCodec::H264 => {
                // What every browser decodes (profile-level-id 42e01f), no frame held back,
                // the parameter sets in-band before each keyframe (no global header).
                options.set("preset", "ultrafast");
                options.set("tune", "zerolatency");
                options.set("profile", "baseline");
                options.set("x264-params", "repeat-headers=1:sliced-threads=0");
                // A keyframe asked for is one the browser can start from.
                options.set("forced-idr", "1");
            }
        }
        options.set("threads", "1");
        let encoder = encoder.open_with(options)?;
        let scaler =
            scaling::Context::get(Pixel::RGB24, width, height, Pixel::YUV420P, w, h, scaling::Flags::BILINEAR)?;
        let mut rgb = Video::new(Pixel::RGB24, width, height);
        rgb.set_pts(None);
        Ok(Self {
            codec,
            encoder,
            scaler,
            rgb,
            yuv: Video::new(Pixel::YUV420P, w, h),
            size: (width, height),
            packet: Packet::empty(),
        })
    }

    /// The codec this encoder writes.
    pub fn codec(&self) -> LiveCodec {
        self.codec
    }

    /// The picture size this encoder takes.
    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    /// Encodes `image` at `pts_ms`; `keyframe` forces one. Each frame's data goes to `out`.
    ///
    /// # Errors
    /// A picture of another size, or the encoder failing.
    pub fn encode(
        &mut self,
        image: &RgbImage,
        pts_ms: i64,
        keyframe: bool,
        mut out: impl FnMut(&[u8], bool),
    ) -> Result<(), MediaCause> {
        if image.dimensions() != self.size {
            let (w, h) = image.dimensions();
            return Err(format!("a picture of {w}×{h} for an encoder of {}×{}", self.size.0, self.size.1).into());
        }
        let stride = self.rgb.stride(0);
        let row = 3 * self.size.0 as usize;
        let data = self.rgb.data_mut(0);
        for (y, line) in image.chunks_exact(row).enumerate() {
            data[y * stride..y * stride + row].copy_from_slice(line);
        }
        self.scaler.run(&self.rgb, &mut self.yuv)?;
        self.yuv.set_pts(Some(pts_ms));
        self.yuv.set_kind(if keyframe { picture::Type::I } else { picture::Type::None });
        self.encoder.send_frame(&self.yuv)?;
        while self.encoder.receive_packet(&mut self.packet).is_ok() {
            if let Some(data) = self.packet.data() {
                out(data, self.packet.is_key());
            }
        }
        Ok(())
    }
}
