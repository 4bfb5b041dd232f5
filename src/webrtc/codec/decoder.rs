//! The browser's frames (VP8 or H.264) decoded into RGB pictures.

use ffmpeg::{codec, format::Pixel, software::scaling, util::frame::video::Video, Dictionary, Packet};
use ffmpeg_next as ffmpeg;
use image::RgbImage;

use super::{vp8_header::keyframe_size, LiveCodec};
use crate::video::{init_ffmpeg, scalable, MediaCause};

/// Decodes one codec's frames from the browser.
pub struct VideoDecoder {
    codec: LiveCodec,
    decoder: ffmpeg::decoder::Video,
    decoded: Video,
    rgb: Video,
    scaler: Option<(scaling::Context, (Pixel, u32, u32))>,
    max_pixels: u64,
}

impl VideoDecoder {
    /// A decoder for `codec` that refuses frames over `max_pixels`.
    ///
    /// # Errors
    /// When this ffmpeg has no decoder for it.
    pub fn new(codec: LiveCodec, max_pixels: u64) -> Result<Self, MediaCause> {
        init_ffmpeg()?;
        let found =
            ffmpeg::decoder::find(codec.ffmpeg_id()).ok_or_else(|| format!("this ffmpeg has no {codec} decoder"))?;
        let mut context = codec::context::Context::new_with_codec(found);
        // One frame in, one frame out: frame threads would add a frame of delay each.
        context.set_threading(ffmpeg::threading::Config {
            kind: ffmpeg::threading::Type::Slice,
            count: 1,
            ..Default::default()
        });
        // ffmpeg's own limit too: a frame over it is refused before its picture is allocated
        // (H.264 says its size only deep in its parameter sets).
        let mut options = Dictionary::new();
        options.set("max_pixels", &max_pixels.min(i32::MAX as u64).to_string());
        let decoder = context.decoder().open_as_with(found, options)?.video()?;
        Ok(Self { codec, decoder, decoded: Video::empty(), rgb: Video::empty(), scaler: None, max_pixels })
    }

    /// The codec this decoder takes.
    pub fn codec(&self) -> LiveCodec {
        self.codec
    }

    /// Decodes one frame's data; the picture when one is complete.
    ///
    /// # Errors
    /// Damaged data, a frame over the pixel limit or in a format this program cannot convert.
    pub fn decode(&mut self, data: &[u8]) -> Result<Option<RgbImage>, MediaCause> {
        // A VP8 keyframe says its size in its header: a size over the limit is refused before
        // the decoder sees it.
        if self.codec == LiveCodec::Vp8 {
            if let Some((width, height)) = keyframe_size(data) {
                self.check(width, height)?;
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
        self.check(width, height)?;
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

    fn check(&self, width: u32, height: u32) -> Result<(), MediaCause> {
        if u64::from(width) * u64::from(height) > self.max_pixels {
            return Err(format!("a frame of {width}×{height}, over the limit of {} pixels", self.max_pixels).into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vp8_frame_over_the_limit_is_refused_before_decoding() {
        let mut decoder = VideoDecoder::new(LiveCodec::Vp8, 640 * 480).unwrap();
        let huge = [0x50, 0x2a, 0x01, 0x9d, 0x01, 0x2a, 0xff, 0x3f, 0xff, 0x3f, 0, 0];
        let error = decoder.decode(&huge).unwrap_err().to_string();
        assert!(error.contains("16383×16383"), "{error}");
    }
}
