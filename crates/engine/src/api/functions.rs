//! `GetFunction`, `GetFunctionConfiguration`, `ListFunctions`, and what a
//! function publishes: `ListVersionsByFunction`, `ListAliases`,
//! `GetAlias`. A function behind an alias (`AutoPublishAlias`) has
//! published version `1`, which each of its aliases names.

use axum::extract::Path;
use serde::Deserialize;
use serde_json::json;

use super::extract::{Answer, Api, Params, count, ok};
use crate::engine::Engine;
use crate::error::Error;
use crate::functions::{Function, Target};
use crate::model::DurableConfigShape;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Qualified {
    qualifier: Option<String>,
}

/// A function's configuration, as the API shows it; a version's, as
/// `ListVersionsByFunction` lists it, carries the ARN of that version.
fn configuration_of(engine: &Engine, target: &Target, of_version: bool) -> serde_json::Value {
    let config = target.function.config();
    let qualifier = of_version.then_some(target.version.as_str());
    let mut configuration = json!({
        "FunctionName": config.name,
        "FunctionArn": engine.function_arn(&config.name, qualifier),
        "Runtime": config.runtime.as_deref().unwrap_or("provided.al2023"),
        "Handler": config.handler.as_deref().unwrap_or("bootstrap"),
        "Timeout": config.timeout.as_secs(),
        "MemorySize": config.memory_mb,
        "Version": target.version,
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
    });
    if let (Some(durable), Some(members)) = (config.durable, configuration.as_object_mut()) {
        let shape = DurableConfigShape {
            execution_timeout: durable.execution_timeout,
            retention_period_in_days: durable.retention_days,
        };
        members.insert("DurableConfig".to_owned(), json!(shape));
    }
    if let (true, Some(members)) = (config.per_tenant, configuration.as_object_mut()) {
        members.insert(
            "TenancyConfig".to_owned(),
            json!({ "TenantIsolationMode": "PER_TENANT" }),
        );
    }
    configuration
}

pub(super) async fn get(
    Api(engine): Api,
    Path(function): Path<String>,
    Params(query): Params<Qualified>,
) -> Answer {
    let target = engine.resolve(&function, query.qualifier.as_deref())?;
    let mut answer = json!({ "Configuration": configuration_of(&engine, &target, false) });
    // As CloudFormation tags what it creates.
    if let Some(origin) = &target.function.config().origin
        && let Some(members) = answer.as_object_mut()
    {
        members.insert(
            "Tags".to_owned(),
            json!({
                "aws:cloudformation:stack-name": origin.stack,
                "aws:cloudformation:logical-id": origin.logical_id,
            }),
        );
    }
    Ok(ok(&answer))
}

pub(super) async fn configuration(
    Api(engine): Api,
    Path(function): Path<String>,
    Params(query): Params<Qualified>,
) -> Answer {
    let target = engine.resolve(&function, query.qualifier.as_deref())?;
    Ok(ok(&configuration_of(&engine, &target, false)))
}

pub(super) async fn list(Api(engine): Api) -> Answer {
    let functions: Vec<serde_json::Value> = engine
        .functions()
        .into_iter()
        .map(|function| {
            let target = Target {
                function,
                version: "$LATEST".to_owned(),
                qualified: false,
            };
            configuration_of(&engine, &target, false)
        })
        .collect();
    Ok(ok(&json!({ "Functions": functions })))
}

/// A page of a short list: `MaxItems` (1 to 1000 here) from the position
/// `Marker` gives.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Paging {
    marker: Option<String>,
    max_items: Option<String>,
    function_version: Option<String>,
}

fn page(items: &[serde_json::Value], key: &str, paging: &Paging) -> Answer {
    let from = match paging.marker.as_deref() {
        None | Some("") => 0,
        Some(marker) => marker
            .parse::<usize>()
            .ok()
            .filter(|from| *from <= items.len())
            .ok_or_else(|| Error::invalid(format!("Marker '{marker}' is not one this API gave")))?,
    };
    let size = count("MaxItems", paging.max_items.as_deref())?
        .filter(|size| *size > 0)
        .unwrap_or(crate::limits::MAX_PAGE_ITEMS);
    let end = from.saturating_add(size).min(items.len());
    let mut answer = json!({ key: items.get(from..end).unwrap_or_default() });
    if let (true, Some(members)) = (end < items.len(), answer.as_object_mut()) {
        members.insert("NextMarker".to_owned(), json!(end.to_string()));
    }
    Ok(ok(&answer))
}

/// The function `name` itself: no qualifier.
fn unqualified(engine: &Engine, name: &str) -> Result<Function, Error> {
    let target = engine.resolve(name, None)?;
    if target.qualified {
        return Err(Error::invalid(format!(
            "The function name '{name}' must not carry a qualifier here."
        )));
    }
    Ok(target.function)
}

/// The versions a function has: `$LATEST`, and `1` once it is published.
pub(super) async fn versions(
    Api(engine): Api,
    Path(function): Path<String>,
    Params(paging): Params<Paging>,
) -> Answer {
    let function = unqualified(&engine, &function)?;
    let published = !function.config().aliases.is_empty();
    let versions: Vec<serde_json::Value> = ["$LATEST", "1"]
        .into_iter()
        .take(if published { 2 } else { 1 })
        .map(|version| {
            let target = Target {
                function: function.clone(),
                version: version.to_owned(),
                qualified: true,
            };
            configuration_of(&engine, &target, true)
        })
        .collect();
    page(&versions, "Versions", &paging)
}

/// An alias as the API shows it.
fn alias_of(engine: &Engine, function: &Function, alias: &str) -> serde_json::Value {
    let name = &function.config().name;
    let arn = engine.function_arn(name, Some(alias));
    json!({
        "AliasArn": arn,
        "Name": alias,
        "FunctionVersion": "1",
        "Description": "",
        // Stable: the alias never changes while the engine serves it.
        "RevisionId": uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, arn.as_bytes()).to_string(),
    })
}

/// The function's aliases (those naming `FunctionVersion`, when given).
pub(super) async fn aliases(
    Api(engine): Api,
    Path(function): Path<String>,
    Params(paging): Params<Paging>,
) -> Answer {
    let function = unqualified(&engine, &function)?;
    let wanted = paging.function_version.as_deref();
    let aliases: Vec<serde_json::Value> = function
        .config()
        .aliases
        .iter()
        .filter(|_| wanted.is_none_or(|version| version == "1"))
        .map(|alias| alias_of(&engine, &function, alias))
        .collect();
    page(&aliases, "Aliases", &paging)
}

/// One alias of the function.
pub(super) async fn alias(
    Api(engine): Api,
    Path((function, alias)): Path<(String, String)>,
) -> Answer {
    let function = unqualified(&engine, &function)?;
    if !function.config().aliases.contains(&alias) {
        return Err(Error::not_found(format!(
            "Alias not found: {}",
            engine.function_arn(&function.config().name, Some(&alias))
        )));
    }
    Ok(ok(&alias_of(&engine, &function, &alias)))
}
