//! The live session's video codecs, through the ffmpeg libraries the program already links:
//! ffmpeg's own decoders for what the browser sends (VP8 or H.264), and for what goes back the
//! same codec, tuned for delay (libvpx realtime, or libx264 constrained baseline with
//! zerolatency), with a keyframe on request.

mod decoder;
mod encoder;
mod vp8_header;

pub use decoder::VideoDecoder;
pub use encoder::VideoEncoder;

/// A video codec a live session can take from the browser and send back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LiveCodec {
    Vp8,
    H264,
}

impl LiveCodec {
    /// The codec of an RTP payload type str0m negotiated; none for one we do not take.
    pub fn of(codec: str0m::format::Codec) -> Option<Self> {
        match codec {
            str0m::format::Codec::Vp8 => Some(Self::Vp8),
            str0m::format::Codec::H264 => Some(Self::H264),
            _ => None,
        }
    }

    /// Its name in an SDP `a=rtpmap` line.
    pub fn sdp_name(self) -> &'static str {
        match self {
            Self::Vp8 => "VP8",
            Self::H264 => "H264",
        }
    }

    fn ffmpeg_id(self) -> ffmpeg_next::codec::Id {
        match self {
            Self::Vp8 => ffmpeg_next::codec::Id::VP8,
            Self::H264 => ffmpeg_next::codec::Id::H264,
        }
    }
}

impl std::fmt::Display for LiveCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Vp8 => "VP8",
            Self::H264 => "H.264",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn picture(frame: u32) -> RgbImage {
        RgbImage::from_fn(320, 240, |x, y| {
            let v = u8::try_from((x + y + frame * 4) % 256).unwrap_or(0);
            Rgb([v, 255 - v, u8::try_from((x * 3) % 256).unwrap_or(0)])
        })
    }

    /// What the encoder sends, the decoder reads back as the same picture (lossy, so close).
    fn round_trip(codec: LiveCodec) {
        let mut encoder = VideoEncoder::new(codec, 320, 240, 30, 1_500_000).unwrap();
        let mut decoder = VideoDecoder::new(codec, 1 << 20).unwrap();
        let mut decoded = Vec::new();
        for i in 0..10 {
            let mut packets = Vec::new();
            encoder.encode(&picture(i), i64::from(i) * 33, i == 0, |data, _| packets.push(data.to_vec())).unwrap();
            for data in packets {
                if let Some(image) = decoder.decode(&data).unwrap() {
                    decoded.push(image);
                }
            }
        }
        assert!(decoded.len() >= 8, "{codec}: {} of 10 frames decoded", decoded.len());
        let last = decoded.last().unwrap();
        assert_eq!(last.dimensions(), (320, 240));
        let want = picture(u32::try_from(9 - (10 - decoded.len())).unwrap());
        let diff: f64 = last.as_raw().iter().zip(want.as_raw()).map(|(a, b)| f64::from(a.abs_diff(*b))).sum::<f64>()
            / want.as_raw().len() as f64;
        assert!(diff < 12.0, "{codec}: mean difference {diff:.1} grey levels");
    }

    #[test]
    fn vp8_goes_there_and_back() {
        round_trip(LiveCodec::Vp8);
    }

    #[test]
    fn h264_goes_there_and_back() {
        round_trip(LiveCodec::H264);
    }

    #[test]
    fn an_h264_frame_over_the_limit_is_refused() {
        let mut encoder = VideoEncoder::new(LiveCodec::H264, 320, 240, 30, 500_000).unwrap();
        let mut decoder = VideoDecoder::new(LiveCodec::H264, 160 * 120).unwrap();
        let mut packets = Vec::new();
        encoder.encode(&picture(0), 0, true, |data, _| packets.push(data.to_vec())).unwrap();
        let error = packets.iter().find_map(|p| decoder.decode(p).err()).expect("the frame was refused");
        assert!(!error.to_string().is_empty());
    }
}
