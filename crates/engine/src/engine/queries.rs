//! Reading executions and their history from the store.

use super::Engine;
use super::error::{EngineError, Result};
use crate::error::Error;
use crate::execution::ExecutionRecord;
use crate::limits::page_items;
use crate::model::{Event, Operation};
use crate::store::{ListCursor, ListFilter};

/// A page of executions.
#[derive(Debug, Clone)]
pub struct ExecutionPage {
    /// The executions.
    pub executions: Vec<ExecutionRecord>,
    /// Where the next page starts.
    pub next_marker: Option<String>,
}

/// A page of history.
#[derive(Debug, Clone)]
pub struct HistoryPage {
    /// The events.
    pub events: Vec<Event>,
    /// Where the next page starts.
    pub next_marker: Option<String>,
}

fn bad_marker(marker: &str) -> Error {
    Error::invalid(format!("Invalid marker '{marker}'"))
}

impl Engine {
    /// The execution `arn`.
    ///
    /// # Errors
    ///
    /// `ResourceNotFound` for an unknown execution.
    pub async fn execution(&self, arn: &str) -> Result<ExecutionRecord> {
        self.shared
            .store
            .execution(arn)
            .await?
            .ok_or_else(|| EngineError::ExecutionNotFound(arn.to_owned()))
    }

    /// The history of `arn`, a page at a time.
    ///
    /// # Errors
    ///
    /// `ResourceNotFound` for an unknown execution; `InvalidParameterValue`
    /// for a bad marker.
    pub async fn history(
        &self,
        arn: &str,
        marker: Option<&str>,
        max_items: Option<usize>,
        reverse: bool,
        include_data: bool,
    ) -> Result<HistoryPage> {
        self.execution(arn).await?;
        let limit = page_items(max_items);
        let from = match marker.filter(|marker| !marker.is_empty()) {
            Some(marker) => marker.parse::<u64>().map_err(|_| bad_marker(marker))?,
            None if reverse => u64::MAX >> 1,
            None => 1,
        };
        let mut events = self
            .shared
            .store
            .events(arn, from, limit + 1, reverse)
            .await?;
        let next_marker = if events.len() > limit {
            events.truncate(limit);
            events.last().map(|last| {
                if reverse {
                    last.event_id.saturating_sub(1)
                } else {
                    last.event_id + 1
                }
                .to_string()
            })
        } else {
            None
        };
        if !include_data {
            for event in &mut events {
                event.details = event.details.clone().without_data();
            }
        }
        Ok(HistoryPage {
            events,
            next_marker,
        })
    }

    /// The operations of `arn`, in the order they began.
    ///
    /// # Errors
    ///
    /// `ResourceNotFound` for an unknown execution.
    pub async fn operations(&self, arn: &str) -> Result<Vec<Operation>> {
        self.execution(arn).await?;
        Ok(self.shared.store.operations(arn).await?)
    }

    /// Executions matching `filter`, a page at a time. The marker names
    /// the last execution of the previous page, so executions started while
    /// a client pages do not shift the pages.
    ///
    /// # Errors
    ///
    /// `InvalidParameterValue` for a bad marker.
    pub async fn list(
        &self,
        mut filter: ListFilter,
        marker: Option<&str>,
        max_items: Option<usize>,
    ) -> Result<ExecutionPage> {
        let limit = page_items(max_items);
        filter.after = marker
            .filter(|marker| !marker.is_empty())
            .map(|marker| ListCursor::parse(marker).ok_or_else(|| bad_marker(marker)))
            .transpose()?;
        filter.limit = limit + 1;
        let mut executions = self.shared.store.list(filter).await?;
        let next_marker = (executions.len() > limit)
            .then(|| {
                executions.truncate(limit);
                executions
                    .last()
                    .map(|last| ListCursor::of(last).to_string())
            })
            .flatten();
        Ok(ExecutionPage {
            executions,
            next_marker,
        })
    }
}
