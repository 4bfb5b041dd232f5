//! faceswap: swap faces in photos and video, in real time, on ONNX Runtime.
//!
//! The library holds everything the `faceswap` binary, the tests and the benches share:
//! [`runtime`] loads ONNX Runtime and builds sessions, [`models`] knows and verifies the model
//! files, [`face`] detects and describes faces, [`swap`] puts one face onto another, and
//! [`imaging`] holds the pixel operations they are made of.

pub mod bench;
pub mod error;
pub mod face;
pub mod health;
pub mod imaging;
pub mod models;
pub mod pipeline;
pub mod runtime;
pub mod swap;
pub mod video;

pub use error::{Error, Result};
