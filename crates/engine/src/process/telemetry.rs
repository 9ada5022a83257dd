//! The telemetry log descriptor of Lambda's managed runtimes.
//!
//! A runtime that finds `_LAMBDA_TELEMETRY_LOG_FD` in its environment
//! writes each log record to that descriptor as one frame, so a record
//! with several lines (a traceback) stays one log event:
//!
//! ```text
//! | type: 4 bytes | length: 4 bytes | timestamp (µs): 8 bytes | message: length bytes |
//! ```
//!
//! big-endian, the type `0xA55A00xx` (its low bits name the format and
//! level). What a runtime prints on stdout and stderr is read line by line
//! beside it.

use std::os::fd::OwnedFd;

use tokio::io::AsyncReadExt as _;

/// The variable that names the descriptor, and the descriptor the child
/// gets.
pub(super) const VARIABLE: &str = "_LAMBDA_TELEMETRY_LOG_FD";
pub(super) const CHILD_FD: i32 = 3;

/// The high half of every frame's type.
const FRAME_MAGIC: u32 = 0xA55A_0000;

/// The most a frame may carry; a longer one is cut (Lambda's own cut is
/// 256 KB per event).
const MAX_FRAME: usize = 256 * 1024;

/// Reads frames from `reader` until it closes, calling `record` with each
/// message (a final newline left out). Stops at the first thing that is
/// not a frame. (The engine reads frames beside stdout, a frame at a time.)
#[cfg(test)]
pub(super) async fn read_frames(reader: OwnedFd, mut record: impl FnMut(&str)) {
    let Some(mut pipe) = open(reader) else {
        return;
    };
    loop {
        let (back, message) = next_frame(pipe).await;
        let Some(message) = message else {
            return;
        };
        record(&message);
        pipe = back;
    }
}

/// The descriptor `reader` as a pipe to read frames from.
pub(super) fn open(reader: OwnedFd) -> Option<tokio::net::unix::pipe::Receiver> {
    tokio::net::unix::pipe::Receiver::from_owned_fd(reader).ok()
}

/// The next frame's message from `pipe` (a final newline left out), with
/// the pipe back; `None` once it closes or carries something that is not a
/// frame. It owns the pipe while it reads, so that it can wait beside other
/// reads without a frame ever being cut in two.
pub(super) async fn next_frame(
    mut pipe: tokio::net::unix::pipe::Receiver,
) -> (tokio::net::unix::pipe::Receiver, Option<String>) {
    let mut header = [0_u8; 16];
    if pipe.read_exact(&mut header).await.is_err() {
        return (pipe, None);
    }
    let (kind, length) = parse_header(&header);
    if kind & 0xFFFF_0000 != FRAME_MAGIC {
        tracing::warn!(
            kind,
            "a runtime wrote something that is not a log frame to its telemetry descriptor"
        );
        return (pipe, None);
    }
    let mut message = vec![0_u8; length.min(MAX_FRAME)];
    if pipe.read_exact(&mut message).await.is_err() {
        return (pipe, None);
    }
    // What a frame carries beyond the cut is read and left out.
    let beyond = u64::try_from(length.saturating_sub(MAX_FRAME)).unwrap_or(u64::MAX);
    let skipped = tokio::io::copy(&mut (&mut pipe).take(beyond), &mut tokio::io::sink()).await;
    if skipped.map_or(true, |count| count < beyond) {
        return (pipe, None);
    }
    let text = String::from_utf8_lossy(&message);
    let text = text.strip_suffix('\n').unwrap_or(&text).to_owned();
    (pipe, Some(text))
}

/// A frame header's type and message length.
fn parse_header(header: &[u8; 16]) -> (u32, usize) {
    let [kind @ .., _, _, _, _, _, _, _, _, _, _, _, _] = *header;
    let [_, _, _, _, length @ .., _, _, _, _, _, _, _, _] = *header;
    (
        u32::from_be_bytes(kind),
        usize::try_from(u32::from_be_bytes(length)).unwrap_or(usize::MAX),
    )
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn frame(kind: u32, message: &str) -> Vec<u8> {
        let mut bytes = kind.to_be_bytes().to_vec();
        bytes.extend(u32::try_from(message.len()).unwrap().to_be_bytes());
        bytes.extend(1_700_000_000_000_000_u64.to_be_bytes());
        bytes.extend(message.as_bytes());
        bytes
    }

    #[tokio::test]
    async fn each_frame_is_one_record_however_many_lines_it_holds() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        let traceback = "[ERROR] boom\nTraceback (most recent call last):\n  File \"app.py\"\n";
        writer.write_all(&frame(0xA55A_0017, traceback)).unwrap();
        writer
            .write_all(&frame(0xA55A_0003, "next record"))
            .unwrap();
        drop(writer);
        let mut records = Vec::new();
        read_frames(reader.into(), |line| records.push(line.to_owned())).await;
        assert_eq!(
            records,
            [
                traceback.trim_end_matches('\n').to_owned(),
                "next record".to_owned()
            ]
        );
    }

    #[tokio::test]
    async fn reading_stops_at_what_is_not_a_frame() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        writer.write_all(&frame(0xA55A_0003, "first")).unwrap();
        writer.write_all(b"plain text, not a frame....").unwrap();
        drop(writer);
        let mut records = Vec::new();
        read_frames(reader.into(), |line| records.push(line.to_owned())).await;
        assert_eq!(records, ["first"]);
    }
}
