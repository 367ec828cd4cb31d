//! The engine's errors: one variant per API error code.

use doorbraak_core::Refusal;
use doorbraak_store::StoreError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error("a valid bearer token is required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{field} {message}")]
    Validation { field: String, message: String },
    #[error("{0}")]
    InvalidTransition(String),
    #[error("the case was changed by someone else since you read it; reload it and try again")]
    VersionConflict,
    #[error(
        "{field} appears to contain a citizen service number (BSN); describe the rule, not the resident"
    )]
    PersonalData { field: String },
    /// The database (or another dependency) cannot be reached now; the
    /// request may succeed when retried. The message is for the log.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Something broke inside; the message is for the log, never the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    pub fn validation(field: &str, message: impl Into<String>) -> EngineError {
        EngineError::Validation {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl From<Refusal> for EngineError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Forbidden(m) => EngineError::Forbidden(m),
            Refusal::InvalidTransition(m) => EngineError::InvalidTransition(m),
            Refusal::Validation { field, message } => EngineError::Validation { field, message },
            Refusal::PersonalData { field } => EngineError::PersonalData { field },
        }
    }
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::VersionConflict => EngineError::VersionConflict,
            other if other.is_unavailable() => EngineError::Unavailable(other.to_string()),
            other => EngineError::Internal(other.to_string()),
        }
    }
}
