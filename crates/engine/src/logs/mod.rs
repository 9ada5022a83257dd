//! Function logs: every line a function writes, kept per function (its log
//! group) and per execution, as long as its execution is kept.
//!
//! Lines come from a function's process (its stdout and stderr) or, for a
//! function run in the engine's process, from its tracing records. The
//! engine attributes each to the execution whose invocation wrote it, and a
//! writer task stores them in batches. [`crate::api`] serves them as
//! CloudWatch Logs does (`FilterLogEvents`, `GetLogEvents`,
//! `DescribeLogGroups`, `DescribeLogStreams`), with CloudWatch's filter
//! patterns ([`pattern`]).

pub mod pattern;

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::model::Timestamp;

/// One line of a function's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRecord {
    /// Its order among all lines: the store's id, from 1.
    #[serde(default)]
    pub id: u64,
    /// The log group (`/aws/lambda/<FunctionName>`).
    pub group: String,
    /// The log stream.
    pub stream: String,
    /// The execution whose invocation wrote it, if any.
    pub execution_arn: Option<String>,
    /// The invocation that wrote it, if known.
    pub request_id: Option<String>,
    /// When it was written.
    pub timestamp: Timestamp,
    /// The line.
    pub message: String,
}

/// Which lines to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogQuery {
    /// The log group.
    pub group: String,
    /// Only these streams (all when empty).
    pub streams: Vec<String>,
    /// Only streams starting with this.
    pub stream_prefix: Option<String>,
    /// Only lines of this execution.
    pub execution_arn: Option<String>,
    /// Only lines written at or after this moment.
    pub start: Option<Timestamp>,
    /// Only lines written at or before this moment.
    pub end: Option<Timestamp>,
    /// Only lines after this one (by id).
    pub after: u64,
    /// Only lines before this one (by id).
    pub before: Option<u64>,
    /// The newest lines first (the oldest otherwise).
    pub newest_first: bool,
    /// At most this many.
    pub limit: usize,
}

impl LogQuery {
    /// Whether `record` is one of the lines asked for (but `after`,
    /// `before` and `limit`).
    #[must_use]
    pub fn matches(&self, record: &LogRecord) -> bool {
        record.group == self.group
            && (self.streams.is_empty() || self.streams.contains(&record.stream))
            && self
                .stream_prefix
                .as_ref()
                .is_none_or(|prefix| record.stream.starts_with(prefix.as_str()))
            && self
                .execution_arn
                .as_ref()
                .is_none_or(|arn| record.execution_arn.as_ref() == Some(arn))
            && self.start.is_none_or(|start| record.timestamp >= start)
            && self.end.is_none_or(|end| record.timestamp <= end)
    }
}

/// A log stream's name as Lambda makes one: the day (`2026/11/30`), the
/// version in brackets and 32 hex digits.
#[must_use]
pub fn stream_name(now: Timestamp, version: &str) -> String {
    let day = time::OffsetDateTime::from_unix_timestamp(now.millis().div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .date();
    format!(
        "{:04}/{:02}/{:02}/[{version}]{}",
        day.year(),
        u8::from(day.month()),
        day.day(),
        uuid::Uuid::new_v4().simple()
    )
}

/// One line a function wrote, as it reaches the engine: what is known of
/// who wrote it. The engine fills in the rest from the invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogLine {
    /// The function, when the writer knows it.
    pub function: Option<String>,
    /// The invocation, when the writer knows it.
    pub request_id: Option<String>,
    /// The durable execution, when the writer knows it.
    pub execution_arn: Option<String>,
    /// The line.
    pub message: String,
}

/// A log stream and the span of its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSummary {
    /// Its name.
    pub name: String,
    /// Its first line's time.
    pub first: Timestamp,
    /// Its last line's time.
    pub last: Timestamp,
    /// The bytes of its lines.
    pub bytes: u64,
}

/// The longest line kept, in bytes, as CloudWatch Logs' event limit; the
/// rest of a longer line is cut.
pub const MAX_LINE_BYTES: usize = 256 * 1024;

/// The log group of the function `name`.
#[must_use]
pub fn group_of(name: &str) -> String {
    format!("/aws/lambda/{name}")
}

/// The function whose log group is `group`.
#[must_use]
pub fn function_of(group: &str) -> Option<&str> {
    group
        .strip_prefix("/aws/lambda/")
        .filter(|name| !name.is_empty())
}

/// `message` cut to [`MAX_LINE_BYTES`] at a character boundary.
#[must_use]
pub fn bounded(mut message: String) -> String {
    if message.len() > MAX_LINE_BYTES {
        let mut end = MAX_LINE_BYTES;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
    }
    message
}

/// How many recent invocations the engine remembers, to attribute the
/// lines their functions write (late lines of older ones go to the
/// function's log without an execution).
const REMEMBERED_INVOCATIONS: usize = 65_536;

/// What the engine knows to attribute lines: recent invocations (request
/// id → function and execution) and each function's current stream.
#[derive(Debug, Default)]
pub(crate) struct Logbook {
    invocations: HashMap<String, (String, Option<String>)>,
    order: VecDeque<String>,
    streams: HashMap<String, String>,
}

impl Logbook {
    /// Remembers that `request_id` is an invocation of `function` (for the
    /// execution `arn`).
    pub(crate) fn began(&mut self, request_id: &str, function: &str, arn: Option<&str>) {
        if self.order.len() >= REMEMBERED_INVOCATIONS
            && let Some(oldest) = self.order.pop_front()
        {
            self.invocations.remove(&oldest);
        }
        self.invocations.insert(
            request_id.to_owned(),
            (function.to_owned(), arn.map(str::to_owned)),
        );
        self.order.push_back(request_id.to_owned());
    }

    /// The record `line` makes at `now`, or `None` when no function can be
    /// told for it.
    pub(crate) fn record(&mut self, line: LogLine, now: Timestamp) -> Option<LogRecord> {
        let known = line
            .request_id
            .as_ref()
            .and_then(|id| self.invocations.get(id))
            .cloned();
        let function = line
            .function
            .or_else(|| known.as_ref().map(|(function, _)| function.clone()))
            .or_else(|| {
                line.execution_arn
                    .as_deref()
                    .and_then(crate::arn::function_of_execution)
                    .map(str::to_owned)
            })?;
        let execution_arn = line
            .execution_arn
            .or_else(|| known.and_then(|(_, arn)| arn));
        let stream = self
            .streams
            .entry(function.clone())
            .or_insert_with(|| stream_name(now, "$LATEST"))
            .clone();
        Some(LogRecord {
            id: 0,
            group: group_of(&function),
            stream,
            execution_arn,
            request_id: line.request_id,
            timestamp: now,
            message: bounded(line.message),
        })
    }
}
