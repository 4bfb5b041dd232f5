//! The face engine as callers use it: detector, landmarks and embedder built together, run
//! together, as insightface's `FaceAnalysis.get` does.

use image::RgbImage;

use super::{ArcFaceEmbedder, DetectorConfig, Face, FaceError, Landmarker106, ScrfdDetector};
use crate::{
    models::{Fetcher, ModelError, ModelRole, ModelStore, VerifiedModel, DEFAULT_PACK},
    runtime::SessionFactory,
};

/// The verified model files the engine runs.
#[derive(Debug, Clone)]
pub struct FaceModels {
    pub detector: VerifiedModel,
    pub landmarks: VerifiedModel,
    pub embedder: VerifiedModel,
}

impl FaceModels {
    /// The default pack from `store`, each file checked against the manifest.
    ///
    /// # Errors
    /// The first model that is missing or does not match its size and sha256.
    pub fn default_pack(store: &ModelStore) -> Result<Self, ModelError> {
        Self::ensure_default_pack(store, None)
    }

    /// The default pack from `store`, each damaged or missing file repaired with `fetcher`
    /// where it can be fetched (see [`ModelStore::ensure`]).
    ///
    /// # Errors
    /// The first model that is missing or damaged and could not be repaired.
    pub fn ensure_default_pack(store: &ModelStore, fetcher: Option<&Fetcher>) -> Result<Self, ModelError> {
        let verify = |role| {
            let entry = store
                .manifest()
                .in_pack(DEFAULT_PACK, role)
                .ok_or_else(|| ModelError::Manifest(format!("the default pack has no {role}")))?;
            store.ensure(&entry.name, fetcher)
        };
        Ok(Self {
            detector: verify(ModelRole::Detector)?,
            landmarks: verify(ModelRole::Landmarks)?,
            embedder: verify(ModelRole::Embedder)?,
        })
    }
}

/// What to compute for each detected face beyond its box and keypoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Analysis {
    pub landmarks: bool,
    pub embedding: bool,
}

impl Analysis {
    pub const DETECT_ONLY: Self = Self { landmarks: false, embedding: false };
    pub const FULL: Self = Self { landmarks: true, embedding: true };
}

/// Detector, 106-point landmarks and ArcFace, each owning its session.
pub struct FaceAnalyzer {
    detector: ScrfdDetector,
    landmarker: Landmarker106,
    embedder: ArcFaceEmbedder,
}

impl FaceAnalyzer {
    /// Builds the three sessions.
    ///
    /// # Errors
    /// When a session cannot be built or a model has the wrong interface.
    pub fn build(factory: &SessionFactory, models: &FaceModels, detector: DetectorConfig) -> Result<Self, FaceError> {
        Self::build_each([factory, factory, factory], models, detector)
    }

    /// [`FaceAnalyzer::build`] with each model on its own factory: detector, landmarks, embedder.
    ///
    /// # Errors
    /// See [`FaceAnalyzer::build`].
    pub fn build_each(
        [detector_factory, landmarks_factory, embedder_factory]: [&SessionFactory; 3],
        models: &FaceModels,
        detector: DetectorConfig,
    ) -> Result<Self, FaceError> {
        Ok(Self {
            detector: detector.build(detector_factory, &models.detector)?,
            landmarker: Landmarker106::build(landmarks_factory, &models.landmarks)?,
            embedder: ArcFaceEmbedder::build(embedder_factory, &models.embedder)?,
        })
    }

    /// The faces in `frame`, best score first, with what `analysis` asks for.
    ///
    /// # Errors
    /// When a model fails.
    pub fn analyze(&mut self, frame: &RgbImage, analysis: Analysis) -> Result<Vec<Face>, FaceError> {
        let mut faces = self.detector.detect(frame)?;
        for face in &mut faces {
            self.describe(frame, face, analysis)?;
        }
        Ok(faces)
    }

    /// Adds landmarks and/or the identity vector to one face.
    ///
    /// # Errors
    /// When a model fails.
    pub fn describe(&mut self, frame: &RgbImage, face: &mut Face, analysis: Analysis) -> Result<(), FaceError> {
        if analysis.landmarks {
            face.landmarks = Some(self.landmarker.landmarks(frame, &face.bbox)?);
        }
        if analysis.embedding {
            face.embedding = Some(self.embedder.embed(frame, &face.kps)?);
        }
        Ok(())
    }

    /// The three models, for stages that each own one (live video).
    pub fn into_parts(self) -> (ScrfdDetector, Landmarker106, ArcFaceEmbedder) {
        (self.detector, self.landmarker, self.embedder)
    }

    /// The detector alone.
    pub fn detector(&mut self) -> &mut ScrfdDetector {
        &mut self.detector
    }

    /// The landmark model alone.
    pub fn landmarker(&mut self) -> &mut Landmarker106 {
        &mut self.landmarker
    }

    /// The embedder alone.
    pub fn embedder(&mut self) -> &mut ArcFaceEmbedder {
        &mut self.embedder
    }
}
