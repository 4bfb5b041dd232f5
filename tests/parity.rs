//! The face engine against insightface's Python package on the same models and photos
//! (references made by scripts/make_references.py).

use faceswap::{face::Analysis, models::sha256_file};

use crate::support::{analyzer, cosine, distance, media, photo, reference};

fn check_photo(stem: &str, file: &str) {
    let expected = reference(stem);
    assert_eq!(sha256_file(&media(file)).unwrap(), expected.image_sha256, "sample photo differs from the reference's");
    let picture = photo(file);
    assert_eq!(picture.dimensions(), (expected.width, expected.height));
    let faces = analyzer().analyze(&picture, Analysis::FULL).unwrap();
    assert_eq!(faces.len(), expected.faces.len(), "face count");
    let mut worst = (0.0f32, 0.0f32, 0.0f32, 1.0f32);
    for (got, want) in faces.iter().zip(&expected.faces) {
        for i in 0..4 {
            worst.0 = worst.0.max((got.bbox[i] - want.bbox[i]).abs());
        }
        for (g, w) in got.kps.iter().zip(&want.kps) {
            worst.1 = worst.1.max(distance(*g, *w));
        }
        let landmarks = got.landmarks.as_ref().unwrap();
        assert_eq!(landmarks.len(), 106);
        for (g, w) in landmarks.iter().zip(&want.landmarks) {
            worst.2 = worst.2.max(distance(*g, *w));
        }
        worst.3 = worst.3.min(cosine(&got.embedding.as_ref().unwrap().0, &want.embedding));
        assert!((got.score - want.score).abs() < 0.01, "score {} vs {}", got.score, want.score);
    }
    eprintln!("{file}: max box error {:.3} px, max keypoint error {:.3} px, max landmark error {:.3} px, min identity cosine {:.5}", worst.0, worst.1, worst.2, worst.3);
    assert!(worst.0 <= 1.0, "box error {} px", worst.0);
    assert!(worst.1 <= 1.0, "keypoint error {} px", worst.1);
    assert!(worst.2 <= 1.5, "landmark error {} px", worst.2);
    assert!(worst.3 >= 0.995, "identity cosine {}", worst.3);
}

#[test]
fn astronaut_matches_insightface() {
    check_photo("astronaut", "astronaut.png");
}

#[test]
fn six_people_match_insightface() {
    check_photo("t1", "t1.jpg");
}
