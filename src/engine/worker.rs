//! A worker for pictures: one thread's face analyser and swappers (sessions are not shared:
//! `run` takes `&mut`), registered with the supervisor so that a repaired model reaches it
//! between two requests.

use crossbeam_channel::Receiver;
use image::RgbImage;

use super::{ConsumerHandle, Engine, ReloadedModel};
use crate::{
    enhance::{EnhancerKind, FaceEnhancer},
    face::{Analysis, Face, FaceAnalyzer, FaceError, FaceSelection},
    imaging::{encode_with_alpha, Picture, PictureFormat},
    mask::FaceMasker,
    swap::{FaceMap, MouthKeeper, SourceFace, SwapSettings, Swapper},
    Result,
};

/// Which faces of a target picture to swap.
#[derive(Debug, Clone, Copy)]
pub enum FaceChoice<'a> {
    Fixed(&'a FaceSelection),
    /// The face most like the largest face of this picture (`what` names it in errors).
    LikeReference {
        picture: &'a RgbImage,
        what: &'a str,
    },
}

/// A picture swapped: how many faces, and the picture encoded.
#[derive(Debug, Clone)]
pub struct SwappedPicture {
    pub faces: usize,
    pub bytes: Vec<u8>,
}

/// One thread's sessions for picture work.
pub struct EngineWorker {
    analyzer: FaceAnalyzer,
    /// Built on first use of each kind.
    swappers: Vec<Box<dyn Swapper>>,
    /// Built on first use of each kind.
    enhancers: Vec<FaceEnhancer>,
    /// Built on first use of each setting.
    maskers: Vec<FaceMasker>,
    mouth: MouthKeeper,
    /// Built on the first picture, when the watermark is on.
    watermarker: Option<crate::provenance::Watermarker>,
    updates: Receiver<ReloadedModel>,
    _registration: ConsumerHandle,
}

impl EngineWorker {
    pub(super) fn new(engine: &Engine) -> Result<Self> {
        let mut worker = Self::analysis_only(engine)?;
        worker.swappers.push(engine.swapper(engine.config().swapper)?);
        Ok(worker)
    }

    /// A worker that builds a swapper only when it first swaps (the engine's own, for source
    /// faces and references).
    pub(super) fn analysis_only(engine: &Engine) -> Result<Self> {
        let analyzer = engine.analyzer()?;
        let (to, updates) = crossbeam_channel::unbounded();
        let registration = engine.supervisor().register_channel(crate::face::DetectorConfig::scrfd(), to);
        Ok(Self {
            analyzer,
            swappers: Vec::new(),
            enhancers: Vec::new(),
            maskers: Vec::new(),
            mouth: MouthKeeper::default(),
            watermarker: None,
            updates,
            _registration: registration,
        })
    }

    /// Takes up models the watchdog rebuilt since the last call.
    fn apply_updates(&mut self) {
        for update in self.updates.try_iter() {
            match update {
                ReloadedModel::Detector(d) => *self.analyzer.detector() = d,
                ReloadedModel::Landmarks(l) => *self.analyzer.landmarker() = l,
                ReloadedModel::Embedder(e) => *self.analyzer.embedder() = e,
                ReloadedModel::Swapper(s) => {
                    if let Some(slot) = self.swappers.iter_mut().find(|old| old.kind() == s.kind()) {
                        *slot = s;
                    }
                }
                ReloadedModel::Enhancer(e) => {
                    if let Some(slot) = self.enhancers.iter_mut().find(|old| old.kind() == e.kind()) {
                        *slot = e;
                    }
                }
                // Rebuilt for every masker on the next use: the masks are cheap to rebuild and
                // a masker holds two models.
                ReloadedModel::Mask(_) => self.maskers.clear(),
            }
            tracing::info!("engine worker switched to a reloaded model");
        }
    }

    /// The faces in `picture`, best score first, with what `analysis` asks for.
    ///
    /// # Errors
    /// When a model fails.
    pub fn detect(&mut self, picture: &RgbImage, analysis: Analysis) -> Result<Vec<Face>> {
        self.apply_updates();
        Ok(self.analyzer.analyze(picture, analysis)?)
    }

    /// Face `face` of `picture` (else its largest) as a source; `what` names the picture in
    /// errors.
    ///
    /// # Errors
    /// When the picture has no face (or not that one), or a model fails.
    pub fn source_face(&mut self, picture: &RgbImage, what: &str, face: Option<usize>) -> Result<SourceFace> {
        self.apply_updates();
        Ok(SourceFace::in_picture(picture, &mut self.analyzer, what, face)?)
    }

    /// The selection that picks, in each target, the face most like the largest face of
    /// `reference`; `what` names the reference in errors.
    ///
    /// # Errors
    /// When the reference has no face, or a model fails.
    pub fn most_like(&mut self, reference: &RgbImage, what: &str) -> Result<FaceSelection> {
        self.apply_updates();
        most_like(&mut self.analyzer, reference, what)
    }

    /// Puts `source` onto the faces of `picture` that `selection` picks, as `settings` say
    /// (the swapper, and the mouth mask); `what` names the picture in errors. Returns how many
    /// faces were swapped.
    ///
    /// # Errors
    /// When the picture has no face (or not the one asked for), the swapper's model is missing,
    /// or a model fails.
    pub fn swap(
        &mut self,
        engine: &Engine,
        picture: &mut RgbImage,
        source: &SourceFace,
        selection: &FaceSelection,
        settings: SwapSettings,
        what: &str,
    ) -> Result<usize> {
        self.swap_faces(engine, picture, PickFaces::Selected(selection, source), settings, what)
    }

    /// Puts on each face of `picture` the source `map` pairs with its person (faces of nobody
    /// mapped are left); how many faces were swapped.
    ///
    /// # Errors
    /// When the picture has no face, the swapper's model is missing, or a model fails.
    pub fn swap_mapped(
        &mut self,
        engine: &Engine,
        picture: &mut RgbImage,
        map: &FaceMap,
        settings: SwapSettings,
        what: &str,
    ) -> Result<usize> {
        self.swap_faces(engine, picture, PickFaces::Mapped(map), settings, what)
    }

    fn swap_faces(
        &mut self,
        engine: &Engine,
        picture: &mut RgbImage,
        pick: PickFaces<'_>,
        settings: SwapSettings,
        what: &str,
    ) -> Result<usize> {
        let SwapSettings { swapper: kind, mouth_mask, pixel_boost, enhancer, masks } = settings;
        self.apply_updates();
        let index = match self.swappers.iter().position(|s| s.kind() == kind) {
            Some(index) => index,
            None => {
                self.swappers.push(engine.swapper(kind)?);
                self.swappers.len() - 1
            }
        };
        let swapper = &mut self.swappers[index];
        swapper.set_pixel_boost(pixel_boost)?;
        let masker = match masks.is_on() {
            false => None,
            true => match self.maskers.iter().position(|m| m.settings() == masks) {
                Some(i) => Some(i),
                None => {
                    if let Some(masker) = engine.masker(masks)? {
                        self.maskers.push(masker);
                    }
                    self.maskers.len().checked_sub(1)
                }
            },
        };
        let swapper = &mut self.swappers[index];
        // Picking by likeness needs every face's identity; the swapper's needs are computed
        // for the chosen faces only.
        let identity = match pick {
            PickFaces::Selected(selection, _) => matches!(selection, FaceSelection::MostLike(_)),
            PickFaces::Mapped(_) => true,
        };
        let mut targets = self.analyzer.analyze(picture, Analysis { landmarks: false, embedding: identity })?;
        let chosen: Vec<usize> = match pick {
            PickFaces::Selected(selection, _) => selection.pick(&targets, what)?,
            PickFaces::Mapped(map) => {
                let all = FaceSelection::All.pick(&targets, what)?;
                all.into_iter().filter(|&i| map.source_for(&targets[i]).is_some()).collect()
            }
        };
        swapper.set_mouth_kept(mouth_mask.is_some());
        let mut needs = swapper.target_needs();
        needs.landmarks |= mouth_mask.is_some();
        for &i in &chosen {
            self.analyzer.describe(picture, &mut targets[i], Analysis { embedding: false, ..needs })?;
            if let Some(shape) = mouth_mask {
                self.mouth.save(picture, &targets[i], shape);
            }
            let mut masker = masker.and_then(|m| self.maskers.get_mut(m));
            if let Some(masker) = masker.as_deref_mut() {
                masker.before(picture, &targets[i])?;
            }
            let source = match pick {
                PickFaces::Selected(_, source) => Some(source),
                PickFaces::Mapped(map) => map.source_for(&targets[i]),
            };
            if let Some(source) = source {
                swapper.swap(picture, &targets[i], source)?;
            }
            if let Some(masker) = masker {
                masker.after(picture)?;
            }
            self.mouth.restore(picture);
        }
        // The enhancer after every swap, on the target's own five points (FaceFusion's order:
        // its processors run one after another over the whole frame).
        if let Some(enhance) = enhancer {
            let enhancer = self.enhancer(engine, enhance.kind)?;
            for &i in &chosen {
                enhancer.enhance(picture, &targets[i].kps, &enhance)?;
            }
        }
        Ok(chosen.len())
    }

    /// This worker's enhancer of `kind`, built on first use.
    fn enhancer(&mut self, engine: &Engine, kind: EnhancerKind) -> Result<&mut FaceEnhancer> {
        let index = match self.enhancers.iter().position(|e| e.kind() == kind) {
            Some(index) => index,
            None => {
                self.enhancers.push(engine.enhancer(kind)?);
                self.enhancers.len() - 1
            }
        };
        Ok(&mut self.enhancers[index])
    }
}

impl EngineWorker {
    /// The whole picture swap, as the CLI and the service run it: the faces chosen (a
    /// reference's likeness resolved here), `source` put on them as `settings` say, and the
    /// result encoded as `format` with the target's transparency kept where it can be held.
    ///
    /// # Errors
    /// See [`EngineWorker::swap`] and [`EngineWorker::most_like`]; an encoding failure.
    #[allow(clippy::too_many_arguments)]
    pub fn swap_picture(
        &mut self,
        engine: &Engine,
        source: &SourceFace,
        target: Picture,
        faces: FaceChoice<'_>,
        settings: SwapSettings,
        what: &str,
        format: PictureFormat,
    ) -> Result<SwappedPicture> {
        let selection = match faces {
            FaceChoice::Fixed(selection) => selection.clone(),
            FaceChoice::LikeReference { picture, what } => self.most_like(picture, what)?,
        };
        let Picture { rgb: mut picture, alpha, .. } = target;
        let faces = self.swap(engine, &mut picture, source, &selection, settings, what)?;
        self.watermark(engine, &mut picture)?;
        Ok(SwappedPicture { faces, bytes: encode_with_alpha(&picture, alpha.as_ref(), format)? })
    }
}

/// Which faces a swap takes, and from which source.
#[derive(Clone, Copy)]
enum PickFaces<'a> {
    Selected(&'a FaceSelection, &'a SourceFace),
    Mapped(&'a FaceMap),
}

impl EngineWorker {
    /// [`EngineWorker::swap_picture`] with a source per person (`map`).
    ///
    /// # Errors
    /// See [`EngineWorker::swap_mapped`]; an encoding failure.
    pub fn swap_picture_mapped(
        &mut self,
        engine: &Engine,
        map: &FaceMap,
        target: Picture,
        settings: SwapSettings,
        what: &str,
        format: PictureFormat,
    ) -> Result<SwappedPicture> {
        let Picture { rgb: mut picture, alpha, .. } = target;
        let faces = self.swap_mapped(engine, &mut picture, map, settings, what)?;
        self.watermark(engine, &mut picture)?;
        Ok(SwappedPicture { faces, bytes: encode_with_alpha(&picture, alpha.as_ref(), format)? })
    }

    /// Lays the watermark on a swapped picture, when the engine's provenance asks for it.
    ///
    /// # Errors
    /// When the encoder cannot be built or fails.
    pub fn watermark(&mut self, engine: &Engine, picture: &mut RgbImage) -> Result<()> {
        if !engine.provenance().marks().watermark {
            return Ok(());
        }
        if self.watermarker.is_none() {
            self.watermarker = engine.watermarker(crate::provenance::Cadence::PICTURE)?;
        }
        if let Some(marker) = &mut self.watermarker {
            marker.mark(picture).map_err(crate::Error::from)?;
        }
        Ok(())
    }
}

/// See [`EngineWorker::most_like`].
fn most_like(analyzer: &mut FaceAnalyzer, reference: &RgbImage, what: &str) -> Result<FaceSelection> {
    let faces = analyzer.analyze(reference, Analysis { landmarks: false, embedding: true })?;
    let best = FaceSelection::Largest.pick(&faces, what)?;
    let identity = best.first().and_then(|&i| faces[i].embedding.clone());
    Ok(FaceSelection::MostLike(identity.ok_or_else(|| FaceError::NoFace { what: what.to_string() })?))
}
