//! Shared fixtures: the repository's paths, the runtime, the engine, the references.

use std::path::{Path, PathBuf};

use faceswap::{
    engine::{Engine, EngineConfig},
    face::{DetectorConfig, FaceAnalyzer, FaceModels},
    imaging::load_rgb,
    models::ModelStore,
    runtime::{OrtRuntime, ProviderChoice, SessionFactory},
};
use image::RgbImage;
use serde::Deserialize;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A sample picture fetched by scripts/setup.sh.
pub fn media(name: &str) -> PathBuf {
    let path = root().join(".cache/media").join(name);
    assert!(path.is_file(), "{} is missing: run scripts/setup.sh", path.display());
    path
}

pub fn photo(name: &str) -> RgbImage {
    load_rgb(&media(name)).expect("sample photo decodes")
}

pub fn models_dir() -> PathBuf {
    root().join("models")
}

/// The engine on the default models, two threads a model; without provenance marks, so that
/// these tests measure the swap itself (tests/provenance.rs checks the marks).
pub fn engine() -> Engine {
    let config = EngineConfig {
        models_dir: models_dir(),
        ort_library: Some(root().join(".cache/onnxruntime")),
        threads: Some(2),
        provenance: faceswap::engine::ProvenanceConfig {
            marks: faceswap::provenance::ProvenanceMarks::NONE,
            ..Default::default()
        },
        ..EngineConfig::default()
    };
    Engine::open(config).expect("engine opens")
}

pub fn factory() -> SessionFactory {
    let library = root().join(".cache/onnxruntime");
    let runtime = OrtRuntime::load(Some(&library)).expect("ONNX Runtime loads: run scripts/setup.sh");
    // Two threads: the tests run side by side on small machines.
    SessionFactory::new(runtime, ProviderChoice::cpu()).expect("CPU provider").with_intra_threads(2).expect("2 threads")
}

pub fn models() -> FaceModels {
    let store = ModelStore::open(models_dir()).unwrap();
    FaceModels::default_pack(&store).expect("default pack present: run scripts/setup.sh")
}

pub fn analyzer() -> FaceAnalyzer {
    FaceAnalyzer::build(&factory(), &models(), DetectorConfig::scrfd()).expect("engine builds")
}

/// One face as insightface's Python package reports it (tests/reference/*.json).
#[derive(Debug, Deserialize)]
pub struct ReferenceFace {
    pub bbox: [f32; 4],
    pub score: f32,
    pub kps: [[f32; 2]; 5],
    pub landmarks: Vec<[f32; 2]>,
    pub embedding: Vec<f32>,
}

#[derive(Debug, Deserialize)]
pub struct Reference {
    pub image_sha256: String,
    pub width: u32,
    pub height: u32,
    pub faces: Vec<ReferenceFace>,
}

pub fn reference(stem: &str) -> Reference {
    let path = root().join("tests/reference").join(format!("{stem}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

pub fn distance(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

/// A clip of `loops` carphones (120 frames each), without sound.
/// The sample clip scaled to 640×480 (H.264, CRF 16) in `dir`, as `carphone-640.mp4`.
pub fn carphone_640(dir: &Path) -> PathBuf {
    let clip = dir.join("carphone-640.mp4");
    let out = std::process::Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-i"])
        .arg(media("carphone.mp4"))
        .args(["-vf", "scale=640:480", "-c:v", "libx264", "-crf", "16"])
        .arg(&clip)
        .output()
        .expect("ffmpeg runs: run scripts/setup.sh");
    assert!(out.status.success(), "ffmpeg: {}", String::from_utf8_lossy(&out.stderr));
    clip
}

pub fn long_clip(dir: &Path, loops: u32) -> PathBuf {
    let out = dir.join(format!("carphone-x{loops}.mp4"));
    let carphone = media("carphone.mp4");
    crate::transcode::ffmpeg(&[
        "-stream_loop",
        &(loops - 1).to_string(),
        "-i",
        carphone.to_str().unwrap(),
        "-c",
        "copy",
        out.to_str().unwrap(),
    ]);
    out
}
