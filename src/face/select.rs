//! Choosing which target faces to swap: the largest, one by index, all, or the one most like a
//! reference identity.

use super::{Embedding, Face, FaceError};

/// Which faces of a picture to act on.
#[derive(Debug, Clone, PartialEq)]
pub enum FaceSelection {
    Largest,
    Index(usize),
    /// Several faces by number; each must exist.
    Indices(Vec<usize>),
    All,
    MostLike(Embedding),
}

impl FaceSelection {
    /// The indices into `faces` this selection names; `what` names the picture in errors.
    ///
    /// # Errors
    /// [`FaceError::NoFace`] when `faces` is empty, [`FaceError::NoSuchFace`] for an index past
    /// the end.
    pub fn pick(&self, faces: &[Face], what: &str) -> Result<Vec<usize>, FaceError> {
        if faces.is_empty() {
            return Err(FaceError::NoFace { what: what.to_string() });
        }
        Ok(match self {
            Self::Largest => vec![largest_face(faces).unwrap_or(0)],
            Self::Index(i) if *i < faces.len() => vec![*i],
            Self::Index(i) => {
                return Err(FaceError::NoSuchFace { index: *i, count: faces.len(), what: what.to_string() })
            }
            Self::Indices(list) => {
                if let Some(&i) = list.iter().find(|&&i| i >= faces.len()) {
                    return Err(FaceError::NoSuchFace { index: i, count: faces.len(), what: what.to_string() });
                }
                let mut chosen = list.clone();
                chosen.sort_unstable();
                chosen.dedup();
                chosen
            }
            Self::All => (0..faces.len()).collect(),
            Self::MostLike(reference) => {
                let similarity = |f: &Face| f.embedding.as_ref().map_or(f32::MIN, |e| e.cosine(reference));
                let best = (0..faces.len()).max_by(|&a, &b| similarity(&faces[a]).total_cmp(&similarity(&faces[b])));
                vec![best.unwrap_or(0)]
            }
        })
    }
}

/// The index of the face with the largest box.
pub fn largest_face(faces: &[Face]) -> Option<usize> {
    (0..faces.len()).max_by(|&a, &b| faces[a].area().total_cmp(&faces[b].area()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(size: f32, embedding: Vec<f32>) -> Face {
        Face {
            bbox: [0.0, 0.0, size, size],
            score: 0.9,
            kps: [[0.0; 2]; 5],
            landmarks: None,
            embedding: Some(Embedding(embedding)),
        }
    }

    #[test]
    fn picks_by_size_index_and_likeness() {
        let faces = vec![face(10.0, vec![1.0, 0.0]), face(30.0, vec![0.0, 1.0]), face(20.0, vec![0.7, 0.7])];
        assert_eq!(FaceSelection::Largest.pick(&faces, "t").unwrap(), vec![1]);
        assert_eq!(FaceSelection::All.pick(&faces, "t").unwrap(), vec![0, 1, 2]);
        assert_eq!(FaceSelection::MostLike(Embedding(vec![1.0, 0.1])).pick(&faces, "t").unwrap(), vec![0]);
        assert!(matches!(FaceSelection::Index(3).pick(&faces, "t"), Err(FaceError::NoSuchFace { count: 3, .. })));
        assert!(matches!(FaceSelection::Largest.pick(&[], "t"), Err(FaceError::NoFace { .. })));
        assert_eq!(FaceSelection::Indices(vec![2, 0, 2]).pick(&faces, "t").unwrap(), vec![0, 2]);
        assert!(matches!(
            FaceSelection::Indices(vec![0, 5]).pick(&faces, "t"),
            Err(FaceError::NoSuchFace { index: 5, count: 3, .. })
        ));
    }
}
