//! Many sources at once: each person in the target gets a source of their own. A map pairs each
//! source face with a reference identity (a face of that person, from the target or another
//! picture); each target face takes the source whose reference it is most like, when it is
//! like it at all, and is left alone otherwise.

use std::sync::Arc;

use super::SourceFace;
use crate::face::{Embedding, Face};

/// The cosine between a face's identity and a reference above which it is taken for that
/// person. Measured with w600k_mbf: t1.jpg's six people against each other 0.06 on average,
/// 0.225 at most (15 pairs); the carphone speaker against himself across 12 frames 0.84 on
/// average, 0.66 at least (66 pairs); a map-faces crop against its own face in t1.jpg 0.91–0.98.
/// 0.3 sits between, nearer the strangers.
pub const SAME_PERSON: f32 = 0.3;

/// Sources paired with the identities of the people they go on.
#[derive(Debug, Default)]
pub struct FaceMap {
    entries: Vec<(Arc<SourceFace>, Embedding)>,
}

impl FaceMap {
    pub fn new(entries: Vec<(Arc<SourceFace>, Embedding)>) -> Self {
        Self { entries }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The source for `face`: the one whose reference it is most like, at least [`SAME_PERSON`];
    /// none for a face of nobody mapped, or without an identity.
    pub fn source_for(&self, face: &Face) -> Option<&SourceFace> {
        let identity = face.embedding.as_ref()?;
        self.entries
            .iter()
            .map(|(source, reference)| (source, identity.cosine(reference)))
            .filter(|(_, likeness)| *likeness >= SAME_PERSON)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(source, _)| source.as_ref())
    }
}

/// Who the target's faces become: one source for the faces chosen, or a map by identity.
#[derive(Debug, Clone)]
pub enum Sources {
    One(Arc<SourceFace>),
    Mapped(Arc<FaceMap>),
}

impl Sources {
    /// The source for `face`; none when the map has nobody for it.
    pub fn for_face(&self, face: &Face) -> Option<&SourceFace> {
        match self {
            Self::One(source) => Some(source),
            Self::Mapped(map) => map.source_for(face),
        }
    }

    /// Whether the faces need their identity to be given a source.
    pub fn needs_identity(&self) -> bool {
        matches!(self, Self::Mapped(_))
    }
}

impl From<Arc<SourceFace>> for Sources {
    fn from(source: Arc<SourceFace>) -> Self {
        Self::One(source)
    }
}
