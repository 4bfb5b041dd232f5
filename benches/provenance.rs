//! What provenance costs: the watermark on a video frame (its residual made anew every third
//! frame, so the mean over calls is the per-frame cost) and on a picture, reading it back, and
//! signing a picture's C2PA manifest, at 640×480 and 1280×720 on ONNX Runtime's CPU provider.
//! Run with `cargo bench --features bench --bench provenance` after scripts/setup.sh.

use std::{hint::black_box, path::Path, time::Duration};

use criterion::{criterion_group, criterion_main, Criterion};
use faceswap::{
    imaging::{encode_rgb, PictureFormat},
    models::ModelStore,
    provenance::{
        Asset, Cadence, ContentCredentials, EditRecord, MediaFormat, SigningIdentity, WatermarkReader, Watermarker,
    },
    runtime::{OrtRuntime, ProviderChoice, SessionFactory},
};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn provenance(c: &mut Criterion) {
    let runtime =
        OrtRuntime::load(Some(&root().join(".cache/onnxruntime"))).expect("ONNX Runtime: run scripts/setup.sh");
    let factory = SessionFactory::new(runtime, ProviderChoice::cpu()).expect("CPU provider");
    let store = ModelStore::open(root().join("models")).expect("models");
    let encoder = store.verify("rivagan_encoder").expect("the watermark encoder: run scripts/setup.sh");
    let decoder = store.verify("rivagan_decoder").expect("the watermark decoder: run scripts/setup.sh");
    let photo = image::open(root().join(".cache/media/t1.jpg")).expect("sample media").into_rgb8();
    let data = tempfile::tempdir().expect("temp");
    let credentials = ContentCredentials::new(SigningIdentity::local(data.path()).expect("identity"));
    for (name, (w, h)) in [("640x480", (640, 480)), ("1280x720", (1280, 720))] {
        let frame = image::imageops::resize(&photo, w, h, image::imageops::FilterType::Triangle);
        let mut video = Watermarker::build(&factory, &encoder, 0x123, Cadence::VIDEO).expect("marker");
        let mut work = frame.clone();
        c.bench_function(&format!("watermark a video frame (mean over the cadence), {name}"), |b| {
            b.iter(|| video.mark(black_box(&mut work)).expect("mark"))
        });
        let mut picture = Watermarker::build(&factory, &encoder, 0x123, Cadence::PICTURE).expect("marker");
        let mut marked = frame.clone();
        c.bench_function(&format!("watermark a picture, {name}"), |b| {
            b.iter(|| picture.mark(black_box(&mut marked)).expect("mark"))
        });
        let mut reader = WatermarkReader::build(&factory, &decoder).expect("reader");
        let one = [marked.clone()];
        c.bench_function(&format!("read the watermark of a picture, {name}"), |b| {
            b.iter(|| reader.read(black_box(&one)).expect("read"))
        });
        let jpeg = encode_rgb(&marked, PictureFormat::Jpeg).expect("jpeg");
        let target = encode_rgb(&frame, PictureFormat::Jpeg).expect("jpeg");
        let record = EditRecord {
            target: Asset::Bytes { name: "target.jpg", bytes: &target },
            source_face: Some("0000000000000000000000000000000000000000000000000000000000000000"),
            swapper: "landmark",
            enhancer: None,
        };
        c.bench_function(&format!("sign a JPEG's C2PA manifest, {name}"), |b| {
            b.iter(|| credentials.sign_bytes(black_box(&jpeg), MediaFormat::Jpeg, "out.jpg", &record).expect("sign"))
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = provenance
}
criterion_main!(benches);
