//! The API's error codes: every error a client sees carries one of these
//! in `extensions.code`. Internals are logged, never sent.

use async_graphql::{Error, ErrorExtensions};
use doorbraak_engine::EngineError;

/// The stable error codes of API.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    Validation,
    InvalidTransition,
    VersionConflict,
    PersonalDataDetected,
    RateLimited,
    BadRequest,
    TooComplex,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Validation => "VALIDATION",
            ErrorCode::InvalidTransition => "INVALID_TRANSITION",
            ErrorCode::VersionConflict => "VERSION_CONFLICT",
            ErrorCode::PersonalDataDetected => "PERSONAL_DATA_DETECTED",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::TooComplex => "TOO_COMPLEX",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
        }
    }

    /// Every code, for tests and documentation.
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Validation,
        ErrorCode::InvalidTransition,
        ErrorCode::VersionConflict,
        ErrorCode::PersonalDataDetected,
        ErrorCode::RateLimited,
        ErrorCode::BadRequest,
        ErrorCode::TooComplex,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];

    /// An error with this code and message.
    pub fn error(self, message: impl Into<String>) -> Error {
        Error::new(message).extend_with(|_, e| e.set("code", self.as_str()))
    }
}

/// An error with code `VALIDATION` that names the offending field.
pub fn validation(field: &str, message: impl std::fmt::Display) -> Error {
    Error::new(format!("{field} {message}")).extend_with(|_, e| {
        e.set("code", ErrorCode::Validation.as_str());
        e.set("field", field);
    })
}

/// Turns an engine error into an API error. Internal errors are logged
/// here (with the request's span, so with its request id) and reported
/// without detail.
pub fn to_gql(e: EngineError) -> Error {
    match e {
        EngineError::Unauthenticated => ErrorCode::Unauthenticated.error(e.to_string()),
        EngineError::Forbidden(m) => ErrorCode::Forbidden.error(m),
        EngineError::NotFound(_) => ErrorCode::NotFound.error(e.to_string()),
        EngineError::Validation { field, message } => validation(&field, message),
        EngineError::InvalidTransition(m) => ErrorCode::InvalidTransition.error(m),
        EngineError::VersionConflict => ErrorCode::VersionConflict.error(e.to_string()),
        EngineError::PersonalData { ref field } => {
            let field = field.clone();
            Error::new(e.to_string()).extend_with(move |_, x| {
                x.set("code", ErrorCode::PersonalDataDetected.as_str());
                x.set("field", field.as_str());
            })
        }
        EngineError::Unavailable(detail) => {
            tracing::warn!(error = %detail, "database unavailable");
            ErrorCode::Unavailable
                .error("the service cannot reach its database just now; try again shortly")
        }
        EngineError::Internal(detail) => {
            tracing::error!(error = %detail, "internal error");
            ErrorCode::Internal.error("internal error; it has been logged")
        }
    }
}

/// `Result` with API errors.
pub type ApiResult<T> = Result<T, Error>;
