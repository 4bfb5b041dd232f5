//! One session factory per model role: each model can run on the provider that runs it
//! fastest (`--ep detector=cpu,landmarks=openvino,…`), the rest on the default.

use crate::{models::ModelRole, runtime::SessionFactory};

/// The default factory and those of the roles given their own provider.
#[derive(Debug, Clone)]
pub struct ModelFactories {
    default: SessionFactory,
    by_role: Vec<(ModelRole, SessionFactory)>,
}

impl ModelFactories {
    pub fn new(default: SessionFactory, by_role: Vec<(ModelRole, SessionFactory)>) -> Self {
        Self { default, by_role }
    }

    /// The factory that builds the models of `role`.
    pub fn for_role(&self, role: ModelRole) -> &SessionFactory {
        self.by_role.iter().find(|(r, _)| *r == role).map_or(&self.default, |(_, f)| f)
    }

    /// The factory of roles not given a provider of their own.
    pub fn default_factory(&self) -> &SessionFactory {
        &self.default
    }

    /// Each role with the provider its models run on, as health and stats say it.
    pub fn providers(&self) -> Vec<(ModelRole, String)> {
        ModelRole::ALL.iter().map(|&role| (role, self.for_role(role).provider().to_string())).collect()
    }
}
