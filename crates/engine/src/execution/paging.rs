//! State pages: the operations a handler is shown, a page at a time.

use std::collections::HashMap;

use super::ExecutionState;
use super::error::{ExecutionError, Result};
use crate::limits::{MAX_PAGE_BYTES, page_items};
use crate::model::{Operation, StatePage};

impl ExecutionState {
    pub(super) fn marker(&self, index: usize) -> String {
        format!("{}:{index}", self.token_seq)
    }

    /// The operations the handler is shown: all, except the descendants of
    /// a completed context that does not replay its children.
    pub(super) fn visible_operations(&self) -> Vec<&Operation> {
        let mut hidden: HashMap<&str, bool> = HashMap::new();
        let mut visible = Vec::with_capacity(self.operations.len());
        for op in self.operations.values() {
            if !self.is_hidden(op, &mut hidden) {
                visible.push(op);
            }
        }
        visible
    }

    fn is_hidden<'a>(&'a self, op: &'a Operation, memo: &mut HashMap<&'a str, bool>) -> bool {
        let Some(parent_id) = op.parent_id.as_deref() else {
            return false;
        };
        if let Some(&known) = memo.get(parent_id) {
            return known;
        }
        let hidden = self.operations.get(parent_id).is_some_and(|parent| {
            let closed = parent.status.is_terminal()
                && !parent
                    .context_details
                    .as_ref()
                    .and_then(|details| details.replay_children)
                    .unwrap_or(false);
            closed || self.is_hidden(parent, memo)
        });
        memo.insert(parent_id, hidden);
        hidden
    }

    /// One page of state for `GetDurableExecutionState`.
    ///
    /// # Errors
    ///
    /// `InvalidParameterValue` for a stale token or a marker from another
    /// token.
    pub fn state_page(
        &self,
        token: &str,
        marker: Option<&str>,
        max_items: Option<usize>,
    ) -> Result<StatePage> {
        self.check_token(token)?;
        let start = match marker.filter(|marker| !marker.is_empty()) {
            None => 0,
            Some(marker) => {
                let (seq, index) = marker
                    .split_once(':')
                    .ok_or_else(|| ExecutionError::invalid("Invalid marker"))?;
                if seq != self.token_seq.to_string() {
                    return Err(ExecutionError::invalid(
                        "Invalid marker: it belongs to another checkpoint token",
                    ));
                }
                index
                    .parse()
                    .map_err(|_| ExecutionError::invalid("Invalid marker"))?
            }
        };
        let max_items = page_items(max_items);
        let visible = self.visible_operations();
        if start > visible.len() {
            return Err(ExecutionError::invalid("Invalid marker"));
        }
        let (page, next) = page_of(&visible, start, max_items, MAX_PAGE_BYTES);
        Ok(StatePage {
            operations: page.into_iter().cloned().collect(),
            next_marker: next.map(|index| self.marker(index)),
        })
    }
}

/// A page of `operations` from `start`: at most `max_items`, and at most
/// `max_bytes` of payload (but always one operation).
pub(super) fn page_of<'a>(
    operations: &[&'a Operation],
    start: usize,
    max_items: usize,
    max_bytes: usize,
) -> (Vec<&'a Operation>, Option<usize>) {
    let mut page = Vec::new();
    let mut bytes = 0;
    let mut index = start;
    while let Some(op) = operations.get(index) {
        let size = op.payload_size();
        if !page.is_empty() && (page.len() >= max_items || bytes + size > max_bytes) {
            return (page, Some(index));
        }
        bytes += size;
        page.push(*op);
        index += 1;
    }
    (page, None)
}
