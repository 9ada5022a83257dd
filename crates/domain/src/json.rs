//! Reading untrusted JSON field by field, keeping numbers as their text.
//!
//! Orders and worker requests arrive as arbitrary JSON. Validation must say
//! which field is wrong, in a fixed order, and must read amounts from their
//! digits; so a document is read one level at a time over
//! [`RawValue`]s instead of being deserialized into fixed types up front.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

/// One JSON value, classified, with its children left unparsed.
#[derive(Debug)]
pub(crate) enum Json<'a> {
    Null,
    Bool,
    /// The number's text, exactly as written.
    Number(&'a str),
    String(String),
    Array(Vec<&'a RawValue>),
    Object(Object<'a>),
}

/// The members of a JSON object (the last one wins on a repeated key).
#[derive(Debug, Default)]
pub(crate) struct Object<'a>(BTreeMap<String, &'a RawValue>);

impl<'a> Object<'a> {
    /// The member `key`, classified; `None` when absent.
    pub(crate) fn get(&self, key: &str) -> Option<Json<'a>> {
        self.0.get(key).map(|raw| classify(raw))
    }

    /// The member `key` when it is a string.
    pub(crate) fn string(&self, key: &str) -> Option<String> {
        match self.get(key) {
            Some(Json::String(text)) => Some(text),
            _ => None,
        }
    }

    /// The member `key` when it is a non-empty string.
    pub(crate) fn non_empty_string(&self, key: &str) -> Option<String> {
        self.string(key).filter(|text| !text.is_empty())
    }

    /// The member `key` when it is an object; an empty object otherwise.
    pub(crate) fn object_or_empty(&self, key: &str) -> Object<'a> {
        match self.get(key) {
            Some(Json::Object(object)) => object,
            _ => Object::default(),
        }
    }

    /// The member `key` as text for display: a string as itself, any other
    /// value as its JSON text; `None` when absent or `null`.
    pub(crate) fn display_text(&self, key: &str) -> Option<String> {
        let raw = self.0.get(key)?;
        match classify(raw) {
            Json::Null => None,
            Json::String(text) => Some(text),
            _ => Some(raw.get().trim().to_owned()),
        }
    }
}

/// Classifies one raw JSON value by its first character and parses one level.
pub(crate) fn classify(raw: &RawValue) -> Json<'_> {
    let text = raw.get().trim_start();
    match text.chars().next() {
        Some('{') => serde_json::from_str::<BTreeMap<String, &RawValue>>(raw.get())
            .map_or(Json::Null, |members| Json::Object(Object(members))),
        Some('[') => {
            serde_json::from_str::<Vec<&RawValue>>(raw.get()).map_or(Json::Null, Json::Array)
        }
        Some('"') => serde_json::from_str::<String>(raw.get()).map_or(Json::Null, Json::String),
        Some('t' | 'f') => Json::Bool,
        Some('-' | '0'..='9') => Json::Number(text.trim_end()),
        _ => Json::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn keeps_a_number_as_written() {
        let value = raw(r#"{"price": 29.990}"#);
        let Json::Object(object) = classify(&value) else {
            panic!("object expected")
        };
        assert!(matches!(object.get("price"), Some(Json::Number("29.990"))));
    }

    #[test]
    fn tells_each_kind_apart() {
        assert!(matches!(classify(&raw("null")), Json::Null));
        assert!(matches!(classify(&raw("true")), Json::Bool));
        assert!(matches!(classify(&raw("[1, 2]")), Json::Array(items) if items.len() == 2));
        assert!(matches!(classify(&raw(r#""a\"b""#)), Json::String(text) if text == "a\"b"));
    }

    #[test]
    fn shows_a_non_string_as_its_json_text() {
        let value = raw(r#"{"method": 5, "none": null, "name": "paypal"}"#);
        let Json::Object(object) = classify(&value) else {
            panic!("object expected")
        };
        assert_eq!(object.display_text("method").as_deref(), Some("5"));
        assert_eq!(object.display_text("none"), None);
        assert_eq!(object.display_text("name").as_deref(), Some("paypal"));
    }
}
