//! The invisible watermark: RivaGAN (the `invisible-watermark` package's ONNX encoder and
//! decoder), 32 bits: "FS", then the signing key's 11-bit short id in an extended Hamming
//! (16,11) code, read back by the nearest codeword to the decoder's logits (a flipped bit is
//! corrected, not reported as another key). The networks are fully
//! convolutional, and slow at full size on a CPU (about a second for 640×480 here), so the mark is made
//! on the picture brought to a small working size and its residual spread back over the full
//! picture; the reader brings what it checks to the same working size. Measured that way it
//! survives JPEG 75, a 0.75 downscale, a 10 % crop, +10 % brightness and H.264 CRF 28, at
//! PSNR ≥ 40 dB (`cargo test --release --test tests -- provenance --nocapture`).

use image::{imageops::FilterType, Rgb32FImage, RgbImage};
use ort::value::TensorRef;

use crate::{
    models::VerifiedModel,
    runtime::{ModelSession, RuntimeError, SessionFactory},
};

/// The payload's first half: "FS".
pub const MAGIC: u16 = 0x4653;
/// Bits RivaGAN carries.
pub const PAYLOAD_BITS: usize = 32;
/// The working short side for pictures.
pub const PICTURE_SIDE: u32 = 240;
/// The working short side for video frames: a quarter of the picture side's cost.
pub const VIDEO_SIDE: u32 = 120;
/// Mean |logit| over the 32 bits below which nothing is reported found. Marked media read
/// 5–16 here, clean media 1.3–3.5.
pub const MIN_STRENGTH: f32 = 4.0;
/// Bits of "FS" that may read wrong in a found mark.
pub const MAX_MAGIC_ERRORS: u32 = 1;

/// How often a video's residual is made anew: every `refresh_every`th frame; between, the last
/// one is laid on (a fifth of a second of motion does not wash it out, measured on the sample
/// clip).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cadence {
    pub side: u32,
    pub refresh_every: u32,
}

impl Cadence {
    /// A picture: its own residual at the picture side.
    pub const PICTURE: Self = Self { side: PICTURE_SIDE, refresh_every: 1 };
    /// Video frames in files: a residual every sixth frame. Measured on the sample clip at
    /// 640×480: every 3rd 30.5 fps, 6th 44.7, 12th 58.4 (no watermark: 92.8); after CRF 28 the
    /// mark read 8.0, 8.9 and 7.8 strong, after a 10 % crop 7.1, 8.2 and 6.8.
    pub const VIDEO: Self = Self { side: VIDEO_SIDE, refresh_every: 6 };
}

/// Key ids the payload carries: 11 bits.
pub const KEY_IDS: u16 = 1 << 11;

/// The extended Hamming (16,11) codeword of `id` (its low 11 bits): data at the positions 1…15
/// that are not powers of two, parity at 1, 2, 4, 8, and the overall parity at 16.
fn hamming_codeword(id: u16) -> u16 {
    let mut bits = [0u8; 16];
    let mut data = id & (KEY_IDS - 1);
    for (pos, bit) in bits.iter_mut().enumerate().skip(1) {
        if !pos.is_power_of_two() {
            *bit = (data & 1) as u8;
            data >>= 1;
        }
    }
    for p in [1usize, 2, 4, 8] {
        bits[p] = (1..16).filter(|&q| q != p && q & p != 0).fold(0, |acc, q| acc ^ bits[q]);
    }
    bits[0] = bits[1..].iter().fold(0, |acc, b| acc ^ b);
    bits.iter().enumerate().fold(0u16, |word, (i, &b)| word | (u16::from(b) << i))
}

/// The 32 bits a key id makes.
pub fn payload_bits(key_id: u16) -> [f32; PAYLOAD_BITS] {
    let word = (u32::from(MAGIC) << 16) | u32::from(hamming_codeword(key_id));
    std::array::from_fn(|i| if word & (1 << (31 - i)) != 0 { 1.0 } else { 0.0 })
}

/// The key id whose codeword agrees best with the last 16 logits.
fn nearest_key_id(logits: &[f32]) -> u16 {
    let score = |id: u16| {
        let word = hamming_codeword(id);
        logits.iter().enumerate().map(|(i, &l)| if word & (1 << (15 - i)) != 0 { l } else { -l }).sum::<f32>()
    };
    (0..KEY_IDS).max_by(|&a, &b| score(a).total_cmp(&score(b))).unwrap_or(0)
}

/// The size `width`×`height` is brought to for the networks: short side `side`, aspect kept.
fn working_size(width: u32, height: u32, side: u32) -> (u32, u32) {
    let short = width.min(height).max(1);
    let scale = f64::from(side) / f64::from(short);
    let w = (f64::from(width) * scale).round().max(1.0) as u32;
    let h = (f64::from(height) * scale).round().max(1.0) as u32;
    (w, h)
}

/// `picture` at the working size, in the networks' input: 1×3×1×H×W, BGR (as the package feeds
/// OpenCV's frames), in −1…1.
fn network_input(picture: &RgbImage, side: u32, tensor: &mut Vec<f32>) -> (u32, u32) {
    let (w, h) = working_size(picture.width(), picture.height(), side);
    let work = image::imageops::resize(picture, w, h, FilterType::Triangle);
    let plane = (w * h) as usize;
    tensor.clear();
    tensor.resize(plane * 3, 0.0);
    for (i, p) in work.pixels().enumerate() {
        // BGR planes.
        tensor[i] = f32::from(p[2]) / 127.5 - 1.0;
        tensor[plane + i] = f32::from(p[1]) / 127.5 - 1.0;
        tensor[2 * plane + i] = f32::from(p[0]) / 127.5 - 1.0;
    }
    (w, h)
}

fn check_interface(session: &ModelSession, inputs: &[&str]) -> Result<(), RuntimeError> {
    let found = session.input_shapes();
    let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    if names != inputs {
        return Err(session.interface_error(format!("expected inputs {inputs:?}, found {names:?}")));
    }
    match found.first() {
        Some((_, shape)) if shape.len() == 5 && shape[1] == 3 && shape[2] == 1 => Ok(()),
        other => Err(session.interface_error(format!("expected a 1×3×1×H×W frame, found {other:?}"))),
    }
}

/// Lays the watermark on pictures and frames.
pub struct Watermarker {
    encoder: ModelSession,
    bits: [f32; PAYLOAD_BITS],
    cadence: Cadence,
    frames_since: u32,
    /// The last residual, at full size (RGB, grey levels ×1), and the size it is for.
    residual: Vec<i16>,
    residual_size: (u32, u32),
    tensor: Vec<f32>,
}

impl std::fmt::Debug for Watermarker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watermarker").field("cadence", &self.cadence).finish_non_exhaustive()
    }
}

impl Watermarker {
    /// A marker for `key_id` on the encoder `model`.
    ///
    /// # Errors
    /// When the session cannot be built or its inputs are not RivaGAN's encoder's.
    pub fn build(
        factory: &SessionFactory,
        model: &VerifiedModel,
        key_id: u16,
        cadence: Cadence,
    ) -> Result<Self, RuntimeError> {
        let encoder = factory.build(&model.path, &model.name)?;
        check_interface(&encoder, &["frame", "data"])?;
        Ok(Self {
            encoder,
            bits: payload_bits(key_id),
            cadence,
            frames_since: 0,
            residual: Vec::new(),
            residual_size: (0, 0),
            tensor: Vec::new(),
        })
    }

    /// Marks `picture` in place.
    ///
    /// # Errors
    /// When the encoder fails.
    pub fn mark(&mut self, picture: &mut RgbImage) -> Result<(), RuntimeError> {
        let size = picture.dimensions();
        if size != self.residual_size || self.frames_since >= self.cadence.refresh_every.max(1) {
            self.refresh(picture)?;
            self.frames_since = 0;
        }
        self.frames_since += 1;
        apply_residual(&self.residual, picture);
        Ok(())
    }

    /// Makes the residual for `picture` and hands it back in `into` (its buffer reused).
    fn residual_into(&mut self, picture: &RgbImage, into: &mut Vec<i16>) -> Result<(), RuntimeError> {
        self.refresh(picture)?;
        std::mem::swap(into, &mut self.residual);
        self.residual_size = (0, 0);
        Ok(())
    }

    /// Makes the residual for `picture`: the encoder's output less its input, at the working
    /// size, spread over the full size.
    fn refresh(&mut self, picture: &RgbImage) -> Result<(), RuntimeError> {
        let (w, h) = network_input(picture, self.cadence.side, &mut self.tensor);
        let label = self.encoder.label().to_string();
        let inference = |source: ort::Error| RuntimeError::Inference { model: label.clone(), source };
        let shape = [1i64, 3, 1, i64::from(h), i64::from(w)];
        let frame = TensorRef::from_array_view((shape, &self.tensor[..])).map_err(inference)?;
        let data = TensorRef::from_array_view(([1i64, PAYLOAD_BITS as i64], &self.bits[..])).map_err(inference)?;
        let outputs = self.encoder.run(ort::inputs!["frame" => frame, "data" => data])?;
        let (out_shape, out) = outputs[0].try_extract_tensor::<f32>().map_err(inference)?;
        let plane = (w * h) as usize;
        if out.len() != plane * 3 {
            return Err(RuntimeError::Interface {
                model: label,
                detail: format!("its output {out_shape:?} is not the frame's size"),
            });
        }
        // Residual in grey levels, RGB interleaved, at the working size; held as 0.5 + r/510
        // because image's float resize clamps to 0…1.
        let mut small = Rgb32FImage::new(w, h);
        for (i, p) in small.pixels_mut().enumerate() {
            for (c, plane_index) in [(0usize, 2usize), (1, 1), (2, 0)] {
                let marked = (out[plane_index * plane + i].clamp(-1.0, 1.0) + 1.0) * 127.5;
                let original = (self.tensor[plane_index * plane + i] + 1.0) * 127.5;
                p[c] = 0.5 + (marked - original) / 510.0;
            }
        }
        drop(outputs);
        let (width, height) = picture.dimensions();
        let full = if (w, h) == (width, height) {
            small
        } else {
            image::imageops::resize(&small, width, height, FilterType::Triangle)
        };
        self.residual.clear();
        self.residual.extend(full.as_raw().iter().map(|v| ((v - 0.5) * 510.0).round() as i16));
        self.residual_size = (width, height);
        Ok(())
    }
}

fn apply_residual(residual: &[i16], picture: &mut RgbImage) {
    for (value, add) in picture.as_mut().iter_mut().zip(residual) {
        *value = (i16::from(*value) + add).clamp(0, 255) as u8;
    }
}

/// A residual made by the helper, for frames of `size`.
struct Residual {
    values: Vec<i16>,
    size: (u32, u32),
    /// The frame it was made from, handed back for the next request.
    frame: RgbImage,
}

/// The watermark for live pipelines: the encoder runs on its own thread, on a copy of a recent
/// frame, and each frame gets the newest residual laid on (a copy and an add: about a
/// millisecond at 640×480), so the stage never waits for the network. Only the first frame of
/// a size waits for its residual (at most [`FIRST_RESIDUAL_DEADLINE`]): no frame goes out
/// unmarked.
pub struct LiveWatermarker {
    requests: crossbeam_channel::Sender<RgbImage>,
    residuals: crossbeam_channel::Receiver<Result<Residual, RuntimeError>>,
    current: Option<Residual>,
    spare: Option<RgbImage>,
    busy: bool,
    /// Frames marked with the current residual.
    age: u32,
    helper: Option<std::thread::JoinHandle<()>>,
}

/// The most frames one live residual is laid on: past it the stage waits for the next (a
/// machine too loaded to keep up gets a little more delay, not a mark washed out by motion).
pub const MAX_RESIDUAL_AGE: u32 = 12;

/// How long the first frame of a size waits for its residual.
pub const FIRST_RESIDUAL_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

impl std::fmt::Debug for LiveWatermarker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveWatermarker").field("busy", &self.busy).finish_non_exhaustive()
    }
}

impl LiveWatermarker {
    /// Starts the helper thread with `marker`'s encoder.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn start(mut marker: Watermarker) -> std::io::Result<Self> {
        let (requests, incoming) = crossbeam_channel::bounded::<RgbImage>(1);
        let (done, residuals) = crossbeam_channel::bounded(1);
        let helper = std::thread::Builder::new().name("fs-watermark-residual".into()).spawn(move || {
            for frame in incoming {
                let mut values = Vec::new();
                let made = marker.residual_into(&frame, &mut values).map(|()| Residual {
                    values,
                    size: frame.dimensions(),
                    frame,
                });
                if done.send(made).is_err() {
                    break;
                }
            }
        })?;
        Ok(Self { requests, residuals, current: None, spare: None, busy: false, age: 0, helper: Some(helper) })
    }

    /// Marks `frame` with the newest residual of its size, and asks for a fresher one when the
    /// helper is idle.
    ///
    /// # Errors
    /// When the encoder fails, or the first residual of a size is not made in time.
    pub fn mark(&mut self, frame: &mut RgbImage) -> Result<(), RuntimeError> {
        self.take_finished()?;
        let size = frame.dimensions();
        if self.age >= MAX_RESIDUAL_AGE && self.busy {
            if let Ok(made) = self.residuals.recv_timeout(FIRST_RESIDUAL_DEADLINE) {
                self.keep(made)?;
            }
        }
        self.request(frame);
        // The first frame of a size waits for its own residual (a residual in flight for the
        // old size comes first, then this frame's).
        for _ in 0..2 {
            if self.current.as_ref().is_some_and(|r| r.size == size) {
                break;
            }
            match self.residuals.recv_timeout(FIRST_RESIDUAL_DEADLINE) {
                Ok(made) => self.keep(made)?,
                Err(_) => {
                    return Err(RuntimeError::Interface {
                        model: "watermark encoder".into(),
                        detail: "no residual within the deadline".into(),
                    })
                }
            }
            self.request(frame);
        }
        match self.current.as_ref().filter(|r| r.size == size) {
            Some(residual) => {
                apply_residual(&residual.values, frame);
                self.age += 1;
                Ok(())
            }
            None => Err(RuntimeError::Interface {
                model: "watermark encoder".into(),
                detail: "no residual for this frame size".into(),
            }),
        }
    }

    /// Hands a copy of `frame` to the helper when it is idle.
    fn request(&mut self, frame: &RgbImage) {
        if self.busy {
            return;
        }
        let size = frame.dimensions();
        let mut copy =
            self.spare.take().filter(|s| s.dimensions() == size).unwrap_or_else(|| RgbImage::new(size.0, size.1));
        copy.copy_from_slice(frame);
        self.busy = self.requests.send(copy).is_ok();
    }

    fn take_finished(&mut self) -> Result<(), RuntimeError> {
        while let Ok(made) = self.residuals.try_recv() {
            self.keep(made)?;
        }
        Ok(())
    }

    fn keep(&mut self, made: Result<Residual, RuntimeError>) -> Result<(), RuntimeError> {
        self.busy = false;
        let mut made = made?;
        let frame = std::mem::replace(&mut made.frame, RgbImage::new(0, 0));
        self.spare = Some(frame);
        // The old residual's buffer is dropped: residuals come a few times a second, not per frame.
        self.current = Some(made);
        self.age = 0;
        Ok(())
    }
}

impl Drop for LiveWatermarker {
    fn drop(&mut self) {
        // Closing the request channel ends the helper after the residual it is making.
        let (closed, _) = crossbeam_channel::bounded(0);
        drop(std::mem::replace(&mut self.requests, closed));
        if let Some(helper) = self.helper.take() {
            let _ = helper.join();
        }
    }
}

/// What the reader found.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct WatermarkReading {
    /// "FS" read back (at most one bit wrong), strongly enough.
    pub found: bool,
    /// The signing key's 11-bit short id, when found.
    pub key_id: Option<u16>,
    /// The share of "FS"'s 16 bits read back, times the strength against twice the threshold
    /// (capped at 1): about 1 for a marked picture, well under 0.5 for clean ones.
    pub confidence: f32,
    /// Mean |logit| of the 32 bits.
    pub strength: f32,
}

impl WatermarkReading {
    /// The payload as `verify` shows it: `faceswap:KEYID`.
    pub fn payload(&self) -> Option<String> {
        self.key_id.map(|id| format!("faceswap:{id:04x}"))
    }

    fn from_logits(logits: &[f32; PAYLOAD_BITS]) -> Self {
        let mut word = 0u32;
        for (i, &l) in logits.iter().enumerate() {
            if l > 0.0 {
                word |= 1 << (31 - i);
            }
        }
        let magic_errors = ((word >> 16) as u16 ^ MAGIC).count_ones();
        let strength = logits.iter().map(|l| l.abs()).sum::<f32>() / PAYLOAD_BITS as f32;
        // One of "FS"'s bits may flip (a crop does that, measured): 17 words in 65,536 pass by
        // chance, and then only with the strength of a real mark.
        let found = magic_errors <= MAX_MAGIC_ERRORS && strength >= MIN_STRENGTH;
        let confidence = (1.0 - magic_errors as f32 / 16.0) * (strength / (2.0 * MIN_STRENGTH)).min(1.0);
        let key_id = found.then(|| nearest_key_id(&logits[16..]));
        Self { found, key_id, confidence, strength }
    }
}

/// Reads the watermark back.
pub struct WatermarkReader {
    decoder: ModelSession,
    tensor: Vec<f32>,
}

impl std::fmt::Debug for WatermarkReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatermarkReader").finish_non_exhaustive()
    }
}

impl WatermarkReader {
    /// A reader on the decoder `model`.
    ///
    /// # Errors
    /// When the session cannot be built or its input is not RivaGAN's decoder's.
    pub fn build(factory: &SessionFactory, model: &VerifiedModel) -> Result<Self, RuntimeError> {
        let decoder = factory.build(&model.path, &model.name)?;
        check_interface(&decoder, &["frame"])?;
        Ok(Self { decoder, tensor: Vec::new() })
    }

    /// Reads `frames` (one picture, or a video's sampled frames) at both working sizes, the
    /// logits averaged over the frames, and keeps the stronger reading.
    ///
    /// # Errors
    /// When the decoder fails.
    pub fn read(&mut self, frames: &[RgbImage]) -> Result<WatermarkReading, RuntimeError> {
        let mut best: Option<WatermarkReading> = None;
        for side in [VIDEO_SIDE, PICTURE_SIDE] {
            let mut sum = [0f32; PAYLOAD_BITS];
            for frame in frames {
                let logits = self.logits(frame, side)?;
                for (s, l) in sum.iter_mut().zip(logits) {
                    *s += l;
                }
            }
            let n = frames.len().max(1) as f32;
            let mean = sum.map(|s| s / n);
            let reading = WatermarkReading::from_logits(&mean);
            best = Some(match best {
                Some(b) if (b.found, b.strength) >= (reading.found, reading.strength) => b,
                _ => reading,
            });
        }
        Ok(best.unwrap_or(WatermarkReading { found: false, key_id: None, confidence: 0.0, strength: 0.0 }))
    }

    fn logits(&mut self, frame: &RgbImage, side: u32) -> Result<[f32; PAYLOAD_BITS], RuntimeError> {
        let (w, h) = network_input(frame, side, &mut self.tensor);
        let label = self.decoder.label().to_string();
        let inference = |source: ort::Error| RuntimeError::Inference { model: label.clone(), source };
        let shape = [1i64, 3, 1, i64::from(h), i64::from(w)];
        let input = TensorRef::from_array_view((shape, &self.tensor[..])).map_err(inference)?;
        let outputs = self.decoder.run(ort::inputs!["frame" => input])?;
        let (out_shape, out) = outputs[0].try_extract_tensor::<f32>().map_err(inference)?;
        if out.len() != PAYLOAD_BITS {
            return Err(RuntimeError::Interface {
                model: label,
                detail: format!("its output {out_shape:?} is not 32 bits"),
            });
        }
        Ok(std::array::from_fn(|i| out[i]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_is_fs_then_the_key_id_and_reads_back() {
        let bits = payload_bits(0x5EF);
        let logits: [f32; PAYLOAD_BITS] = bits.map(|b| if b > 0.5 { 9.0 } else { -9.0 });
        let reading = WatermarkReading::from_logits(&logits);
        assert!(reading.found);
        assert_eq!(reading.payload().as_deref(), Some("faceswap:05ef"));
        // A flipped bit of the key's codeword is corrected.
        let mut flipped = logits;
        flipped[20] = -flipped[20];
        assert_eq!(WatermarkReading::from_logits(&flipped).key_id, Some(0x5EF));
        assert!((reading.confidence - 1.0).abs() < 1e-6);
        // Weak logits: the bits agree, yet nothing is claimed.
        let weak = WatermarkReading::from_logits(&logits.map(|l| l / 4.0));
        assert!(!weak.found && weak.key_id.is_none());
        // One magic bit wrong is tolerated, two are not.
        let mut wrong = logits;
        wrong[3] = -wrong[3];
        assert!(WatermarkReading::from_logits(&wrong).found);
        wrong[9] = -wrong[9];
        assert!(!WatermarkReading::from_logits(&wrong).found);
    }

    #[test]
    fn the_key_codewords_are_at_least_four_bits_apart() {
        let words: Vec<u16> = (0..KEY_IDS).map(hamming_codeword).collect();
        for (i, a) in words.iter().enumerate() {
            for b in &words[i + 1..] {
                assert!((a ^ b).count_ones() >= 4);
            }
        }
    }

    #[test]
    fn the_working_size_keeps_the_aspect() {
        assert_eq!(working_size(640, 480, 120), (160, 120));
        assert_eq!(working_size(1280, 720, 120), (213, 120));
        assert_eq!(working_size(144, 176, 240), (240, 293));
    }
}
