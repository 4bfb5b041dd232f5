//! The per-frame CPU steps the model floor does not cover: the work that makes Python tools
//! slow, and that faceswap must keep small. Run with `cargo bench --features bench`.
//!
//! Inputs: the sample photos when scripts/setup.sh has fetched them, else generated pictures of
//! the same size; face geometry from the committed insightface references.

use std::{hint::black_box, path::Path};

use criterion::{criterion_group, criterion_main, Criterion};
use faceswap::{
    face::{align_to_template, nms, Candidate, Face},
    imaging::{
        box_blur3, erode_binary, gaussian_blur, gaussian_kernel, nchw_from_rgb, warp_affine_rgb, GrayF32,
        LetterboxResizer, Normalization, Point, Rect,
    },
    swap::{FaceMesh, LandmarkSwapper, PasteBack, SourceFace, Swapper, Texture},
};
use image::RgbImage;

fn photo(name: &str, width: u32, height: u32) -> RgbImage {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/media").join(name);
    image::open(&path).map(|p| p.into_rgb8()).unwrap_or_else(|_| {
        RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8]))
    })
}

/// The first face of a committed reference, as a `Face` with landmarks.
fn reference_face(stem: &str) -> Face {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference").join(format!("{stem}.json"));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("reference")).expect("json");
    let face = &doc["faces"][0];
    let point =
        |v: &serde_json::Value| -> Point { [v[0].as_f64().unwrap_or(0.0) as f32, v[1].as_f64().unwrap_or(0.0) as f32] };
    let bbox: Vec<f32> =
        face["bbox"].as_array().expect("bbox").iter().map(|v| v.as_f64().unwrap_or(0.0) as f32).collect();
    let kps: Vec<Point> = face["kps"].as_array().expect("kps").iter().map(point).collect();
    Face {
        bbox: [bbox[0], bbox[1], bbox[2], bbox[3]],
        score: 0.9,
        kps: [kps[0], kps[1], kps[2], kps[3], kps[4]],
        landmarks: Some(face["landmarks"].as_array().expect("landmarks").iter().map(point).collect()),
        // A source face carries its identity vector (the swapper refuses one without).
        embedding: face["embedding"]
            .as_array()
            .map(|e| faceswap::face::Embedding(e.iter().map(|v| v.as_f64().unwrap_or(0.0) as f32).collect())),
    }
}

fn letterbox(c: &mut Criterion) {
    let frame = image::imageops::resize(&photo("t1.jpg", 1280, 886), 1280, 720, image::imageops::FilterType::Triangle);
    let vga = image::imageops::resize(&frame, 640, 480, image::imageops::FilterType::Triangle);
    let norm = Normalization { mean: 127.5, scale: 1.0 / 128.0 };
    let mut resizer = LetterboxResizer::new();
    let mut square = vec![0.0; 3 * 640 * 640];
    c.bench_function("letterbox 1280x720 -> 640x640", |b| {
        b.iter(|| resizer.run(black_box(&frame), 640, 640, norm, &mut square))
    });
    let mut fitted = vec![0.0; 3 * 640 * 384];
    c.bench_function("letterbox 1280x720 -> 640x384 (fitted)", |b| {
        b.iter(|| resizer.run(black_box(&frame), 640, 384, norm, &mut fitted))
    });
    let mut same = vec![0.0; 3 * 640 * 480];
    c.bench_function("letterbox 640x480 -> 640x480 (fitted)", |b| {
        b.iter(|| resizer.run(black_box(&vga), 640, 480, norm, &mut same))
    });
}

fn alignment(c: &mut Criterion) {
    let picture = photo("astronaut.png", 512, 512);
    let face = reference_face("astronaut");
    for size in [112u32, 128, 192] {
        let m = align_to_template(&face.kps, size);
        let mut crop = RgbImage::new(size, size);
        c.bench_function(&format!("alignment warp {size}x{size}"), |b| {
            b.iter(|| warp_affine_rgb(black_box(&picture), &m, &mut crop, Rect::full(size, size)))
        });
    }
    let crop = RgbImage::new(192, 192);
    let mut tensor = vec![0.0; 3 * 192 * 192];
    c.bench_function("colour conversion 192x192 RGB -> planar f32", |b| {
        b.iter(|| nchw_from_rgb(black_box(&crop), Normalization { mean: 0.0, scale: 1.0 }, &mut tensor))
    });
}

fn paste_back(c: &mut Criterion) {
    let face = reference_face("astronaut");
    let frame = photo("astronaut.png", 512, 512);
    let swapped = RgbImage::from_pixel(128, 128, image::Rgb([200, 150, 120]));
    let m = align_to_template(&face.kps, 128);
    let mut paste = PasteBack::new();
    c.bench_function("paste-back 128 crop into 512x512 (inswapper)", |b| {
        b.iter_batched_ref(|| frame.clone(), |f| paste.paste(f, &swapped, &m), criterion::BatchSize::LargeInput)
    });
    let mut mask = GrayF32::from_fn(400, 400, |x, y| {
        image::Luma([if (100..300).contains(&x) && (100..300).contains(&y) { 255.0 } else { 0.0 }])
    });
    let kernel = gaussian_kernel(21, 0.0);
    let mut scratch = Vec::new();
    c.bench_function("gaussian blur 400x400 k=21 (OpenCV-exact)", |b| {
        b.iter(|| gaussian_blur(&mut mask, Rect::full(400, 400), &kernel, &mut scratch))
    });
    c.bench_function("box blur x3 400x400 r=8 (feathering)", |b| {
        b.iter(|| box_blur3(&mut mask, Rect::full(400, 400), 8, &mut scratch))
    });
    c.bench_function("binary erosion 400x400 k=15", |b| {
        b.iter(|| erode_binary(&mut mask, Rect::full(400, 400), 15, &mut scratch))
    });
}

fn detection_post(c: &mut Criterion) {
    let candidates: Vec<Candidate> = (0..200)
        .map(|i| {
            let (x, y) = ((i % 20) as f32 * 12.0, (i / 20) as f32 * 12.0);
            Candidate { bbox: [x, y, x + 40.0, y + 40.0], score: 0.5 + (i % 7) as f32 * 0.05, kps: [[x, y]; 5] }
        })
        .collect();
    c.bench_function("nms 200 candidates", |b| {
        b.iter_batched_ref(|| candidates.clone(), |list| nms(list, 0.4), criterion::BatchSize::SmallInput)
    });
}

fn landmark_swapper(c: &mut Criterion) {
    let source_picture = photo("astronaut.png", 512, 512);
    let source = reference_face("astronaut");
    let target_frame = photo("t1.jpg", 1280, 886);
    let target = reference_face("t1");
    let mesh = FaceMesh::triangulate(source.landmarks.as_deref().unwrap_or_default());
    let mut warped = RgbImage::new(target_frame.width(), target_frame.height());
    let mut coverage = GrayF32::new(target_frame.width(), target_frame.height());
    let roi = Rect::full(target_frame.width(), target_frame.height());
    let skin = image::GrayImage::from_pixel(source_picture.width(), source_picture.height(), image::Luma([255]));
    c.bench_function("landmark swapper: triangle warp only", |b| {
        b.iter(|| {
            let texture = Texture {
                picture: &source_picture,
                skin: &skin,
                points: source.landmarks.as_deref().unwrap_or_default(),
            };
            mesh.warp(texture, target.landmarks.as_deref().unwrap_or_default(), &mut warped, &mut coverage, roi)
        })
    });
    let mut swapper = LandmarkSwapper::new();
    let source_face = SourceFace::new(&source_picture, &source).expect("source has landmarks");
    c.bench_function("landmark swapper: whole swap of one face", |b| {
        b.iter_batched_ref(
            || target_frame.clone(),
            |f| swapper.swap(f, &target, &source_face).expect("swap"),
            criterion::BatchSize::LargeInput,
        )
    });
}

criterion_group!(benches, letterbox, alignment, paste_back, detection_post, landmark_swapper);
criterion_main!(benches);
