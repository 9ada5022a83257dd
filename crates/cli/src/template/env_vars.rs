//! `--env-vars FILE`: values for the functions' environment variables, in
//! SAM's format. The file is a JSON object: `Parameters` holds values for
//! every function, and an object named by a function's logical id (or its
//! name) holds values for that function, which win over `Parameters`. As
//! in SAM, a value only replaces a variable the template declares for the
//! function; the others are reported, not added.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, bail};

use super::TemplateFunction;

/// The values of an env-vars file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvVars {
    /// For every function.
    every: BTreeMap<String, String>,
    /// By logical id or function name.
    by_function: BTreeMap<String, BTreeMap<String, String>>,
}

impl EnvVars {
    /// Reads the file at `path`.
    ///
    /// # Errors
    ///
    /// When it cannot be read, is not a JSON object of objects, or a value
    /// is not a string, number or boolean; naming the key.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the env-vars file {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("the env-vars file {}", path.display()))
    }

    fn parse(text: &str) -> anyhow::Result<Self> {
        let document: serde_json::Value = serde_json::from_str(text).context("it is not JSON")?;
        let serde_json::Value::Object(entries) = document else {
            bail!("it is not a JSON object keyed by Parameters and function logical ids");
        };
        let mut vars = Self::default();
        for (key, values) in entries {
            let serde_json::Value::Object(values) = values else {
                bail!("{key} is not an object of variable names and values");
            };
            let mut variables = BTreeMap::new();
            for (name, value) in values {
                let value = match value {
                    serde_json::Value::String(text) => text,
                    serde_json::Value::Number(number) => number.to_string(),
                    serde_json::Value::Bool(flag) => flag.to_string(),
                    other => bail!("{key}.{name} is {other}, not a string, number or boolean"),
                };
                variables.insert(name, value);
            }
            if key == "Parameters" {
                vars.every = variables;
            } else {
                vars.by_function.insert(key, variables);
            }
        }
        Ok(vars)
    }

    /// Gives each of `functions` its values; returns a line for each value
    /// left unused (a variable the template does not declare for the
    /// function, or a key that names no function).
    pub fn apply(&self, functions: &mut [TemplateFunction]) -> Vec<String> {
        let mut unused = Vec::new();
        for key in self.by_function.keys() {
            if !functions
                .iter()
                .any(|function| &function.logical_id == key || &function.name == key)
            {
                unused.push(format!("{key} is not a function of the template"));
            }
        }
        for function in functions {
            let own = self
                .by_function
                .get(&function.logical_id)
                .or_else(|| self.by_function.get(&function.name));
            let given = self.every.iter().chain(own.into_iter().flatten());
            for (name, value) in given {
                match function.environment.get_mut(name) {
                    Some(declared) => declared.clone_from(value),
                    None if own.is_some_and(|own| own.contains_key(name)) => unused.push(format!(
                        "{}: {name} is not a variable of its Environment in the template",
                        function.logical_id
                    )),
                    None => {}
                }
            }
        }
        unused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(id: &str, variables: &[(&str, &str)]) -> TemplateFunction {
        TemplateFunction {
            stack: "s".to_owned(),
            logical_id: id.to_owned(),
            name: format!("s-{id}"),
            binary: None,
            code: std::path::PathBuf::from("."),
            runtime: None,
            handler: None,
            durable: None,
            alias: None,
            timeout: std::time::Duration::from_secs(3),
            memory_mb: 128,
            environment: variables
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            logging: super::super::Logging::default(),
            per_tenant: false,
        }
    }

    #[test]
    fn a_functions_own_values_win_over_parameters_and_only_declared_variables_change() {
        let vars = EnvVars::parse(
            r#"{"Parameters": {"TABLE": "shared", "STAGE": "dev"},
                "Writer": {"TABLE": "writer-table", "EXTRA": "x"},
                "s-Reader": {"STAGE": 2},
                "Nobody": {"A": "b"}}"#,
        )
        .unwrap();
        let mut functions = vec![
            function("Writer", &[("TABLE", "t"), ("STAGE", "prod")]),
            function("Reader", &[("TABLE", "t"), ("STAGE", "prod")]),
            function("Other", &[("OTHER", "o")]),
        ];
        let unused = vars.apply(&mut functions);
        assert_eq!(functions[0].environment["TABLE"], "writer-table");
        assert_eq!(functions[0].environment["STAGE"], "dev");
        assert_eq!(functions[1].environment["TABLE"], "shared");
        assert_eq!(
            functions[1].environment["STAGE"], "2",
            "by function name too"
        );
        assert_eq!(functions[2].environment.len(), 1, "nothing added");
        assert!(!functions[0].environment.contains_key("EXTRA"));
        assert_eq!(
            unused,
            [
                "Nobody is not a function of the template",
                "Writer: EXTRA is not a variable of its Environment in the template"
            ]
        );
    }

    #[test]
    fn a_value_that_is_not_a_scalar_is_named() {
        let error = format!(
            "{:#}",
            EnvVars::parse(r#"{"F": {"LIST": [1]}}"#).unwrap_err()
        );
        assert!(error.contains("F.LIST is [1]"), "{error}");
        assert!(EnvVars::parse("[]").is_err());
    }
}
