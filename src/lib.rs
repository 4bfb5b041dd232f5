//! faceswap: swap faces in photos and video, in real time, on ONNX Runtime.
//!
//! The library holds everything the front-ends (the `faceswap` command, the HTTP service),
//! the tests and the benches share. [`engine`] assembles it all once from an
//! [`engine::EngineConfig`]; [`runtime`] loads ONNX Runtime and builds sessions, [`models`]
//! knows and verifies the model files, [`face`] detects and describes faces, [`swap`] puts one
//! face onto another, [`pipeline`] runs video through stages, [`transcode`] writes swapped
//! video files, [`server`] is the HTTP service, and [`imaging`] holds the pixel operations.

pub mod atomic_file;
pub mod bench;
pub mod bounded_read;
pub mod engine;
pub mod enhance;
pub mod error;
pub mod error_kind;
pub mod error_text;
pub mod face;
pub mod health;
pub mod imaging;
#[cfg(feature = "server")]
pub mod jobs;
pub mod live;
pub mod mask;
pub mod models;
pub mod paths;
pub mod pipeline;
pub mod provenance;
pub mod quality;
pub mod redact;
pub mod runtime;
#[cfg(feature = "server")]
pub mod server;
pub mod signal;
#[cfg(feature = "server")]
pub mod storage;
pub mod stream;
pub mod swap;
pub mod transcode;
pub mod video;
#[cfg(feature = "server")]
pub mod webrtc;

pub use error::{Error, ErrorKind, Result};
