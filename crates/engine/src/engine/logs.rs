//! Function logs: keeping the lines functions write, attributed to their
//! invocation and execution, and reading them back as CloudWatch Logs does.

use super::{Engine, lock};
use crate::Result;
use crate::logs::pattern::Pattern;
use crate::logs::{LogLine, LogQuery, LogRecord, StreamSummary, group_of};
use crate::store::WriteBatch;

/// Lines the store is asked for at once while a pattern is applied.
const SCAN_PAGE: usize = 1000;

/// The most lines one filtered read looks at before it answers with what
/// it found and where to carry on (as CloudWatch Logs answers a long scan).
const SCAN_LIMIT: usize = 20_000;

/// Lines that match, and where the next read carries on (`None`: nothing
/// more to read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogPage {
    /// The lines, in the order asked for.
    pub lines: Vec<LogRecord>,
    /// The id of the last line looked at, when there may be more.
    pub next: Option<u64>,
}

impl Engine {
    /// Remembers that the invocation `request_id` runs `function` (for the
    /// execution `arn`), so that the lines it writes are attributed to it.
    pub(crate) fn invocation_began(&self, request_id: &str, function: &str, arn: Option<&str>) {
        lock(&self.shared.logbook).began(request_id, function, arn);
    }

    /// Keeps `line` in its function's log group, with its execution when
    /// its invocation is known. A line no function can be told for is
    /// dropped. It is queued for the store at once, in the order of calls;
    /// a store that refuses it loses it (the execution is not affected).
    pub fn log(&self, line: LogLine) {
        let now = self.now();
        let Some(record) = lock(&self.shared.logbook).record(line, now) else {
            return;
        };
        // Queued now; nothing waits for the commit.
        drop(self.shared.store.write(WriteBatch {
            logs: vec![record],
            ..WriteBatch::default()
        }));
    }

    /// The lines `query` asks for that `pattern` matches, at most
    /// `query.limit`, looking at no more than a bounded number of lines.
    ///
    /// # Errors
    ///
    /// When the store cannot be read.
    pub async fn filter_logs(&self, mut query: LogQuery, pattern: &Pattern) -> Result<LogPage> {
        let wanted = query.limit.max(1);
        let mut page = LogPage::default();
        let mut scanned = 0;
        loop {
            query.limit = SCAN_PAGE;
            let batch = self.shared.store.logs(query.clone()).await?;
            let full = batch.len() == SCAN_PAGE;
            for line in batch {
                scanned += 1;
                let id = line.id;
                if query.newest_first {
                    query.before = Some(id);
                } else {
                    query.after = id;
                }
                if pattern.matches(&line.message) {
                    page.lines.push(line);
                    if page.lines.len() == wanted {
                        page.next = Some(id);
                        return Ok(page);
                    }
                }
            }
            if !full {
                return Ok(page);
            }
            if scanned >= SCAN_LIMIT {
                page.next = Some(if query.newest_first {
                    query.before.unwrap_or_default()
                } else {
                    query.after
                });
                return Ok(page);
            }
        }
    }

    /// The streams of the log group `group`.
    ///
    /// # Errors
    ///
    /// When the store cannot be read.
    pub async fn log_streams(&self, group: &str) -> Result<Vec<StreamSummary>> {
        self.shared.store.log_streams(group).await
    }

    /// The log groups: one per registered function, by name.
    #[must_use]
    pub fn log_groups(&self) -> Vec<String> {
        let mut groups: Vec<String> = self
            .functions()
            .iter()
            .map(|function| group_of(&function.config().name))
            .collect();
        groups.sort();
        groups
    }
}
