//! Both swappers on real photos: inswapper against insightface's own `INSwapper` (with the
//! synthetic model of the same interface), the landmark swapper by identity and geometry.

use faceswap::{
    face::{largest_face, Analysis, Face},
    models::ModelStore,
    swap::{InSwapper, LandmarkSwapper, SourceFace, SwapError, Swapper},
};
use image::RgbImage;

use crate::support::{analyzer, distance, factory, photo, root};

fn synthetic_inswapper() -> InSwapper {
    let model = ModelStore::unpinned(&root().join("tests/fixtures/inswapper_synthetic.onnx")).unwrap();
    InSwapper::build(&factory(), &model).expect("synthetic inswapper builds")
}

/// The astronaut as insightface's INSwapper left it (tests/reference/inswapper_astronaut*).
fn inswapper_reference() -> RgbImage {
    #[derive(serde::Deserialize)]
    struct Meta {
        crop: [u32; 4],
    }
    let meta: Meta = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/reference/inswapper_astronaut.json")).unwrap(),
    )
    .unwrap();
    let crop = image::open(root().join("tests/reference/inswapper_astronaut_crop.png")).unwrap().into_rgb8();
    let mut picture = photo("astronaut.png");
    image::imageops::replace(&mut picture, &crop, i64::from(meta.crop[0]), i64::from(meta.crop[1]));
    picture
}

fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> (f64, u8) {
    let total: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    let max = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0);
    (total as f64 / a.as_raw().len() as f64, max)
}

fn largest(faces: &[Face]) -> &Face {
    &faces[largest_face(faces).expect("a face")]
}

#[test]
fn inswapper_matches_insightface_on_real_photos() {
    let mut analyzer = analyzer();
    let t1 = photo("t1.jpg");
    let sources = analyzer.analyze(&t1, Analysis::FULL).unwrap();
    let mut swapper = synthetic_inswapper();
    let source = SourceFace::new(&t1, largest(&sources)).unwrap();

    let mut picture = photo("astronaut.png");
    let targets = analyzer.analyze(&picture, Analysis::DETECT_ONLY).unwrap();
    swapper.swap(&mut picture, &targets[0], &source).unwrap();

    let (mean, max) = mean_abs_diff(&picture, &inswapper_reference());
    eprintln!("inswapper vs insightface: mean abs difference {mean:.4} grey levels, max {max}");
    assert!(mean <= 1.0, "mean abs difference {mean}");
    assert_ne!(picture, photo("astronaut.png"), "the swap changed nothing");
}

#[test]
fn inswapper_output_depends_on_the_source() {
    let mut analyzer = analyzer();
    let t1 = photo("t1.jpg");
    let sources = analyzer.analyze(&t1, Analysis::FULL).unwrap();
    let astronaut = photo("astronaut.png");
    let targets = analyzer.analyze(&astronaut, Analysis::DETECT_ONLY).unwrap();
    let mut swapper = synthetic_inswapper();
    let mut results = Vec::new();
    // One swapper, two sources in turn: the latent follows the source it is given.
    for face in &sources[..2] {
        let source = SourceFace::new(&t1, face).unwrap();
        let mut picture = astronaut.clone();
        swapper.swap(&mut picture, &targets[0], &source).unwrap();
        results.push(picture);
    }
    assert!(mean_abs_diff(&results[0], &results[1]).0 > 0.01, "two identities gave the same picture");
}

#[test]
fn a_source_needs_its_identity_and_landmarks() {
    let astronaut = photo("astronaut.png");
    let detected = analyzer().analyze(&astronaut, Analysis::DETECT_ONLY).unwrap().remove(0);
    let err = SourceFace::new(&astronaut, &detected).unwrap_err();
    assert!(matches!(err, SwapError::MissingAnalysis { .. }), "{err}");
}

/// The face in `faces` whose box overlaps `like` the most.
fn matching<'f>(faces: &'f [Face], like: &Face) -> &'f Face {
    let overlap = |f: &Face| {
        let w = (f.bbox[2].min(like.bbox[2]) - f.bbox[0].max(like.bbox[0])).max(0.0);
        let h = (f.bbox[3].min(like.bbox[3]) - f.bbox[1].max(like.bbox[1])).max(0.0);
        w * h
    };
    faces.iter().max_by(|a, b| overlap(a).total_cmp(&overlap(b))).expect("a face")
}

#[test]
fn landmark_swapper_carries_identity_and_keeps_pose() {
    let mut analyzer = analyzer();
    let astronaut = photo("astronaut.png");
    let source = analyzer.analyze(&astronaut, Analysis::FULL).unwrap().remove(0);
    let source_identity = source.embedding.clone().unwrap();
    let mut swapper = LandmarkSwapper::new();
    let source_face = SourceFace::new(&astronaut, &source).unwrap();

    let mut picture = photo("t1.jpg");
    let targets = analyzer.analyze(&picture, Analysis::FULL).unwrap();
    assert_eq!(targets.len(), 6);
    for target in &targets {
        swapper.swap(&mut picture, target, &source_face).unwrap();
    }
    let swapped = analyzer.analyze(&picture, Analysis::FULL).unwrap();
    assert_eq!(swapped.len(), 6, "every swapped face is still a face");
    let mut failures: Vec<String> = Vec::new();
    for target in &targets {
        let after = matching(&swapped, target);
        let before_sim = target.embedding.as_ref().unwrap().cosine(&source_identity);
        let after_sim = after.embedding.as_ref().unwrap().cosine(&source_identity);
        let drift: f32 = target
            .landmarks
            .as_ref()
            .unwrap()
            .iter()
            .zip(after.landmarks.as_ref().unwrap())
            .map(|(a, b)| distance(*a, *b))
            .sum::<f32>()
            / 106.0
            / target.size();
        eprintln!(
            "face at ({:.0},{:.0}): similarity to source {before_sim:.3} -> {after_sim:.3}, landmark drift {:.1}% of face size",
            target.bbox[0],
            target.bbox[1],
            drift * 100.0
        );
        // The target's expression is kept (eyes, mouth, light), which costs some likeness: a
        // clear carry on every face, the profile included, is at least 0.15.
        if after_sim < before_sim + 0.15 {
            failures.push(format!("identity did not carry: {before_sim} -> {after_sim}"));
        }
        if drift > 0.05 {
            failures.push(format!("landmarks moved {:.1}% of face size", drift * 100.0));
        }
    }
    picture.save(std::env::temp_dir().join("faceswap-landmark-t1.png")).unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn inswapper_runs_an_fp16_export_like_the_fp32_one() {
    // The same synthetic model in half precision: f16 inputs, weights, emap (read from f16
    // storage) and output. Its result stays within rounding of the fp32 model's.
    let mut analyzer = analyzer();
    let t1 = photo("t1.jpg");
    let sources = analyzer.analyze(&t1, Analysis::FULL).unwrap();
    let astronaut = photo("astronaut.png");
    let targets = analyzer.analyze(&astronaut, Analysis::DETECT_ONLY).unwrap();
    let half = ModelStore::unpinned(&root().join("tests/fixtures/inswapper_synthetic_fp16.onnx")).unwrap();
    let source = SourceFace::new(&t1, largest(&sources)).unwrap();
    let mut results = Vec::new();
    for mut swapper in [synthetic_inswapper(), InSwapper::build(&factory(), &half).expect("fp16 model builds")] {
        let mut picture = astronaut.clone();
        swapper.swap(&mut picture, &targets[0], &source).unwrap();
        results.push(picture);
    }
    let (mean, max) = mean_abs_diff(&results[0], &results[1]);
    eprintln!("fp16 vs fp32 synthetic inswapper: mean abs difference {mean:.4}, max {max}");
    assert!(mean < 0.5, "mean abs difference {mean}");
    assert_ne!(results[1], astronaut, "the fp16 swap changed nothing");
}

/// inswapper with pixel boost against insightface's own INSwapper run tile by tile through
/// FaceFusion's `implode_pixel_boost` / `explode_pixel_boost`
/// (tests/reference/pixel_boost_*, scripts/make_facefusion_references.py).
#[test]
fn pixel_boost_matches_insightface_with_facefusions_tiles() {
    let mut analyzer = analyzer();
    let t1 = photo("t1.jpg");
    let sources = analyzer.analyze(&t1, Analysis::FULL).unwrap();
    let source = SourceFace::new(&t1, largest(&sources)).unwrap();
    let plain = {
        let mut picture = photo("astronaut.png");
        let targets = analyzer.analyze(&picture, Analysis::DETECT_ONLY).unwrap();
        synthetic_inswapper().swap(&mut picture, &targets[0], &source).unwrap();
        picture
    };
    for boost in [256u32, 512] {
        #[derive(serde::Deserialize)]
        struct Meta {
            crop: [u32; 4],
        }
        let name = format!("pixel_boost_{boost}_astronaut");
        let meta: Meta = serde_json::from_str(
            &std::fs::read_to_string(root().join(format!("tests/reference/{name}.json"))).unwrap(),
        )
        .unwrap();
        let crop = image::open(root().join(format!("tests/reference/{name}.png"))).unwrap().into_rgb8();
        let mut want = photo("astronaut.png");
        image::imageops::replace(&mut want, &crop, i64::from(meta.crop[0]), i64::from(meta.crop[1]));

        let mut swapper = synthetic_inswapper();
        swapper.set_pixel_boost(boost).unwrap();
        let mut picture = photo("astronaut.png");
        let targets = analyzer.analyze(&picture, Analysis::DETECT_ONLY).unwrap();
        swapper.swap(&mut picture, &targets[0], &source).unwrap();
        let (mean, max) = mean_abs_diff(&picture, &want);
        eprintln!("pixel boost {boost} vs insightface + FaceFusion's tiles: mean {mean:.4}, max {max} grey levels");
        assert!(mean <= 1.0, "pixel boost {boost}: mean abs difference {mean}");
        assert_ne!(picture, plain, "pixel boost {boost} made the same picture as none");
    }
    let mut swapper = synthetic_inswapper();
    for bad in [100, 200, 2048] {
        let error = swapper.set_pixel_boost(bad).unwrap_err().to_string();
        assert!(error.contains(&bad.to_string()), "{error}");
    }
}
