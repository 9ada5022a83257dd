//! Carrying on after a restart, and the retention purge.

use super::Engine;
use super::chained::outcome_of;
use crate::error::Result;
use crate::execution::ChainedInvokeRequest;
use crate::limits::{DAY_MILLIS, PLAIN_LOG_DAYS};
use crate::model::{Event, EventDetails, ExecutionStatus, OperationStatus, OperationType};
use crate::store::{ListCursor, ListFilter, WriteBatch};

impl Engine {
    /// Carries on with every execution the store holds as running: after a
    /// restart, each is invoked again and replays from its checkpoints.
    ///
    /// # Errors
    ///
    /// When the store cannot be read.
    pub async fn recover(&self) -> Result<usize> {
        let running = self.shared.store.running().await?;
        let count = running.len();
        let mut waiting = Vec::new();
        for stored in running {
            let chained: Vec<String> = stored
                .operations
                .iter()
                .filter(|op| {
                    op.kind == OperationType::ChainedInvoke && op.status == OperationStatus::Started
                })
                .map(|op| op.id.clone())
                .collect();
            if !chained.is_empty() {
                waiting.push((stored.record.arn.clone(), chained));
            }
            self.spawn_restored(stored);
        }
        for (arn, operations) in waiting {
            self.resume_chained(&arn, operations).await?;
        }
        Ok(count)
    }

    /// After a restart, reconnects `arn`'s chained invokes still under way
    /// with their calls: a child that ended reports its end, one still
    /// running reports when it ends, and a call that never started (the
    /// engine died first) starts now.
    async fn resume_chained(&self, arn: &str, operations: Vec<String>) -> Result<()> {
        let children = self.shared.store.children(arn).await?;
        let mut events: Option<Vec<Event>> = None;
        for operation_id in operations {
            let child = children.iter().find(|child| {
                child
                    .parent
                    .as_ref()
                    .is_some_and(|parent| parent.operation_id == operation_id)
            });
            match child {
                Some(child) if child.status.is_terminal() => {
                    self.chained_done(arn, operation_id, outcome_of(child))
                        .await;
                }
                Some(_) => {}
                None => {
                    if events.is_none() {
                        events = Some(
                            self.shared
                                .store
                                .events(arn, 1, usize::MAX >> 1, false)
                                .await?,
                        );
                    }
                    let started = events
                        .iter()
                        .flatten()
                        .find_map(|event| match &event.details {
                            EventDetails::ChainedInvokeStarted {
                                function_name,
                                input,
                                tenant_id,
                                durable_execution_arn,
                                ..
                            } if event.id.as_ref() == Some(&operation_id) => {
                                Some(ChainedInvokeRequest {
                                    operation_id: operation_id.clone(),
                                    function_name: function_name.clone(),
                                    payload: input
                                        .as_ref()
                                        .and_then(|input| input.payload.clone())
                                        .unwrap_or_else(|| "{}".to_owned()),
                                    execution_arn: durable_execution_arn.clone(),
                                    tenant_id: tenant_id.clone(),
                                })
                            }
                            _ => None,
                        });
                    if let Some(request) = started {
                        self.dispatch_chained(arn, request);
                    }
                }
            }
        }
        Ok(())
    }

    /// Deletes the executions whose retention period has passed since they
    /// ended, with their history and log lines, and the log lines of plain
    /// invocations older than 14 days. Returns how many executions.
    ///
    /// # Errors
    ///
    /// When the store cannot be read or written.
    pub async fn purge_expired(&self) -> Result<usize> {
        let now = self.now();
        let mut expired = Vec::new();
        let mut after: Option<ListCursor> = None;
        loop {
            let page = self
                .shared
                .store
                .list(ListFilter {
                    statuses: vec![
                        ExecutionStatus::Succeeded,
                        ExecutionStatus::Failed,
                        ExecutionStatus::TimedOut,
                        ExecutionStatus::Stopped,
                    ],
                    started_before: Some(now.plus_millis(-DAY_MILLIS)),
                    oldest_first: true,
                    after: after.clone(),
                    limit: 1000,
                    ..ListFilter::default()
                })
                .await?;
            let Some(last) = page.last() else {
                break;
            };
            after = Some(ListCursor::of(last));
            expired.extend(
                page.into_iter()
                    .filter(|record| {
                        record.end.is_some_and(|end| {
                            end.plus_millis(record.retention_days.saturating_mul(DAY_MILLIS)) < now
                        })
                    })
                    .map(|record| record.arn),
            );
        }
        let count = expired.len();
        // Lines of no execution (plain functions') are kept as long as an
        // execution is by default.
        self.shared
            .store
            .write(WriteBatch {
                logs_before: Some(now.plus_millis(-PLAIN_LOG_DAYS * DAY_MILLIS)),
                ..WriteBatch::default()
            })
            .await?;
        for chunk in expired.chunks(500) {
            self.shared
                .store
                .write(WriteBatch {
                    deleted: chunk.to_vec(),
                    ..WriteBatch::default()
                })
                .await?;
        }
        Ok(count)
    }
}
