//! What goes wrong in the store, with its cause kept.

use std::sync::Arc;

/// Why the store could not read or write. Cloned for each of the batches a
/// failed group commit carried.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused (the disk is full, the file is damaged, …).
    #[error("store: {0}")]
    Sqlite(#[source] Arc<rusqlite::Error>),
    /// A batch could not be encoded for the store.
    #[error("store: cannot encode a batch: {0}")]
    Encode(#[source] Arc<serde_json::Error>),
    /// A file of the store could not be opened, made or changed.
    #[error("store: cannot {what} {path}: {source}")]
    File {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: String,
        /// Why it failed.
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    /// Another engine drives the store's file.
    #[error(
        "store: {0} is in use by another engine (an `orders serve` or `orders invoke`); stop it or use another --db"
    )]
    InUse(String),
    /// A store file opened read-only is in an older format, which only an
    /// engine that writes it brings up to date.
    #[error(
        "store: {0} is in an older format; run `orders serve` or `orders invoke` on it once to bring it up to date"
    )]
    OlderFormat(String),
    /// The store was opened to be read only.
    #[error("store: opened read-only; nothing can be written")]
    ReadOnly,
    /// The writer's thread has stopped: nothing more can be written.
    #[error("store: the writer thread has stopped")]
    WriterStopped,
    /// A read could not run to its end.
    #[error("store: a read failed: {0}")]
    Read(#[source] Arc<tokio::task::JoinError>),
    /// The store refuses writes (a store that stands in for a full disk,
    /// in tests).
    #[error("store: {0}")]
    Refused(&'static str),
}

impl StoreError {
    /// A file operation `what` on `path` that failed with `source`.
    pub fn file(
        what: &'static str,
        path: impl std::fmt::Display,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::File {
            what,
            path: path.to_string(),
            source: Arc::new(source),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sqlite(Arc::new(error))
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        Self::Encode(Arc::new(error))
    }
}

impl From<tokio::task::JoinError> for StoreError {
    fn from(error: tokio::task::JoinError) -> Self {
        Self::Read(Arc::new(error))
    }
}

/// Results of the store.
pub(crate) type Result<T, E = StoreError> = std::result::Result<T, E>;
