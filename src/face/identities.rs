//! The people in a picture or a video: faces grouped by identity (ArcFace cosine), each person
//! with how often they were seen and their best (largest) face, for assigning a source to each
//! (`--map`).

use image::RgbImage;

use super::{Embedding, Face};

/// One person found.
#[derive(Debug, Clone)]
pub struct Person {
    /// The sum of the identities seen (its direction is the person's mean identity).
    sum: Vec<f32>,
    /// Frames (or pictures) the person was seen in.
    pub seen: usize,
    /// The frame of the largest face seen, and that face.
    pub best_frame: u64,
    pub best_face: Face,
    /// That face cut out of its frame with some of the head around it.
    pub crop: RgbImage,
}

impl Person {
    /// The person's mean identity.
    pub fn identity(&self) -> Embedding {
        let norm = self.sum.iter().map(|v| v * v).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
        Embedding(self.sum.iter().map(|v| v / norm).collect())
    }
}

/// Faces grouped into people as frames are added.
#[derive(Debug, Default)]
pub struct Identities {
    people: Vec<Person>,
    threshold: f32,
}

impl Identities {
    /// Faces whose identity is at least `threshold` (cosine) like a person's are that person.
    pub fn new(threshold: f32) -> Self {
        Self { people: Vec::new(), threshold }
    }

    /// Adds the faces of one frame (each with its identity); a person is matched at most once
    /// per frame, the most alike pairs first.
    pub fn add(&mut self, frame: &RgbImage, frame_index: u64, faces: &[Face]) {
        let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
        for (f, face) in faces.iter().enumerate() {
            let Some(identity) = &face.embedding else { continue };
            for (p, person) in self.people.iter().enumerate() {
                let likeness = identity.cosine(&person.identity());
                if likeness >= self.threshold {
                    pairs.push((likeness, f, p));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let (mut face_taken, mut person_taken) = (vec![false; faces.len()], vec![false; self.people.len()]);
        for (_, f, p) in pairs {
            if face_taken[f] || person_taken[p] {
                continue;
            }
            face_taken[f] = true;
            person_taken[p] = true;
            let (face, person) = (&faces[f], &mut self.people[p]);
            if let Some(identity) = &face.embedding {
                person.sum.iter_mut().zip(&identity.0).for_each(|(s, v)| *s += v);
            }
            person.seen += 1;
            if face.area() > person.best_face.area() {
                person.best_frame = frame_index;
                person.best_face = face.clone();
                person.crop = head_crop(frame, face);
            }
        }
        for (f, face) in faces.iter().enumerate() {
            let Some(identity) = &face.embedding else { continue };
            if face_taken[f] {
                continue;
            }
            self.people.push(Person {
                sum: identity.0.clone(),
                seen: 1,
                best_frame: frame_index,
                best_face: face.clone(),
                crop: head_crop(frame, face),
            });
        }
    }

    /// The people, most seen first.
    pub fn into_people(mut self) -> Vec<Person> {
        self.people.sort_by_key(|p| std::cmp::Reverse(p.seen));
        self.people
    }
}

/// The face's box grown by half its size each way (the head and some of what is around it, so
/// the crop's own face is found again when it is used as a reference), clipped to the frame.
fn head_crop(frame: &RgbImage, face: &Face) -> RgbImage {
    let [x0, y0, x1, y1] = face.bbox;
    let (w, h) = (x1 - x0, y1 - y0);
    let (fw, fh) = (frame.width() as f32, frame.height() as f32);
    let left = (x0 - 0.5 * w).clamp(0.0, fw - 1.0) as u32;
    let top = (y0 - 0.5 * h).clamp(0.0, fh - 1.0) as u32;
    let right = (x1 + 0.5 * w).clamp(left as f32 + 1.0, fw) as u32;
    let bottom = (y1 + 0.5 * h).clamp(top as f32 + 1.0, fh) as u32;
    image::imageops::crop_imm(frame, left, top, right - left, bottom - top).to_image()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32, identity: [f32; 2]) -> Face {
        Face {
            bbox: [x, 0.0, x + 10.0, 10.0],
            score: 0.9,
            kps: [[0.0; 2]; 5],
            landmarks: None,
            embedding: Some(Embedding(identity.to_vec())),
        }
    }

    #[test]
    fn the_same_person_across_frames_is_one_and_two_in_a_frame_are_two() {
        let frame = RgbImage::new(40, 20);
        let mut people = Identities::new(0.5);
        people.add(&frame, 0, &[face(0.0, [1.0, 0.0]), face(20.0, [0.0, 1.0])]);
        people.add(&frame, 1, &[face(5.0, [0.9, 0.1])]);
        // Two faces both like the first person in one frame: the second becomes someone new.
        people.add(&frame, 2, &[face(0.0, [1.0, 0.05]), face(20.0, [0.95, 0.0])]);
        let people = people.into_people();
        assert_eq!(people.iter().map(|p| p.seen).collect::<Vec<_>>(), vec![3, 1, 1]);
    }
}
