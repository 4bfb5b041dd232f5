//! The occlusion and region masks against FaceFusion's own `create_occlusion_mask` and
//! `create_region_mask` (tests/reference/mask_*, scripts/make_facefusion_references.py, with the
//! synthetic models of the same interface in tests/fixtures), and the crop they are made on
//! against FaceFusion's warp.

use faceswap::{
    face::umeyama_similarity,
    imaging::{warp_affine_rgb_replicate, GrayF32, Rect},
    mask::{FaceParser, FaceRegion, FaceRegions, Occluder, MASK_SIZE},
    models::ModelStore,
};
use image::RgbImage;

use crate::support::{factory, photo, reference, root};

fn reference_mask(name: &str) -> GrayF32 {
    let png = image::open(root().join(format!("tests/reference/{name}.png"))).unwrap().into_luma16();
    GrayF32::from_fn(png.width(), png.height(), |x, y| image::Luma([f32::from(png.get_pixel(x, y).0[0]) / 65535.0]))
}

fn mean_abs(a: &GrayF32, b: &GrayF32) -> (f32, f32) {
    let diffs: Vec<f32> = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| (x - y).abs()).collect();
    (diffs.iter().sum::<f32>() / diffs.len() as f32, diffs.iter().copied().fold(0.0, f32::max))
}

fn crop() -> RgbImage {
    image::open(root().join("tests/reference/mask_astronaut_crop.png")).unwrap().into_rgb8()
}

#[test]
fn the_mask_crop_is_facefusions_warp() {
    let kps = reference("astronaut").faces[0].kps;
    let side = MASK_SIZE as f32;
    let template = [
        [0.361_676_56 * side, 0.403_877_34 * side],
        [0.636_967_2 * side, 0.402_354_7 * side],
        [0.500_196_9 * side, 0.560_442_2 * side],
        [0.387_103_9 * side, 0.721_605_5 * side],
        [0.615_077_3 * side, 0.720_344_5 * side],
    ];
    let mut ours = RgbImage::new(MASK_SIZE, MASK_SIZE);
    warp_affine_rgb_replicate(
        &photo("astronaut.png"),
        &umeyama_similarity(&kps, &template),
        &mut ours,
        Rect::full(MASK_SIZE, MASK_SIZE),
    );
    let want = crop();
    let total: u64 = ours.as_raw().iter().zip(want.as_raw()).map(|(a, b)| u64::from(a.abs_diff(*b))).sum();
    let mean = total as f64 / want.as_raw().len() as f64;
    eprintln!("mask crop vs FaceFusion's warp: mean {mean:.4} grey levels");
    assert!(mean <= 1.0, "{mean}");
}

#[test]
fn the_occlusion_mask_matches_facefusion() {
    let model = ModelStore::unpinned(&root().join("tests/fixtures/occluder_synthetic.onnx")).unwrap();
    let mask = Occluder::build(&factory(), &model).unwrap().mask(&crop()).unwrap();
    let (mean, max) = mean_abs(&mask, &reference_mask("mask_astronaut_occlusion"));
    eprintln!("occlusion mask vs FaceFusion: mean {mean:.5}, max {max:.4}");
    assert!(mean <= 1.0 / 255.0, "{mean}");
    assert!(mask.as_raw().iter().any(|&v| v < 0.05) && mask.as_raw().iter().any(|&v| v > 0.95), "a mask with both");
}

#[test]
fn the_region_mask_matches_facefusion() {
    let model = ModelStore::unpinned(&root().join("tests/fixtures/parser_synthetic.onnx")).unwrap();
    let regions: FaceRegions =
        [FaceRegion::Skin, FaceRegion::Nose, FaceRegion::UpperLip, FaceRegion::LowerLip].into_iter().collect();
    let mask = FaceParser::build(&factory(), &model).unwrap().mask(&crop(), regions).unwrap();
    let (mean, max) = mean_abs(&mask, &reference_mask("mask_astronaut_region"));
    eprintln!("region mask vs FaceFusion: mean {mean:.5}, max {max:.4}");
    assert!(mean <= 1.0 / 255.0, "{mean}");
}

#[test]
fn models_of_another_interface_are_refused_naming_it() {
    let parser = ModelStore::unpinned(&root().join("tests/fixtures/parser_synthetic.onnx")).unwrap();
    let error = Occluder::build(&factory(), &parser).err().unwrap().to_string();
    assert!(error.contains("1×S×S×3"), "{error}");
    let occluder = ModelStore::unpinned(&root().join("tests/fixtures/occluder_synthetic.onnx")).unwrap();
    let error = FaceParser::build(&factory(), &occluder).err().unwrap().to_string();
    assert!(error.contains("1×3×S×S"), "{error}");
}
