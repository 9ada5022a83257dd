//! How the store packs its JSON and text columns: zstd-compressed when that
//! is smaller, alone or against a function's dictionary ([`dictionary`]),
//! the text itself otherwise; and how it reads them back, whichever way
//! they were written (text from files written before compression too).
//!
//! [`dictionary`]: super::dictionary

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock, PoisonError, RwLock};

use zstd::dict::{DecoderDictionary, EncoderDictionary};
use zstd::zstd_safe;

/// zstd's level: fast, and most of the gain on small JSON, with or without
/// a dictionary.
const LEVEL: i32 = 3;

/// One function's dictionary, ready for decompressing, and for compressing
/// once a value is compressed against it (the compressor's tables take far
/// more memory than the dictionary: a dictionary superseded, or of a
/// function that no longer runs, never builds them).
pub(super) struct Dictionary {
    /// Its id, drawn from its content.
    pub(super) id: i64,
    content: Vec<u8>,
    encoder: OnceLock<EncoderDictionary<'static>>,
    decoder: DecoderDictionary<'static>,
}

impl std::fmt::Debug for Dictionary {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Dictionary")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Dictionary {
    fn new(id: i64, content: &[u8]) -> Self {
        Self {
            id,
            content: content.to_vec(),
            encoder: OnceLock::new(),
            decoder: DecoderDictionary::copy(content),
        }
    }

    fn encoder(&self) -> &EncoderDictionary<'static> {
        self.encoder
            .get_or_init(|| EncoderDictionary::copy(&self.content, LEVEL))
    }
}

/// Every dictionary a store of this process has read or made, by id.
static KNOWN: LazyLock<RwLock<HashMap<i64, Arc<Dictionary>>>> = LazyLock::new(RwLock::default);

/// The dictionary `id`, when a store of this process has read or made it.
pub(super) fn find(id: i64) -> Option<Arc<Dictionary>> {
    KNOWN
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&id)
        .cloned()
}

/// The dictionary of `content` (whose id is `id`), known from now on.
pub(super) fn known(id: i64, content: &[u8]) -> Arc<Dictionary> {
    if let Some(dictionary) = find(id) {
        return dictionary;
    }
    let dictionary = Arc::new(Dictionary::new(id, content));
    KNOWN
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(id)
        .or_insert(dictionary)
        .clone()
}

thread_local! {
    /// The thread's compressor, kept between uses (its context is costly
    /// to set up for each): the writer's for archives, a caller's for the
    /// rows and records it prepares.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    /// The same, for compressing against a dictionary.
    static DICTIONARY_COMPRESSOR: RefCell<Option<zstd_safe::CCtx<'static>>> = const { RefCell::new(None) };
    /// The thread's context for decompressing against a dictionary.
    static DICTIONARY_DECOMPRESSOR: RefCell<Option<zstd_safe::DCtx<'static>>> = const { RefCell::new(None) };
}

/// The first byte of a value compressed against a dictionary, followed by
/// the dictionary's id (8 bytes, little-endian) and the zstd frame; a value
/// compressed alone is the zstd frame itself, whose first byte is never
/// this one.
const AGAINST_A_DICTIONARY: u8 = 1;

fn write_failure(error: std::io::Error) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(error))
}

fn read_failure(error: std::io::Error) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, Box::new(error))
}

fn zstd_failure(code: usize) -> std::io::Error {
    std::io::Error::other(zstd_safe::get_error_name(code))
}

/// `text` compressed with the thread's compressor, against `dictionary`
/// when there is one.
pub(super) fn compressed(
    text: &[u8],
    dictionary: Option<&Dictionary>,
) -> rusqlite::Result<Vec<u8>> {
    if let Some(dictionary) = dictionary {
        return DICTIONARY_COMPRESSOR.with_borrow_mut(|context| {
            let context =
                match context {
                    Some(context) => context,
                    None => context.insert(zstd_safe::CCtx::try_create().ok_or_else(|| {
                        write_failure(std::io::Error::other("no memory for zstd"))
                    })?),
                };
            let mut blob = Vec::with_capacity(9 + zstd_safe::compress_bound(text.len()));
            blob.push(AGAINST_A_DICTIONARY);
            blob.extend_from_slice(&dictionary.id.to_le_bytes());
            let mut frame = Vec::with_capacity(zstd_safe::compress_bound(text.len()));
            context
                .compress_using_cdict(&mut frame, text, dictionary.encoder().as_cdict())
                .map_err(|code| write_failure(zstd_failure(code)))?;
            blob.extend_from_slice(&frame);
            Ok(blob)
        });
    }
    COMPRESSOR.with_borrow_mut(|compressor| {
        let compressor = match compressor {
            Some(compressor) => compressor,
            None => compressor.insert(zstd::bulk::Compressor::new(LEVEL).map_err(write_failure)?),
        };
        compressor.compress(text).map_err(write_failure)
    })
}

/// What [`compressed`] compressed.
fn decompressed(blob: &[u8]) -> rusqlite::Result<Vec<u8>> {
    let Some((&AGAINST_A_DICTIONARY, rest)) = blob.split_first() else {
        return zstd::stream::decode_all(blob).map_err(read_failure);
    };
    let (id, frame) = rest.split_at_checked(8).ok_or_else(|| {
        read_failure(std::io::Error::other(
            "a value compressed against a dictionary is cut short",
        ))
    })?;
    let id = i64::from_le_bytes(id.try_into().unwrap_or_default());
    let dictionary = find(id).ok_or_else(|| {
        read_failure(std::io::Error::other(format!(
            "the value was compressed against dictionary {id}, which the store does not hold"
        )))
    })?;
    let length = zstd_safe::get_frame_content_size(frame)
        .ok()
        .flatten()
        .and_then(|length| usize::try_from(length).ok())
        .ok_or_else(|| {
            read_failure(std::io::Error::other(
                "a compressed value without its length",
            ))
        })?;
    DICTIONARY_DECOMPRESSOR.with_borrow_mut(|context| {
        let context = match context {
            Some(context) => context,
            None => context.insert(
                zstd_safe::DCtx::try_create()
                    .ok_or_else(|| read_failure(std::io::Error::other("no memory for zstd")))?,
            ),
        };
        let mut text = Vec::with_capacity(length);
        context
            .decompress_using_ddict(&mut text, frame, dictionary.decoder.as_ddict())
            .map_err(|code| read_failure(zstd_failure(code)))?;
        Ok(text)
    })
}

/// Below this many bytes JSON text is stored as it is: compressing it alone
/// gains less than a row's own overhead.
const PACK_ABOVE: usize = 256;

/// The same, against a dictionary, which shrinks even short text.
const PACK_AGAINST_A_DICTIONARY_ABOVE: usize = 64;

/// JSON `text` as a column stores it: compressed (a BLOB, against
/// `dictionary` if any) when that is smaller, the text itself otherwise.
/// With small pages a row whose text would spill onto overflow pages (each
/// one more page written, and allocated and freed again at each update)
/// then mostly fits on its page.
pub(super) fn packed_text(
    text: String,
    dictionary: Option<&Dictionary>,
) -> rusqlite::Result<rusqlite::types::Value> {
    let above = if dictionary.is_some() {
        PACK_AGAINST_A_DICTIONARY_ABOVE
    } else {
        PACK_ABOVE
    };
    if text.len() > above {
        let blob = compressed(text.as_bytes(), dictionary)?;
        if blob.len() < text.len() {
            return Ok(rusqlite::types::Value::Blob(blob));
        }
    }
    Ok(rusqlite::types::Value::Text(text))
}

/// A column [`packed_text`] stored (or one written as text before it
/// existed), parsed.
pub(super) fn unpacked_text<T: serde::de::DeserializeOwned>(
    value: rusqlite::types::ValueRef<'_>,
) -> rusqlite::Result<T> {
    let parsed = match value {
        rusqlite::types::ValueRef::Text(text) => serde_json::from_slice(text),
        rusqlite::types::ValueRef::Blob(blob) => serde_json::from_slice(&decompressed(blob)?),
        other => {
            return Err(rusqlite::Error::InvalidColumnType(
                0,
                "JSON".to_owned(),
                other.data_type(),
            ));
        }
    };
    parsed.map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(0, value.data_type(), Box::new(error))
    })
}

/// A column [`packed_text`] stored, as the text it was given.
pub(super) fn unpacked_string(value: rusqlite::types::ValueRef<'_>) -> rusqlite::Result<String> {
    match value {
        rusqlite::types::ValueRef::Text(text) => Ok(String::from_utf8_lossy(text).into_owned()),
        rusqlite::types::ValueRef::Blob(blob) => {
            String::from_utf8(decompressed(blob)?).map_err(|error| {
                rusqlite::Error::FromSqlConversionFailure(
                    0,
                    rusqlite::types::Type::Blob,
                    Box::new(error),
                )
            })
        }
        other => Err(rusqlite::Error::InvalidColumnType(
            0,
            "text".to_owned(),
            other.data_type(),
        )),
    }
}

/// The length in bytes of the text a column [`packed_text`] stored holds,
/// read from a compressed value's frame header without decompressing it.
pub(super) fn unpacked_length(value: rusqlite::types::ValueRef<'_>) -> u64 {
    match value {
        rusqlite::types::ValueRef::Text(text) => u64::try_from(text.len()).unwrap_or(u64::MAX),
        rusqlite::types::ValueRef::Blob(blob) => {
            let frame = match blob.split_first() {
                Some((&AGAINST_A_DICTIONARY, rest)) => rest.get(8..).unwrap_or_default(),
                _ => blob,
            };
            zstd_safe::get_frame_content_size(frame)
                .ok()
                .flatten()
                .unwrap_or_default()
        }
        _ => 0,
    }
}
