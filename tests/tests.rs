//! faceswap's integration tests: one binary, real models on real photos.
//!
//! They need what scripts/setup.sh installs (ONNX Runtime, the default models, sample media);
//! a missing file fails the test with the command that installs it.

mod bench;
mod cli;
#[cfg(feature = "server")]
mod cluster;
#[cfg(feature = "server")]
mod cluster_support;
mod enhancers;
mod hardening;
mod hostile;
#[cfg(feature = "server")]
mod hostile_serve;
mod live;
mod masks;
mod model_server;
mod models;
mod openvino;
mod parity;
mod parts;
#[cfg(feature = "server")]
mod processors;
mod properties;
mod provenance;
mod quality;
#[cfg(feature = "server")]
mod serve;
#[cfg(feature = "server")]
mod serve_support;
mod streams;
#[cfg(feature = "server")]
mod studio;
mod support;
mod swappers;
mod transcode;
