//! Swap quality, measured: the target's expression kept (eye and mouth openness from the 106
//! landmarks), identity carried (ArcFace), no flicker in video; the mouth mask; and
//! `faceswap compare` with its contact sheets.

use std::{path::Path, process::Command, sync::Arc};

use faceswap::{
    engine::Engine,
    face::{regions, Analysis, FaceSelection},
    quality::compare_pictures,
    swap::{LandmarkSettings, LandmarkSwapper, MouthMask, SourceFace, SwapSettings, Swapper, SwapperKind},
};

use crate::{
    support::{engine, media, models_dir, photo, root},
    transcode::ffmpeg,
};

/// t1.jpg with the astronaut on every face; the mouth mask when given.
fn swapped_t1(engine: &Engine, mouth: Option<MouthMask>) -> image::RgbImage {
    let mut worker = engine.worker().unwrap();
    let source = worker.source_face(&photo("astronaut.png"), "astronaut", None).unwrap();
    let mut picture = photo("t1.jpg");
    let settings = SwapSettings { swapper: SwapperKind::Landmark, mouth_mask: mouth, ..SwapSettings::default() };
    let n = worker.swap(engine, &mut picture, &source, &FaceSelection::All, settings, "t1").unwrap();
    assert_eq!(n, 6);
    picture
}

#[test]
fn the_targets_expression_is_kept_and_the_identity_carried() {
    let engine = engine();
    let result = swapped_t1(&engine, None);
    let source = engine.source_face(&photo("astronaut.png"), "astronaut", None).unwrap();
    let comparison =
        compare_pictures(&mut engine.analyzer().unwrap(), source.identity(), &photo("t1.jpg"), &result).unwrap();
    eprintln!(
        "t1.jpg, astronaut on 6 faces: identity {:.3}, |eye change| {:.3}, |mouth change| {:.3}",
        comparison.mean_identity_after, comparison.mean_eye_change, comparison.mean_mouth_change
    );
    for face in &comparison.faces {
        eprintln!("  {face:?}");
    }
    assert_eq!(comparison.faces.len(), 6);
    // Before this work: 0.124 and 0.043 (eyes followed the source, closed-lip smiles showed
    // teeth) with a likeness of 0.410. Now 0.032, 0.029 and 0.389 (0.399 before the target's
    // eyes showed over a taller ellipse, for blinks followed in video; 0.404 before the
    // target's lip colour was kept).
    assert!(comparison.mean_eye_change <= 0.04, "{comparison:?}");
    assert!(comparison.mean_mouth_change <= 0.03, "{comparison:?}");
    assert!(comparison.mean_identity_after >= 0.38, "{comparison:?}");
    // The nearly closed eyes of face 4 (0.12) stay nearly closed (0.18; 0.30 before).
    let closed = comparison.faces.iter().min_by(|a, b| a.eyes_before.total_cmp(&b.eyes_before)).unwrap();
    assert!(closed.eyes_after < 0.25, "{closed:?}");
}

#[test]
fn the_mouth_mask_lays_the_targets_own_mouth_back() {
    let engine = engine();
    let (plain, masked) = (swapped_t1(&engine, None), swapped_t1(&engine, Some(MouthMask::default())));
    let original = photo("t1.jpg");
    let faces = engine.analyzer().unwrap().analyze(&original, Analysis::FULL).unwrap();
    let mut inside_kept = 0;
    for face in &faces {
        let points = face.landmarks.as_ref().unwrap();
        // The inner mouth's middle: exactly the target's own pixel with the mask.
        let inner = regions::polygon(points, &regions::INNER_MOUTH);
        let centre =
            inner.iter().fold([0.0, 0.0], |a, p| [a[0] + p[0] / inner.len() as f32, a[1] + p[1] / inner.len() as f32]);
        let (x, y) = (centre[0].round() as u32, centre[1].round() as u32);
        if masked.get_pixel(x, y) == original.get_pixel(x, y) {
            inside_kept += 1;
        }
    }
    assert_eq!(inside_kept, 6, "every mouth's middle is the target's own");
    let source = engine.source_face(&photo("astronaut.png"), "astronaut", None).unwrap();
    let mut analyzer = engine.analyzer().unwrap();
    let with = compare_pictures(&mut analyzer, source.identity(), &original, &masked).unwrap();
    let without = compare_pictures(&mut analyzer, source.identity(), &original, &plain).unwrap();
    eprintln!(
        "mouth change: {:.3} with the mask, {:.3} without (likeness {:.3} / {:.3})",
        with.mean_mouth_change, without.mean_mouth_change, with.mean_identity_after, without.mean_identity_after
    );
    // 0.009 here (the issue asks 0.01): the restored mouth sits in a face that keeps more of the
    // target's shape (0.019 when it did not). The bound leaves room for another CPU's rounding.
    assert!(with.mean_mouth_change <= 0.012, "{with:?}");
    assert!(with.mean_identity_after >= 0.3, "{with:?}");
}

/// The 99.5th percentile of |Laplacian| of the grey picture inside `bbox`: streaks and hard
/// edges raise it.
fn sharpest_edges(picture: &image::RgbImage, bbox: [f32; 4]) -> f32 {
    let grey = image::DynamicImage::ImageRgb8(picture.clone()).to_luma32f();
    let [x0, y0, x1, y1] = bbox.map(|v| v.max(1.0) as u32);
    let (x1, y1) = (x1.min(grey.width() - 2), y1.min(grey.height() - 2));
    let at = |x: u32, y: u32| grey.get_pixel(x, y).0[0] * 255.0;
    let mut values: Vec<f32> = (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .map(|(x, y)| (4.0 * at(x, y) - at(x - 1, y) - at(x + 1, y) - at(x, y - 1) - at(x, y + 1)).abs())
        .collect();
    values.sort_by(f32::total_cmp);
    values[values.len() * 995 / 1000]
}

#[test]
fn a_three_quarter_source_paints_no_streaks() {
    // Before: the far side of a turned source face, squeezed into slivers, was spread over the
    // speaker's cheek as orange and white streaks beside the nose.
    let dir = tempfile::tempdir().unwrap();
    let frame_path = dir.path().join("frame.png");
    let clip = media("carphone.mp4");
    ffmpeg(&[
        "-i",
        clip.to_str().unwrap(),
        "-vf",
        "select=eq(n\\,30),scale=640:480",
        "-frames:v",
        "1",
        frame_path.to_str().unwrap(),
    ]);
    let original = image::open(&frame_path).unwrap().to_rgb8();
    // The face at the top right of t1.jpg, turned three-quarters.
    let turned = image::imageops::crop_imm(&photo("t1.jpg"), 840, 0, 240, 260).to_image();
    let engine = engine();
    let mut worker = engine.worker().unwrap();
    let source = worker.source_face(&turned, "turned", None).unwrap();
    let mut result = original.clone();
    let settings = SwapSettings { swapper: SwapperKind::Landmark, mouth_mask: None, ..SwapSettings::default() };
    assert_eq!(worker.swap(&engine, &mut result, &source, &FaceSelection::Largest, settings, "frame").unwrap(), 1);
    let face = &engine.analyzer().unwrap().analyze(&original, Analysis::FULL).unwrap()[0];
    let (before, after) = (sharpest_edges(&original, face.bbox), sharpest_edges(&result, face.bbox));
    eprintln!("sharpest edges in the face: {before:.1} before, {after:.1} after (3.9 times before the fix)");
    assert!(after <= 1.25 * before, "{after} against {before}");
}

fn compare(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_faceswap"))
        .current_dir(root())
        .env("FACESWAP_MODELS_DIR", models_dir())
        .arg("compare")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn video_follows_the_speaker_without_flicker_and_compare_draws_sheets() {
    let dir = tempfile::tempdir().unwrap();
    let clip = crate::support::carphone_640(dir.path());
    let result = dir.path().join("swapped.mp4");
    let engine = engine();
    let source = Arc::new(engine.source_face(&photo("astronaut.png"), "astronaut", None).unwrap());
    let job = faceswap::transcode::TranscodeJob {
        input: clip.clone(),
        output: result.clone(),
        sources: source.into(),
        selection: FaceSelection::Largest,
        source_sha256: None,
        input_name: None,
    };
    let controls = Arc::new(faceswap::pipeline::Controls::default());
    faceswap::transcode::transcode(&engine, &job, &Default::default(), &controls, |_| {}).unwrap();
    let sheet = dir.path().join("video-sheet.png");
    let figures = compare(&[
        "--source",
        media("astronaut.png").to_str().unwrap(),
        "--original",
        clip.to_str().unwrap(),
        "--result",
        result.to_str().unwrap(),
        "--samples",
        "60",
        "--sheet",
        sheet.to_str().unwrap(),
    ]);
    eprintln!(
        "carphone 640×480, astronaut: eye correlation {}, mouth correlation {}, identity {} -> {}, flicker {}",
        figures["eye_correlation"],
        figures["mouth_correlation"],
        figures["mean_identity_before"],
        figures["mean_identity_after"],
        figures["flicker"]
    );
    // Before this work: eye correlation 0.38 (the swapped face did not blink with the speaker).
    assert!(figures["eye_correlation"].as_f64().unwrap() >= 0.8, "{figures}");
    assert!(figures["mouth_correlation"].as_f64().unwrap() >= 0.9, "{figures}");
    assert!(figures["mean_identity_after"].as_f64().unwrap() >= 0.45, "{figures}");
    assert!(figures["flicker"].as_f64().unwrap() <= 1.1, "{figures}");
    assert!(figures["frames"].as_array().unwrap().len() >= 50);
    let sheet_picture = image::open(&sheet).unwrap();
    assert!(sheet_picture.width() > 6 * 240 && sheet_picture.height() > 2 * 180, "six frames, above and below");

    // Pictures: one row a face, with the figures.
    let swapped = dir.path().join("t1.png");
    swapped_t1(&engine, None).save(&swapped).unwrap();
    let sheet = dir.path().join("picture-sheet.png");
    let figures = compare(&[
        "--source",
        media("astronaut.png").to_str().unwrap(),
        "--original",
        media("t1.jpg").to_str().unwrap(),
        "--result",
        swapped.to_str().unwrap(),
        "--sheet",
        sheet.to_str().unwrap(),
    ]);
    assert_eq!(figures["faces"].as_array().unwrap().len(), 6, "{figures}");
    for key in
        ["identity_before", "identity_after", "eyes_before", "eyes_after", "mouth_before", "mouth_after", "drift"]
    {
        assert!(figures["faces"][0][key].is_number(), "{key}: {figures}");
    }
    assert!(image::open(&sheet).unwrap().height() > 6 * 192);
    let _ = Path::new(&sheet);
}

/// `t1.jpg` with `source` on every face, by a landmark swapper with `settings`.
fn swapped_with(engine: &Engine, source: &SourceFace, settings: LandmarkSettings) -> image::RgbImage {
    let mut picture = photo("t1.jpg");
    let faces = engine.analyzer().unwrap().analyze(&picture, Analysis::FULL).unwrap();
    let mut swapper = LandmarkSwapper::new().with_settings(settings);
    for face in &faces {
        swapper.swap(&mut picture, face, source).unwrap();
    }
    picture
}

#[test]
fn compare_measures_seams_light_and_lip_colour() {
    let engine = engine();
    let source = engine.source_face(&photo("astronaut.png"), "astronaut", None).unwrap();
    let original = photo("t1.jpg");
    let swapped = swapped_t1(&engine, None);
    let mut analyzer = engine.analyzer().unwrap();
    let comparison = compare_pictures(&mut analyzer, source.identity(), &original, &swapped).unwrap();
    // A hard paste of the astronaut's face into each box: the seam a viewer sees at once.
    let astronaut = photo("astronaut.png");
    let mut pasted = original.clone();
    for face in &comparison.faces {
        let [x0, y0, x1, y1] = face.bbox.map(|v| v.max(0.0) as u32);
        let patch = image::imageops::resize(
            &image::imageops::crop_imm(&astronaut, 190, 80, 80, 90).to_image(),
            (x1 - x0) * 3 / 4,
            (y1 - y0) * 3 / 4,
            image::imageops::FilterType::Triangle,
        );
        image::imageops::replace(&mut pasted, &patch, i64::from(x0 + (x1 - x0) / 8), i64::from(y0 + (y1 - y0) / 8));
    }
    let hard = compare_pictures(&mut analyzer, source.identity(), &original, &pasted).unwrap();
    let (seam, hard_seam) = (comparison.mean_seam.unwrap(), hard.mean_seam.unwrap());
    eprintln!("t1.jpg seam: {seam:.2} swapped, {hard_seam:.2} pasted hard");
    for face in &comparison.faces {
        assert!(face.seam.is_some() && face.light_change.is_some() && face.lip_colour_change.is_some(), "{face:?}");
    }
    // 2.5 here; a hard paste reads several times that.
    assert!(seam <= 3.5, "{comparison:?}");
    assert!(hard_seam >= 1.5 * seam, "{hard:?}");
    // The unchanged picture has no seam, no light or lip colour moved.
    let same = compare_pictures(&mut analyzer, source.identity(), &original, &original).unwrap();
    assert!(same.faces.iter().all(|f| f.seam.is_none() && f.light_change == Some(0.0)), "{same:?}");
}

#[test]
fn the_targets_lip_colour_is_kept() {
    let engine = engine();
    let source = engine.source_face(&photo("astronaut.png"), "astronaut", None).unwrap();
    let original = photo("t1.jpg");
    let kept = swapped_with(&engine, &source, LandmarkSettings::default());
    let taken = swapped_with(&engine, &source, LandmarkSettings { lip_colour: 0.0, ..LandmarkSettings::default() });
    let mut analyzer = engine.analyzer().unwrap();
    let lips = |result: &image::RgbImage, analyzer: &mut faceswap::face::FaceAnalyzer| {
        let comparison = compare_pictures(analyzer, source.identity(), &original, result).unwrap();
        let values: Vec<f32> = comparison.faces.iter().filter_map(|f| f.lip_colour_change).collect();
        (values.iter().sum::<f32>() / values.len().max(1) as f32, comparison.mean_identity_after)
    };
    let ((with, identity_with), (without, identity_without)) =
        (lips(&kept, &mut analyzer), lips(&taken, &mut analyzer));
    eprintln!("lip colour moved {with:.1} grey levels kept, {without:.1} taken from the source (likeness {identity_with:.3} / {identity_without:.3})");
    // 25.6 → 12.6 here: the lipstick of t1's women stays theirs.
    assert!(with <= 0.6 * without, "{with} against {without}");
    assert!(identity_with >= identity_without - 0.02, "{identity_with} against {identity_without}");
}

#[test]
fn the_outline_can_follow_the_source() {
    // The outline and the lips' thickness taken from the source (the target's face and what is
    // around it moved to meet them): more likeness, at a cost to the target's expression that
    // keeps it off by default. Measured: 0.389 → 0.423.
    let engine = engine();
    let source = engine.source_face(&photo("astronaut.png"), "astronaut", None).unwrap();
    let original = photo("t1.jpg");
    let outline = LandmarkSettings {
        shape_weight: 0.5,
        eye_width_share: 0.5 / 0.35,
        mouth_width_share: 1.0,
        mouth_open_share: 0.5,
        outline_share: 0.75,
        ..LandmarkSettings::default()
    };
    let mut analyzer = engine.analyzer().unwrap();
    let mut likeness = |settings| {
        let result = swapped_with(&engine, &source, settings);
        let comparison = compare_pictures(&mut analyzer, source.identity(), &original, &result).unwrap();
        assert_eq!(comparison.faces.len(), 6, "{comparison:?}");
        comparison.mean_identity_after
    };
    let (kept, followed) = (likeness(LandmarkSettings::default()), likeness(outline));
    eprintln!("likeness {kept:.3} with the target's outline, {followed:.3} with the source's");
    assert!(followed >= kept + 0.015, "{followed} against {kept}");
}

#[test]
fn a_source_turned_away_is_named() {
    let engine = engine();
    // Face 2 of gdp.jpg is a profile; the astronaut is frontal.
    let profile = engine.source_face(&photo("gdp.jpg"), "gdp.jpg", Some(2)).unwrap();
    let frontal = engine.source_face(&photo("astronaut.png"), "astronaut", None).unwrap();
    eprintln!("turn: profile {:.1}, astronaut {:.2}", profile.turn().ratio, frontal.turn().ratio);
    assert!(profile.turn().is_turned_away(), "{:?}", profile.turn());
    assert!(!frontal.turn().is_turned_away() && frontal.turn().ratio < 1.3, "{:?}", frontal.turn());
    let out = Command::new(env!("CARGO_BIN_EXE_faceswap"))
        .current_dir(root())
        .env("FACESWAP_MODELS_DIR", models_dir())
        .args(["swap", "--provenance", "none", "--source-face", "2", "--source"])
        .arg(media("gdp.jpg"))
        .arg("--target")
        .arg(media("astronaut.png"))
        .arg("--output")
        .arg(tempfile::tempdir().unwrap().path().join("out.png"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("turned well away") && stderr.contains("frontal picture"), "{stderr}");
}
