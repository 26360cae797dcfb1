//! Query errors, classified the way Prometheus's HTTP API reports them.

/// Why a query failed. The HTTP layer maps [`QueryError::error_type`] to the
/// Prometheus API's `errorType` and the `Display` text to `error`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The expression does not parse or has the wrong type for the query
    /// kind; the message is the parser's, including the position.
    #[error("{0}")]
    Parse(String),
    /// Evaluation failed on this data (many-to-many matching, duplicate
    /// label sets, invalid function arguments).
    #[error("{0}")]
    Execution(String),
    /// The query ran past [`crate::EngineConfig::timeout`].
    #[error("query timed out in expression evaluation")]
    Timeout,
    /// The query loaded or held more than this many samples.
    #[error(
        "query processing would load too many samples into memory in query execution (limit {0})"
    )]
    TooManySamples(usize),
}

impl QueryError {
    /// The Prometheus API `errorType` for this error: `bad_data` for input
    /// the client must fix, `timeout` for the deadline, `execution` otherwise
    /// (Prometheus reports too many samples as an execution error).
    pub fn error_type(&self) -> &'static str {
        match self {
            QueryError::Parse(_) => "bad_data",
            QueryError::Timeout => "timeout",
            QueryError::Execution(_) | QueryError::TooManySamples(_) => "execution",
        }
    }

    /// Shorthand for an execution error with a message.
    pub(crate) fn exec(msg: impl Into<String>) -> QueryError {
        QueryError::Execution(msg.into())
    }
}
