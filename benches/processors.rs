//! What runs with the swapper, per face, on ONNX Runtime's CPU provider: the face enhancer, the
//! occlusion and region masks, inswapper's pixel boost, and FaceFusion's masked paste-back
//! alone. The models are the synthetic ones of tests/fixtures (same interfaces, a few layers),
//! so the figures are faceswap's own pre- and post-processing plus a near-free model: the real
//! models' time is added on top. Run with `cargo bench --features bench --bench processors`
//! after scripts/setup.sh.

use std::{hint::black_box, path::Path, time::Duration};

use criterion::{criterion_group, criterion_main, Criterion};
use faceswap::{
    enhance::{EnhanceSettings, EnhancerKind, FaceEnhancer},
    face::Face,
    imaging::{box_mask, GrayF32, MaskedPaste, Point},
    mask::{FaceMasker, FaceParser, FaceRegions, MaskSettings, Occluder},
    models::ModelStore,
    runtime::{OrtRuntime, ProviderChoice, SessionFactory},
};
use image::RgbImage;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn factory() -> SessionFactory {
    let runtime =
        OrtRuntime::load(Some(&root().join(".cache/onnxruntime"))).expect("ONNX Runtime: run scripts/setup.sh");
    SessionFactory::new(runtime, ProviderChoice::cpu()).expect("CPU provider")
}

fn fixture(name: &str) -> faceswap::models::VerifiedModel {
    ModelStore::unpinned(&root().join("tests/fixtures").join(name)).expect("fixture")
}

/// The astronaut scaled into a frame of `width`×`height` (its face about half the height),
/// with its face's five points moved along.
fn frame(width: u32, height: u32) -> (RgbImage, Face) {
    let photo =
        image::open(root().join(".cache/media/astronaut.png")).expect("sample media: run scripts/setup.sh").into_rgb8();
    let scale = height as f32 / photo.height() as f32;
    let scaled = image::imageops::resize(
        &photo,
        (photo.width() as f32 * scale) as u32,
        height,
        image::imageops::FilterType::Triangle,
    );
    let mut out = RgbImage::new(width, height);
    image::imageops::replace(&mut out, &scaled, i64::from((width - scaled.width()) / 2), 0);
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/reference/astronaut.json")).expect("reference"),
    )
    .expect("json");
    let shift = ((width - scaled.width()) / 2) as f32;
    let at = |v: &serde_json::Value| -> Point {
        [v[0].as_f64().unwrap_or(0.0) as f32 * scale + shift, v[1].as_f64().unwrap_or(0.0) as f32 * scale]
    };
    let kps: Vec<Point> = doc["faces"][0]["kps"].as_array().expect("kps").iter().map(at).collect();
    let b: Vec<f32> =
        doc["faces"][0]["bbox"].as_array().expect("bbox").iter().map(|v| v.as_f64().unwrap_or(0.0) as f32).collect();
    let face = Face {
        bbox: [b[0] * scale + shift, b[1] * scale, b[2] * scale + shift, b[3] * scale],
        score: 0.9,
        kps: [kps[0], kps[1], kps[2], kps[3], kps[4]],
        landmarks: None,
        embedding: None,
    };
    (out, face)
}

fn processors(c: &mut Criterion) {
    let factory = factory();
    for (name, (w, h)) in [("640x480", (640, 480)), ("1920x1080", (1920, 1080))] {
        let (picture, face) = frame(w, h);
        for (kind, file) in [
            (EnhancerKind::Gfpgan14, "enhancer_gfpgan_synthetic.onnx"),
            (EnhancerKind::GpenBfr256, "enhancer_gpen256_synthetic.onnx"),
        ] {
            let mut enhancer = FaceEnhancer::build(&factory, &fixture(file), kind).expect("enhancer");
            let settings = EnhanceSettings::new(kind);
            let mut work = picture.clone();
            c.bench_function(&format!("enhance a face, {kind} interface, {name}"), |b| {
                b.iter(|| enhancer.enhance(black_box(&mut work), &face.kps, &settings).expect("enhance"))
            });
        }
        let occluder = Occluder::build(&factory, &fixture("occluder_synthetic.onnx")).expect("occluder");
        let parser = FaceParser::build(&factory, &fixture("parser_synthetic.onnx")).expect("parser");
        let settings = MaskSettings { occlusion: true, regions: Some(FaceRegions::all()) };
        let mut masker = FaceMasker::new(settings, Some(occluder), Some(parser));
        let mut work = picture.clone();
        c.bench_function(&format!("occlusion + region masks around a face, {name}"), |b| {
            b.iter(|| {
                masker.before(black_box(&work), &face).expect("before");
                masker.after(black_box(&mut work)).expect("after");
            })
        });
        // FaceFusion's paste-back alone: a 512 crop under its box mask, at blend 80.
        let crop = RgbImage::from_pixel(512, 512, image::Rgb([128, 100, 90]));
        let mask: GrayF32 = box_mask(512, 0.3, [0; 4]);
        let template: Vec<Point> = EnhancerKind::Gfpgan14.template().to_vec();
        let crop_from_frame = faceswap::face::umeyama_similarity(&face.kps, &template);
        let mut paste = MaskedPaste::new();
        let mut work = picture.clone();
        c.bench_function(&format!("masked paste-back of a 512 crop, {name}"), |b| {
            b.iter(|| paste.paste(black_box(&mut work), &crop, &mask, &crop_from_frame, 0.8))
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = processors
}
criterion_main!(benches);
