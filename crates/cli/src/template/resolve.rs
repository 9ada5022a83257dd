//! The intrinsic functions a template's properties use (`!Sub`, `!GetAtt`,
//! `!Ref` and their long forms), resolved for a local stack as
//! CloudFormation resolves them.
//!
//! A parameter's `Ref` is its value. A function's `Ref` is its name and `!GetAtt F.Arn` its ARN. Another
//! resource's `Ref` is what CloudFormation gives for its type (a table's
//! or a bucket's name, a queue's URL, a topic's ARN), its name taken from
//! its name property or made from the stack and its logical id, and its
//! `Arn` attribute a well-formed ARN of its service.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use serde_yaml_ng::Value;

use super::Stack;

/// A resource of the template that is not a function.
#[derive(Debug, Clone)]
pub(super) struct Resource {
    /// `AWS::DynamoDB::Table`, …
    kind: String,
    /// Its physical name.
    name: String,
}

/// The name properties of the resource types whose name can be given.
const NAME_PROPERTIES: [(&str, &str); 8] = [
    ("AWS::DynamoDB::Table", "TableName"),
    ("AWS::Serverless::SimpleTable", "TableName"),
    ("AWS::SQS::Queue", "QueueName"),
    ("AWS::SNS::Topic", "TopicName"),
    ("AWS::S3::Bucket", "BucketName"),
    ("AWS::IAM::Role", "RoleName"),
    ("AWS::Events::EventBus", "Name"),
    ("AWS::StepFunctions::StateMachine", "StateMachineName"),
];

/// A name as CloudFormation makes one up: the stack, the logical id and a
/// suffix (here stable, so a restart finds the same name).
fn generated_name(stack: &str, id: &str, kind: &str) -> String {
    let digest = id
        .bytes()
        .chain(stack.bytes())
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    let name = format!("{stack}-{id}-{:012X}", digest & 0xFFFF_FFFF_FFFF);
    if kind == "AWS::S3::Bucket" {
        name.to_ascii_lowercase()
    } else {
        name
    }
}

/// The line of `text` where `id` is first referred to, counting from 1.
pub(super) fn line_of(text: &str, id: &str) -> Option<usize> {
    let patterns = [
        format!("!Ref {id}"),
        format!("!GetAtt {id}."),
        format!("${{{id}"),
        format!("Ref: {id}"),
        format!("\"Ref\": \"{id}\""),
        format!("\"{id}\""),
        id.to_owned(),
    ];
    patterns.iter().find_map(|pattern| {
        text.lines()
            .position(|line| line.contains(pattern.as_str()))
            .map(|line| line + 1)
    })
}

/// Resolves intrinsic functions for one stack.
pub(super) struct Resolver<'a> {
    pub(super) stack: &'a Stack,
    /// The template's parameters' values, by name.
    pub(super) parameters: &'a BTreeMap<String, String>,
    /// Function names by logical id.
    pub(super) names: &'a BTreeMap<String, String>,
    /// The other resources by logical id.
    pub(super) resources: &'a BTreeMap<String, Resource>,
    /// The template's text, to name the line of a bad reference.
    pub(super) text: &'a str,
}

impl Resolver<'_> {
    /// The other resources of `resources` (a template's), named for `stack`
    /// with its `parameters`' values.
    pub(super) fn resources(
        resources: &serde_yaml_ng::Mapping,
        stack: &Stack,
        parameters: &BTreeMap<String, String>,
    ) -> BTreeMap<String, Resource> {
        let empty_names = BTreeMap::new();
        let empty_resources = BTreeMap::new();
        let plain = Resolver {
            stack,
            parameters,
            names: &empty_names,
            resources: &empty_resources,
            text: "",
        };
        resources
            .iter()
            .filter_map(|(id, resource)| {
                let id = id.as_str()?;
                let kind = resource.get("Type")?.as_str()?.to_owned();
                if kind == "AWS::Serverless::Function" {
                    return None;
                }
                let given = NAME_PROPERTIES
                    .iter()
                    .find(|(of, _)| *of == kind)
                    .and_then(|(_, property)| resource.get("Properties")?.get(*property))
                    .and_then(|name| plain.resolve(name).ok());
                let name = given.unwrap_or_else(|| generated_name(&stack.name, id, &kind));
                Some((id.to_owned(), Resource { kind, name }))
            })
            .collect()
    }

    fn missing(&self, id: &str) -> anyhow::Error {
        match line_of(self.text, id) {
            Some(line) => anyhow::anyhow!(
                "line {line}: {id} is not a resource or parameter of the template (nor a pseudo parameter)"
            ),
            None => {
                anyhow::anyhow!(
                    "{id} is not a resource or parameter of the template (nor a pseudo parameter)"
                )
            }
        }
    }

    /// `!GetAtt id.attribute`.
    fn attribute(&self, id: &str, attribute: &str) -> anyhow::Result<String> {
        let (region, account) = (&self.stack.region, &self.stack.account);
        if let Some(name) = self.names.get(id) {
            return match attribute {
                "Arn" => Ok(durable_engine::arn::function_arn(
                    region, account, name, None,
                )),
                other => bail!("cannot resolve {id}.{other}: a function's known attribute is Arn"),
            };
        }
        let resource = self.resources.get(id).ok_or_else(|| self.missing(id))?;
        let name = &resource.name;
        let service = resource
            .kind
            .split("::")
            .nth(1)
            .unwrap_or("unknown")
            .to_ascii_lowercase();
        Ok(match (resource.kind.as_str(), attribute) {
            ("AWS::DynamoDB::Table" | "AWS::Serverless::SimpleTable", "Arn") => {
                format!("arn:aws:dynamodb:{region}:{account}:table/{name}")
            }
            ("AWS::DynamoDB::Table", "StreamArn") => {
                format!(
                    "arn:aws:dynamodb:{region}:{account}:table/{name}/stream/1970-01-01T00:00:00.000"
                )
            }
            ("AWS::SQS::Queue" | "AWS::SNS::Topic", "Arn") => {
                format!("arn:aws:{service}:{region}:{account}:{name}")
            }
            ("AWS::SQS::Queue", "QueueName") | ("AWS::SNS::Topic", "TopicName") => name.clone(),
            ("AWS::SQS::Queue", "QueueUrl") => self.queue_url(name),
            ("AWS::S3::Bucket", "Arn") => format!("arn:aws:s3:::{name}"),
            ("AWS::S3::Bucket", "DomainName") => format!("{name}.s3.amazonaws.com"),
            ("AWS::IAM::Role", "Arn") => format!("arn:aws:iam::{account}:role/{name}"),
            (_, "Arn") => format!("arn:aws:{service}:{region}:{account}:{name}"),
            (kind, other) => {
                bail!("cannot resolve {id}.{other} locally: a {kind}'s {other} is not known")
            }
        })
    }

    fn queue_url(&self, name: &str) -> String {
        format!(
            "https://sqs.{}.amazonaws.com/{}/{name}",
            self.stack.region, self.stack.account
        )
    }

    /// `!Ref name`: a pseudo parameter, a parameter's value, a function's
    /// name, or another resource's `Ref` value.
    fn reference(&self, name: &str) -> anyhow::Result<String> {
        Ok(match name {
            "AWS::StackName" => self.stack.name.clone(),
            "AWS::Region" => self.stack.region.clone(),
            "AWS::AccountId" => self.stack.account.clone(),
            "AWS::Partition" => "aws".to_owned(),
            "AWS::URLSuffix" => "amazonaws.com".to_owned(),
            "AWS::NoValue" => String::new(),
            other => {
                if let Some(value) = self.parameters.get(other) {
                    return Ok(value.clone());
                }
                if let Some(function) = self.names.get(other) {
                    return Ok(function.clone());
                }
                let resource = self
                    .resources
                    .get(other)
                    .ok_or_else(|| self.missing(other))?;
                match resource.kind.as_str() {
                    "AWS::SQS::Queue" => self.queue_url(&resource.name),
                    "AWS::SNS::Topic" => self.attribute(other, "Arn")?,
                    _ => resource.name.clone(),
                }
            }
        })
    }

    /// `${name}` in a `!Sub`: a reference, or `${Id.Attribute}`.
    fn variable(&self, name: &str) -> anyhow::Result<String> {
        match name.split_once('.') {
            Some((id, attribute)) if !name.starts_with("AWS::") => self.attribute(id, attribute),
            _ => self.reference(name),
        }
    }

    /// The value `value` resolves to.
    pub(super) fn resolve(&self, value: &Value) -> anyhow::Result<String> {
        match value {
            Value::String(text) => Ok(text.clone()),
            Value::Number(number) => Ok(number.to_string()),
            Value::Bool(flag) => Ok(flag.to_string()),
            Value::Tagged(tagged) => {
                let tag = tagged.tag.to_string();
                match (tag.trim_start_matches('!'), &tagged.value) {
                    ("Sub", Value::String(text)) => self.substitute(text, &BTreeMap::new()),
                    ("Sub", Value::Sequence(parts)) => self.substitute_with(parts),
                    ("GetAtt", Value::String(target)) => match target.split_once('.') {
                        Some((id, attribute)) => self.attribute(id, attribute),
                        None => bail!("cannot resolve !GetAtt {target}: not Id.Attribute"),
                    },
                    ("Ref", Value::String(id)) => self.reference(id),
                    (other, _) => bail!("cannot resolve !{other} locally"),
                }
            }
            Value::Mapping(mapping) if mapping.len() == 1 => match mapping.iter().next() {
                Some((Value::String(key), argument)) => self.long_form(key, argument),
                _ => bail!("cannot resolve {} locally", yaml(value)),
            },
            other => bail!("cannot resolve {} locally", yaml(other)),
        }
    }

    /// `{"Fn::Sub": …}`, `{"Fn::GetAtt": [X, "Arn"]}`, `{"Ref": X}`,
    /// `{"Fn::Join": [sep, [...]]}`: the long forms `sam build` writes.
    fn long_form(&self, key: &str, argument: &Value) -> anyhow::Result<String> {
        match (key, argument) {
            ("Fn::Sub", Value::String(text)) => self.substitute(text, &BTreeMap::new()),
            ("Fn::Sub", Value::Sequence(parts)) => self.substitute_with(parts),
            ("Ref", Value::String(id)) => self.reference(id),
            ("Fn::GetAtt", Value::String(target)) => match target.split_once('.') {
                Some((id, attribute)) => self.attribute(id, attribute),
                None => bail!("cannot resolve Fn::GetAtt {target}: not Id.Attribute"),
            },
            ("Fn::GetAtt", Value::Sequence(parts)) => match parts.as_slice() {
                [Value::String(id), Value::String(attribute)] => self.attribute(id, attribute),
                _ => bail!(
                    "cannot resolve Fn::GetAtt {} locally (only [Id, Attribute])",
                    yaml(argument)
                ),
            },
            ("Fn::Join", Value::Sequence(parts)) => match parts.as_slice() {
                [Value::String(separator), Value::Sequence(items)] => Ok(items
                    .iter()
                    .map(|item| self.resolve(item))
                    .collect::<anyhow::Result<Vec<_>>>()?
                    .join(separator)),
                _ => bail!("cannot resolve Fn::Join {} locally", yaml(argument)),
            },
            (other, _) => bail!("cannot resolve {other} locally"),
        }
    }

    /// `!Sub [text, {Name: value, …}]`: the names given first, then as in
    /// `!Sub text`.
    fn substitute_with(&self, parts: &[Value]) -> anyhow::Result<String> {
        let [Value::String(text), Value::Mapping(variables)] = parts else {
            bail!(
                "cannot resolve !Sub with {} (only [text, {{Name: value}}])",
                yaml(&Value::Sequence(parts.to_vec()))
            );
        };
        let mut locals = BTreeMap::new();
        for (name, value) in variables {
            let name = name.as_str().context("a !Sub variable without a name")?;
            let value = self
                .resolve(value)
                .with_context(|| format!("!Sub variable {name}"))?;
            locals.insert(name.to_owned(), value);
        }
        self.substitute(text, &locals)
    }

    /// `text` with each `${name}` replaced: by `locals`' value when it has
    /// one, else as a variable of the template; `${!name}` is the literal
    /// `${name}`.
    fn substitute(&self, text: &str, locals: &BTreeMap<String, String>) -> anyhow::Result<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(rest.get(..start).unwrap_or_default());
            let after = rest.get(start + 2..).unwrap_or_default();
            let end = after
                .find('}')
                .with_context(|| format!("unclosed ${{ in '{text}'"))?;
            let name = after.get(..end).unwrap_or_default();
            match (name.strip_prefix('!'), locals.get(name)) {
                (Some(literal), _) => {
                    out.push_str("${");
                    out.push_str(literal);
                    out.push('}');
                }
                (None, Some(local)) => out.push_str(local),
                (None, None) => out.push_str(&self.variable(name)?),
            }
            rest = after.get(end + 1..).unwrap_or_default();
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// `value` as YAML text on one line, for error messages.
fn yaml(value: &Value) -> String {
    serde_yaml_ng::to_string(value)
        .map(|text| text.trim().replace('\n', " "))
        .unwrap_or_default()
}
