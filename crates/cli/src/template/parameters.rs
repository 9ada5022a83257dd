//! The template's `Parameters`: each one's value, from the values given
//! (`--parameter-overrides`) or its `Default`, checked against its `Type`,
//! `AllowedValues`, `AllowedPattern`, lengths and bounds as CloudFormation
//! checks them when a stack is created.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use serde_yaml_ng::Value;

/// The value of every parameter `document` declares, from `given` or the
/// parameter's `Default`.
///
/// # Errors
///
/// Naming the parameter: a value given for a parameter the template does
/// not declare, a parameter with neither a value nor a `Default`, a value
/// its `Type` or constraints refuse.
pub(super) fn values(
    document: &Value,
    given: &BTreeMap<String, String>,
) -> anyhow::Result<BTreeMap<String, String>> {
    let declared = match document.get("Parameters") {
        None | Some(Value::Null) => serde_yaml_ng::Mapping::new(),
        Some(Value::Mapping(declared)) => declared.clone(),
        Some(_) => bail!("Parameters must be a mapping of parameter names"),
    };
    let names: Vec<&str> = declared.keys().filter_map(Value::as_str).collect();
    if let Some(unknown) = given.keys().find(|name| !names.contains(&name.as_str())) {
        bail!(
            "a value is given for the parameter {unknown}, which the template does not declare ({})",
            if names.is_empty() {
                "it declares none".to_owned()
            } else {
                format!("it declares {}", names.join(", "))
            }
        );
    }
    let mut values = BTreeMap::new();
    for (name, declaration) in &declared {
        let name = name.as_str().context("a parameter without a name")?;
        let value = match given.get(name) {
            Some(value) => value.clone(),
            None => match declaration.get("Default") {
                Some(default) => scalar(default)
                    .with_context(|| format!("parameter {name}: Default is not a value"))?,
                None => bail!(
                    "parameter {name} has no Default: give it a value with --parameter-overrides {name}=VALUE"
                ),
            },
        };
        check(name, declaration, &value)?;
        values.insert(name.to_owned(), value);
    }
    Ok(values)
}

/// A scalar YAML value as text; lists as CloudFormation's comma-joined
/// form.
fn scalar(value: &Value) -> anyhow::Result<String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Sequence(items) => Ok(items
            .iter()
            .map(scalar)
            .collect::<anyhow::Result<Vec<_>>>()?
            .join(",")),
        _ => bail!("not a string, number or list"),
    }
}

/// Checks `value` against the parameter `name`'s declaration.
fn check(name: &str, declaration: &Value, value: &str) -> anyhow::Result<()> {
    let kind = declaration
        .get("Type")
        .and_then(Value::as_str)
        .with_context(|| format!("parameter {name} has no Type"))?;
    // Its own description of what it accepts, when it gives one.
    let refuse = |what: String| -> anyhow::Error {
        match declaration
            .get("ConstraintDescription")
            .and_then(Value::as_str)
        {
            Some(description) => anyhow::anyhow!("Parameter '{name}' {what}: {description}"),
            None => anyhow::anyhow!("Parameter '{name}' {what}"),
        }
    };
    let items: Vec<&str> = match kind {
        "String" => vec![value],
        "Number" => {
            number(value).map_err(|()| refuse("must be a number".to_owned()))?;
            vec![value]
        }
        "List<Number>" => {
            let items: Vec<&str> = value.split(',').map(str::trim).collect();
            if items.iter().any(|item| number(item).is_err()) {
                return Err(refuse(
                    "must be a list of numbers, separated by commas".to_owned(),
                ));
            }
            items
        }
        "CommaDelimitedList" => value.split(',').map(str::trim).collect(),
        // Their values are names of things in an account (a key pair, a
        // subnet, an SSM parameter); there is no account here to look
        // them up in, so the value is taken as given.
        aws if aws.starts_with("AWS::") || aws.starts_with("List<AWS::") => vec![value],
        other => bail!(
            "parameter {name}: Type {other} is not a parameter type (String, Number, List<Number>, CommaDelimitedList, or an AWS-specific type)"
        ),
    };
    if let Some(allowed) = declaration.get("AllowedValues") {
        let allowed: Vec<String> = allowed
            .as_sequence()
            .with_context(|| format!("parameter {name}: AllowedValues must be a list"))?
            .iter()
            .map(scalar)
            .collect::<anyhow::Result<_>>()
            .with_context(|| format!("parameter {name}: AllowedValues"))?;
        if let Some(refused) = items
            .iter()
            .find(|item| !allowed.iter().any(|ok| ok == *item))
        {
            return Err(refuse(format!(
                "must be one of AllowedValues ({}), not '{refused}'",
                allowed.join(", ")
            )));
        }
    }
    if let Some(pattern) = declaration.get("AllowedPattern").and_then(Value::as_str) {
        let anchored = regex_lite::Regex::new(&format!("^(?:{pattern})$")).with_context(|| {
            format!("parameter {name}: AllowedPattern {pattern} is not a pattern")
        })?;
        if let Some(refused) = items.iter().find(|item| !anchored.is_match(item)) {
            return Err(refuse(format!(
                "must match pattern {pattern}, which '{refused}' does not"
            )));
        }
    }
    let bound = |key: &str| declaration.get(key).and_then(Value::as_f64);
    let length_bound = |key: &str| declaration.get(key).and_then(Value::as_u64);
    for item in &items {
        let length = u64::try_from(item.chars().count()).unwrap_or(u64::MAX);
        if let Some(least) = length_bound("MinLength")
            && length < least
        {
            return Err(refuse(format!("must contain at least {least} characters")));
        }
        if let Some(most) = length_bound("MaxLength")
            && length > most
        {
            return Err(refuse(format!("must contain at most {most} characters")));
        }
        if let Ok(number) = number(item) {
            if let Some(least) = bound("MinValue")
                && number < least
            {
                return Err(refuse(format!("must be a number not less than {least}")));
            }
            if let Some(most) = bound("MaxValue")
                && number > most
            {
                return Err(refuse(format!("must be a number not greater than {most}")));
            }
        }
    }
    Ok(())
}

fn number(text: &str) -> Result<f64, ()> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|number| number.is_finite())
        .ok_or(())
}

/// Parses `--parameter-overrides` values in either of SAM's syntaxes:
/// `Key=Value` pairs, or `ParameterKey=K,ParameterValue=V` pairs, each
/// separated by spaces, a value with spaces quoted.
///
/// # Errors
///
/// Naming the part that is neither.
pub fn parse_overrides(texts: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut overrides = BTreeMap::new();
    for text in texts {
        let words = shlex::split(text)
            .with_context(|| format!("--parameter-overrides '{text}': an unclosed quote"))?;
        for word in words {
            let (name, value) = match word.strip_prefix("ParameterKey=") {
                Some(rest) => rest.split_once(",ParameterValue=").with_context(|| {
                    format!("'{word}' is not ParameterKey=KEY,ParameterValue=VALUE")
                })?,
                None => word
                    .split_once('=')
                    .with_context(|| format!("'{word}' is not KEY=VALUE"))?,
            };
            anyhow::ensure!(!name.is_empty(), "'{word}' names no parameter");
            overrides.insert(name.to_owned(), value.to_owned());
        }
    }
    Ok(overrides)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(parameters: &str) -> Value {
        serde_yaml_ng::from_str(&format!("Parameters:\n{parameters}")).unwrap()
    }

    fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    fn refused(parameters: &str, pairs: &[(&str, &str)]) -> String {
        format!(
            "{:#}",
            values(&document(parameters), &given(pairs)).unwrap_err()
        )
    }

    #[test]
    fn a_value_given_wins_over_the_default() {
        let declared = document(
            "  Greeting:\n    Type: String\n    Default: x\n  Size:\n    Type: Number\n    Default: 3\n",
        );
        let defaults = values(&declared, &BTreeMap::new()).unwrap();
        assert_eq!(defaults, given(&[("Greeting", "x"), ("Size", "3")]));
        let chosen = values(&declared, &given(&[("Greeting", "hello there")])).unwrap();
        assert_eq!(chosen["Greeting"], "hello there");
    }

    #[test]
    fn a_parameter_without_value_or_default_is_named() {
        let error = refused("  Stage:\n    Type: String\n", &[]);
        assert!(error.contains("parameter Stage has no Default"), "{error}");
        assert!(
            error.contains("--parameter-overrides Stage=VALUE"),
            "{error}"
        );
    }

    #[test]
    fn a_value_for_an_undeclared_parameter_is_refused() {
        let error = refused(
            "  Stage:\n    Type: String\n    Default: dev\n",
            &[("Stag", "x")],
        );
        assert!(error.contains("the parameter Stag"), "{error}");
        assert!(error.contains("it declares Stage"), "{error}");
    }

    #[test]
    fn allowed_values_type_pattern_and_bounds_are_checked() {
        let stage = "  Stage:\n    Type: String\n    AllowedValues: [dev, prod]\n";
        assert!(values(&document(stage), &given(&[("Stage", "prod")])).is_ok());
        let error = refused(stage, &[("Stage", "test")]);
        assert!(
            error
                .contains("Parameter 'Stage' must be one of AllowedValues (dev, prod), not 'test'"),
            "{error}"
        );
        let size = "  Size:\n    Type: Number\n    MinValue: 1\n    MaxValue: 10\n";
        assert!(refused(size, &[("Size", "ten")]).contains("Parameter 'Size' must be a number"));
        assert!(refused(size, &[("Size", "11")]).contains("not greater than 10"));
        let pattern = "  Name:\n    Type: String\n    AllowedPattern: '[a-z]+'\n    ConstraintDescription: lower-case letters\n";
        let error = refused(pattern, &[("Name", "abc1")]);
        assert!(error.contains("must match pattern [a-z]+"), "{error}");
        assert!(error.ends_with(": lower-case letters"), "{error}");
        let list = "  Ports:\n    Type: List<Number>\n";
        assert!(values(&document(list), &given(&[("Ports", "80, 443")])).is_ok());
        assert!(refused(list, &[("Ports", "80,http")]).contains("list of numbers"));
        let error = refused("  X:\n    Type: Text\n    Default: a\n", &[]);
        assert!(
            error.contains("Type Text is not a parameter type"),
            "{error}"
        );
    }

    #[test]
    fn both_of_sams_override_syntaxes_parse() {
        let parsed = parse_overrides(&[
            "Stage=dev Greeting='hello there'".to_owned(),
            "ParameterKey=Size,ParameterValue=3 ParameterKey=Empty,ParameterValue=".to_owned(),
        ])
        .unwrap();
        assert_eq!(
            parsed,
            given(&[
                ("Stage", "dev"),
                ("Greeting", "hello there"),
                ("Size", "3"),
                ("Empty", "")
            ])
        );
        let error = format!("{:#}", parse_overrides(&["Stage".to_owned()]).unwrap_err());
        assert!(error.contains("'Stage' is not KEY=VALUE"), "{error}");
    }
}
