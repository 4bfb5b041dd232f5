//! VP8 through the ffmpeg libraries the program already links: ffmpeg's own decoder for what
//! the browser sends, libvpx tuned for delay (realtime deadline, no look-ahead, error
//! resilient, a keyframe on request) for what goes back.

use ffmpeg::{codec, format::Pixel, software::scaling, util::frame::video::Video, util::picture, Dictionary, Packet};
use ffmpeg_next as ffmpeg;
use image::RgbImage;

use crate::video::{init_ffmpeg, scalable, MediaCause};

/// Decodes the browser's VP8 frames into RGB pictures.
pub struct Vp8Decoder {
    decoder: ffmpeg::decoder::Video,
    decoded: Video,
    rgb: Video,
    scaler: Option<(scaling::Context, (Pixel, u32, u32))>,
    max_pixels: u64,
}

impl Vp8Decoder {
    /// A decoder that refuses frames over `max_pixels`.
    ///
    /// # Errors
    /// When this ffmpeg has no VP8 decoder.
    pub fn new(max_pixels: u64) -> Result<Self, MediaCause> {
        init_ffmpeg()?;
        let codec = ffmpeg::decoder::find(codec::Id::VP8).ok_or("this ffmpeg has no VP8 decoder")?;
        let mut context = codec::context::Context::new_with_codec(codec);
        // One frame in, one frame out: frame threads would add a frame of delay each.
        context.set_threading(ffmpeg::threading::Config {
            kind: ffmpeg::threading::Type::Slice,
            count: 1,
            ..Default::default()
        });
        let decoder = context.decoder().video()?;
        Ok(Self { decoder, decoded: Video::empty(), rgb: Video::empty(), scaler: None, max_pixels })
    }

    /// Decodes one frame's data; the picture when one is complete.
    ///
    /// # Errors
    /// Damaged data, a frame over the pixel limit or in a format this program cannot convert.
    pub fn decode(&mut self, data: &[u8]) -> Result<Option<RgbImage>, MediaCause> {
        // A keyframe says its size in its header: a size over the limit is refused before the
        // decoder allocates a frame of it.
        if let Some((width, height)) = keyframe_size(data) {
            if u64::from(width) * u64::from(height) > self.max_pixels {
                return Err(format!("a frame of {width}×{height}, over the limit of {} pixels", self.max_pixels).into());
            }
        }
        self.decoder.send_packet(&Packet::copy(data))?;
        match self.decoder.receive_frame(&mut self.decoded) {
            Ok(()) => {}
            Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        let (format, width, height) = (self.decoded.format(), self.decoded.width(), self.decoded.height());
        if width == 0 || height == 0 || !scalable(format) {
            return Err(format!("a frame of {width}×{height} in {format:?}, which this program cannot convert").into());
        }
        if u64::from(width) * u64::from(height) > self.max_pixels {
            return Err(format!("a frame of {width}×{height}, over the limit of {} pixels", self.max_pixels).into());
        }
        let shape = (format, width, height);
        if self.scaler.as_ref().is_none_or(|(_, s)| *s != shape) {
            let context =
                scaling::Context::get(format, width, height, Pixel::RGB24, width, height, scaling::Flags::BILINEAR)?;
            self.scaler = Some((context, shape));
            self.rgb = Video::empty();
        }
        if let Some((scaler, _)) = self.scaler.as_mut() {
            scaler.run(&self.decoded, &mut self.rgb)?;
        }
        let mut image = RgbImage::new(width, height);
        let stride = self.rgb.stride(0);
        let data = self.rgb.data(0);
        let row = 3 * width as usize;
        for (y, out) in image.chunks_exact_mut(row).enumerate() {
            out.copy_from_slice(&data[y * stride..y * stride + row]);
        }
        Ok(Some(image))
    }
}

/// The size a VP8 keyframe declares (RFC 6386 §9.1: a 3-byte frame tag whose lowest bit is 0
/// for a keyframe, the start code 9d 01 2a, then 14-bit width and height); none for an
/// inter frame or data too short to say.
pub fn keyframe_size(data: &[u8]) -> Option<(u32, u32)> {
    let [tag, _, _, 0x9d, 0x01, 0x2a, w0, w1, h0, h1, ..] = *data else { return None };
    if tag & 1 != 0 {
        return None;
    }
    let size = |lo: u8, hi: u8| u32::from(u16::from_le_bytes([lo, hi]) & 0x3fff);
    Some((size(w0, w1), size(h0, h1)))
}

/// Encodes RGB pictures as VP8 for the browser, for the lowest delay.
pub struct Vp8Encoder {
    encoder: ffmpeg::encoder::Video,
    scaler: scaling::Context,
    rgb: Video,
    yuv: Video,
    size: (u32, u32),
    packet: Packet,
}

impl Vp8Encoder {
    /// An encoder for `width`×`height` pictures at about `bitrate` bits a second.
    ///
    /// # Errors
    /// When this ffmpeg has no libvpx, or the encoder refuses the settings.
    pub fn new(width: u32, height: u32, fps: u32, bitrate: usize) -> Result<Self, MediaCause> {
        init_ffmpeg()?;
        let codec = ffmpeg::encoder::find_by_name("libvpx").ok_or("this ffmpeg has no VP8 encoder (libvpx)")?;
        let mut encoder = codec::context::Context::new_with_codec(codec).encoder().video()?;
        // VP8 wants even sizes; an odd row or column is scaled away.
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
        options.set("deadline", "realtime");
        options.set("cpu-used", "8");
        options.set("lag-in-frames", "0");
        options.set("error-resilient", "1");
        options.set("auto-alt-ref", "0");
        options.set("threads", "1");
        let encoder = encoder.open_with(options)?;
        let scaler =
            scaling::Context::get(Pixel::RGB24, width, height, Pixel::YUV420P, w, h, scaling::Flags::BILINEAR)?;
        let mut rgb = Video::new(Pixel::RGB24, width, height);
        rgb.set_pts(None);
        Ok(Self {
            encoder,
            scaler,
            rgb,
            yuv: Video::new(Pixel::YUV420P, w, h),
            size: (width, height),
            packet: Packet::empty(),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyframe_says_its_size_and_an_inter_frame_does_not() {
        // 640×480 with the scaling bits set (they are not part of the size).
        let key = [0x50, 0x2a, 0x01, 0x9d, 0x01, 0x2a, 0x80, 0x42, 0xe0, 0x41, 0, 0];
        assert_eq!(keyframe_size(&key), Some((640, 480)));
        let mut inter = key;
        inter[0] |= 1;
        assert_eq!(keyframe_size(&inter), None);
        assert_eq!(keyframe_size(&key[..6]), None);
    }

    #[test]
    fn a_frame_over_the_limit_is_refused_before_decoding() {
        let mut decoder = Vp8Decoder::new(640 * 480).unwrap();
        let huge = [0x50, 0x2a, 0x01, 0x9d, 0x01, 0x2a, 0xff, 0x3f, 0xff, 0x3f, 0, 0];
        let error = decoder.decode(&huge).unwrap_err().to_string();
        assert!(error.contains("16383×16383"), "{error}");
    }
}
