//! ONNX Runtime: finding and loading the library, choosing execution providers, building sessions.

mod error;
mod library;
mod provider;
mod session;

pub use error::{OrtCause, RuntimeError};
pub use library::{locate_library, OrtRuntime, DEFAULT_LIBRARY_DIR};
pub use provider::{ExecutionProvider, ProviderChoice};
pub use session::{tensor_shape, ModelSession, SessionFactory, MAX_THREADS};
