//! Pixel operations the face engine is made of, written to match OpenCV's where insightface uses
//! OpenCV, and to run per frame on buffers that are reused.

mod affine;
mod blend;
mod box_mask;
mod error;
mod filter;
mod io;
mod letterbox;
mod masked_paste;
mod picture;
mod polygon;
mod rect;
mod resize;
mod tensor;
mod warp;

pub use affine::Affine;
pub use blend::blend_masked;
pub use box_mask::box_mask;
pub use error::{ImageError, PictureCause};
pub use filter::{box_blur3, erode_binary, erode_square, gaussian_blur, gaussian_kernel};
pub use io::{
    check_output, format_for_path, is_picture_path, load_picture_within, load_rgb, load_rgb_within, save_rgb,
    write_atomically, SaveMode,
};
pub use letterbox::{Letterbox, LetterboxResizer};
pub use masked_paste::MaskedPaste;
pub use picture::{
    decode_picture, decode_rgb, encode_rgb, encode_with_alpha, Picture, PictureFormat, PictureLimits,
    DEFAULT_MAX_PIXELS,
};
pub use polygon::fill_polygon;
pub use rect::{bounds, centroid, Rect};
pub use resize::{resize_gray_linear, resize_rgb_linear};
pub use tensor::{nchw_from_rgb, Normalization};
pub use warp::{warp_affine_gray, warp_affine_rgb, warp_affine_rgb_replicate};

/// A single-channel float image (masks).
pub type GrayF32 = image::ImageBuffer<image::Luma<f32>, Vec<f32>>;

/// A point in pixels, x then y.
pub type Point = [f32; 2];
