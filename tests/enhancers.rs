//! Face enhancers against FaceFusion's own `enhance_face` (tests/reference/enhance_*, made by
//! scripts/make_facefusion_references.py with the synthetic models of the same interface in
//! tests/fixtures): the same five points in, the same picture out.

use faceswap::{
    enhance::{EnhanceSettings, EnhancerKind, FaceEnhancer},
    models::ModelStore,
};
use image::RgbImage;

use crate::support::{factory, photo, reference, root};

#[derive(serde::Deserialize)]
struct Case {
    fixture: String,
    picture: String,
    blend: u8,
    weight: f64,
    crop: [u32; 4],
}

fn case(name: &str) -> Case {
    serde_json::from_str(&std::fs::read_to_string(root().join(format!("tests/reference/{name}.json"))).unwrap())
        .unwrap()
}

/// The picture FaceFusion left: the original with the changed region laid over it.
pub fn facefusion_result(name: &str, picture: &str, at: [u32; 4]) -> RgbImage {
    let crop = image::open(root().join(format!("tests/reference/{name}.png"))).unwrap().into_rgb8();
    let mut out = photo(picture);
    image::imageops::replace(&mut out, &crop, i64::from(at[0]), i64::from(at[1]));
    out
}

pub fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> (f64, u8) {
    let total: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    let max = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0);
    (total as f64 / a.as_raw().len() as f64, max)
}

/// The largest face's five points, as insightface found them (the reference's input too).
fn largest_kps(picture: &str) -> [[f32; 2]; 5] {
    let stem = picture.split('.').next().unwrap();
    let faces = reference(stem).faces;
    let area = |b: &[f32; 4]| (b[2] - b[0]) * (b[3] - b[1]);
    faces.iter().max_by(|a, b| area(&a.bbox).total_cmp(&area(&b.bbox))).unwrap().kps
}

fn matches_facefusion(name: &str, kind: EnhancerKind) {
    let case = case(name);
    let model = ModelStore::unpinned(&root().join("tests/fixtures").join(&case.fixture)).unwrap();
    let mut enhancer = FaceEnhancer::build(&factory(), &model, kind).unwrap();
    assert_eq!(enhancer.has_weight(), kind == EnhancerKind::Codeformer);
    let mut picture = photo(&case.picture);
    let settings = EnhanceSettings { kind, blend: case.blend, weight: case.weight };
    enhancer.enhance(&mut picture, &largest_kps(&case.picture), &settings).unwrap();
    let want = facefusion_result(name, &case.picture, case.crop);
    let (mean, max) = mean_abs_diff(&picture, &want);
    // Over the region FaceFusion changed, where a difference can be.
    let [x0, y0, x1, y1] = case.crop;
    let region = |p: &RgbImage| image::imageops::crop_imm(p, x0, y0, x1 - x0, y1 - y0).to_image();
    let (region_mean, _) = mean_abs_diff(&region(&picture), &region(&want));
    eprintln!("{name}: vs FaceFusion mean {mean:.4} (changed region {region_mean:.4}), max {max} grey levels");
    assert!(region_mean <= 1.0, "{name}: mean abs difference over the changed region {region_mean}");
    assert!(max <= 8, "{name}: max difference {max}");
    assert_ne!(picture, photo(&case.picture), "the enhancer changed nothing");
}

#[test]
fn gfpgan_matches_facefusion_on_a_face_its_size() {
    matches_facefusion("enhance_gfpgan_astronaut", EnhancerKind::Gfpgan14);
}

#[test]
fn gfpgan_matches_facefusion_on_a_small_face_blown_up_at_full_blend() {
    matches_facefusion("enhance_gfpgan_t1", EnhancerKind::Gfpgan14);
}

#[test]
fn gpen_256_matches_facefusion_with_its_arcface_template() {
    matches_facefusion("enhance_gpen256_astronaut", EnhancerKind::GpenBfr256);
}

#[test]
fn codeformer_matches_facefusion_with_its_weight_and_a_lower_blend() {
    matches_facefusion("enhance_codeformer_astronaut", EnhancerKind::Codeformer);
}

#[test]
fn an_enhancer_of_the_wrong_size_is_refused_naming_both() {
    let model = ModelStore::unpinned(&root().join("tests/fixtures/enhancer_gpen256_synthetic.onnx")).unwrap();
    let error = FaceEnhancer::build(&factory(), &model, EnhancerKind::Gfpgan14).err().unwrap().to_string();
    assert!(error.contains("gfpgan_1.4 takes 1×3×512×512"), "{error}");
}
