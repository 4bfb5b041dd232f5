//! Building sessions in one place: provider, threads and interface checks for every model.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use ort::{
    session::{Session, SessionInputs, SessionOutputs},
    value::ValueType,
};

use super::{ExecutionProvider, OrtCause, OrtRuntime, ProviderChoice, RuntimeError};

/// The most threads a model may be given. These models stop scaling long before (measured: 2
/// to 8 threads is the useful range); more only cost memory and start-up, since every session
/// of every stage has a pool of them.
pub const MAX_THREADS: usize = 64;

/// Builds ONNX Runtime sessions with the user's provider choice and thread settings.
#[derive(Debug, Clone)]
pub struct SessionFactory {
    runtime: OrtRuntime,
    choice: ProviderChoice,
    intra_threads: Option<usize>,
}

impl SessionFactory {
    /// A factory on `runtime` that uses `choice` for every session.
    ///
    /// # Errors
    /// [`RuntimeError::ProviderUnavailable`] when the provider is not in the loaded library and
    /// no fallback was allowed.
    pub fn new(runtime: OrtRuntime, choice: ProviderChoice) -> Result<Self, RuntimeError> {
        let mut choice = choice;
        if !choice.provider.is_compiled_in()? {
            let missing = RuntimeError::ProviderNotBuilt {
                provider: choice.provider.to_string(),
                library: runtime.library().to_path_buf(),
                version: runtime.version().to_string(),
            };
            if !choice.fallback_to_cpu {
                return Err(missing);
            }
            tracing::warn!(reason = %missing, "falling back to CPU as allowed");
            choice = ProviderChoice::cpu();
        }
        Ok(Self { runtime, choice, intra_threads: None })
    }

    /// Limits each session's intra-op thread pool (default: ONNX Runtime's, one per core).
    ///
    /// # Errors
    /// [`RuntimeError::Threads`] for none, or more than [`MAX_THREADS`].
    pub fn with_intra_threads(mut self, threads: usize) -> Result<Self, RuntimeError> {
        if !(1..=MAX_THREADS).contains(&threads) {
            return Err(RuntimeError::Threads { threads });
        }
        self.intra_threads = Some(threads);
        Ok(self)
    }

    /// The loaded runtime.
    pub fn runtime(&self) -> &OrtRuntime {
        &self.runtime
    }

    /// The provider sessions are built for.
    pub fn provider(&self) -> &ExecutionProvider {
        &self.choice.provider
    }

    /// Builds a session on the model file at `path`; `label` names it in logs and errors.
    ///
    /// # Errors
    /// [`RuntimeError::Session`] when ONNX Runtime cannot load the file, and
    /// [`RuntimeError::ProviderUnavailable`] when the provider fails and no fallback is allowed.
    pub fn build(&self, path: &Path, label: &str) -> Result<ModelSession, RuntimeError> {
        match self.build_with(path, &self.choice.provider) {
            Ok(session) => Ok(ModelSession {
                session,
                label: label.to_string(),
                provider: self.choice.provider.clone(),
                inference: Duration::ZERO,
            }),
            Err(e) if self.choice.provider != ExecutionProvider::Cpu && self.choice.fallback_to_cpu => {
                tracing::warn!(model = label, provider = %self.choice.provider, reason = %e, "falling back to CPU as allowed");
                let session = self.build_with(path, &ExecutionProvider::Cpu)?;
                Ok(ModelSession {
                    session,
                    label: label.to_string(),
                    provider: ExecutionProvider::Cpu,
                    inference: Duration::ZERO,
                })
            }
            Err(e) => Err(e),
        }
    }

    fn build_with(&self, path: &Path, provider: &ExecutionProvider) -> Result<Session, RuntimeError> {
        let session_error = |source: OrtCause| RuntimeError::Session { path: path.to_path_buf(), source };
        let mut builder = Session::builder(self.runtime.environment()).map_err(|e| session_error(e.into()))?;
        if let Some(threads) = self.intra_threads {
            builder = builder.with_intra_threads(threads).map_err(|e| session_error(e.into()))?;
        }
        // Spinning worker threads burn the cores the other pipeline stages need; measured on 2
        // cores, spinning halves the throughput of a pipeline (and of insightface's own loop).
        builder =
            builder.with_config_entry("session.intra_op.allow_spinning", "0").map_err(|e| session_error(e.into()))?;
        if let Some(dispatch) = provider.dispatch() {
            builder = builder
                .with_execution_providers([dispatch])
                .map_err(|e| RuntimeError::ProviderUnavailable { provider: provider.to_string(), source: e.into() })?;
        }
        builder.commit_from_file(path).map_err(|e| session_error(e.into()))
    }
}

/// A session with the name it is known by and the provider it runs on.
pub struct ModelSession {
    session: Session,
    label: String,
    provider: ExecutionProvider,
    /// Time spent inside ONNX Runtime's `run`, all calls together: the model's own cost.
    inference: Duration,
}

impl std::fmt::Debug for ModelSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelSession").field("label", &self.label).field("provider", &self.provider).finish()
    }
}

impl ModelSession {
    /// The name used in logs and errors.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The provider this session runs on.
    pub fn provider(&self) -> &ExecutionProvider {
        &self.provider
    }

    /// The session's input names and shapes (`-1` for a dynamic dimension).
    pub fn input_shapes(&self) -> Vec<(String, Vec<i64>)> {
        self.session.inputs().iter().map(|i| (i.name().to_string(), tensor_shape(i.dtype()))).collect()
    }

    /// The session's output names and shapes (`-1` for a dynamic dimension).
    pub fn output_shapes(&self) -> Vec<(String, Vec<i64>)> {
        self.session.outputs().iter().map(|o| (o.name().to_string(), tensor_shape(o.dtype()))).collect()
    }

    /// The value type of input `index`, if there is one.
    pub fn input_type(&self, index: usize) -> Option<ValueType> {
        self.session.inputs().get(index).map(|i| i.dtype().clone())
    }

    /// Runs the model.
    ///
    /// # Errors
    /// [`RuntimeError::Inference`] naming this model.
    pub fn run<'s, 'i, 'v: 'i, const N: usize>(
        &'s mut self,
        inputs: impl Into<SessionInputs<'i, 'v, N>>,
    ) -> Result<SessionOutputs<'s>, RuntimeError> {
        let label = &self.label;
        let started = Instant::now();
        let outputs =
            self.session.run(inputs).map_err(|source| RuntimeError::Inference { model: label.clone(), source });
        self.inference += started.elapsed();
        outputs
    }

    /// Total time spent in the model itself so far (the floor no pre- or post-processing can beat).
    pub fn inference_time(&self) -> Duration {
        self.inference
    }

    /// An error saying this model's interface is not what the caller expects.
    pub fn interface_error(&self, detail: impl Into<String>) -> RuntimeError {
        RuntimeError::Interface { model: self.label.clone(), detail: detail.into() }
    }
}

/// The dimensions of a tensor type, or nothing for other value types.
pub fn tensor_shape(value_type: &ValueType) -> Vec<i64> {
    match value_type {
        ValueType::Tensor { shape, .. } => shape.iter().copied().collect(),
        _ => Vec::new(),
    }
}
