//! Settings read from the environment, with errors that name the variable.
//!
//! On Lambda the variables are the process's environment ([`ProcessEnv`]);
//! a host running several functions in one process gives each its own map
//! of variables (any [`Vars`]).

use std::collections::BTreeMap;
use std::str::FromStr;

/// Where variables are read from.
pub trait Vars {
    /// The value of `name`, if set.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process's environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Vars for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Vars for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// A setting that is missing or cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// A required variable is unset or empty.
    #[error("environment variable {0} is required")]
    Missing(String),
    /// A variable's value is not what it should be.
    #[error("environment variable {name}='{value}' is not {expected}")]
    Invalid {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
}

/// The value of `name`, which must be set and not empty.
///
/// # Errors
///
/// [`SettingsError::Missing`] when it is unset or empty.
pub fn required(vars: &dyn Vars, name: &str) -> Result<String, SettingsError> {
    vars.var(name)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| SettingsError::Missing(name.to_owned()))
}

/// The value of `name` parsed as `T`, or `default` when unset or empty.
///
/// # Errors
///
/// [`SettingsError::Invalid`] when it is set but does not parse.
pub fn parsed_or<T: FromStr>(
    vars: &dyn Vars,
    name: &str,
    default: T,
    expected: &'static str,
) -> Result<T, SettingsError> {
    match vars.var(name) {
        Some(value) if !value.is_empty() => value.parse().map_err(|_| SettingsError::Invalid {
            name: name.to_owned(),
            value,
            expected,
        }),
        _ => Ok(default),
    }
}
