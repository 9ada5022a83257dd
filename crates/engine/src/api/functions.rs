//! `GetFunction`, `GetFunctionConfiguration`, `ListFunctions`.

use axum::extract::Path;
use serde::Deserialize;
use serde_json::json;

use super::extract::{Answer, Api, Params, ok};
use crate::engine::Engine;
use crate::functions::Target;
use crate::model::DurableConfigShape;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Qualified {
    qualifier: Option<String>,
}

/// A function's configuration, as the API shows it.
fn configuration_of(engine: &Engine, target: &Target) -> serde_json::Value {
    let config = target.function.config();
    let mut configuration = json!({
        "FunctionName": config.name,
        "FunctionArn": engine.function_arn(&config.name, None),
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
    let mut answer = json!({ "Configuration": configuration_of(&engine, &target) });
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
    Ok(ok(&configuration_of(&engine, &target)))
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
            configuration_of(&engine, &target)
        })
        .collect();
    Ok(ok(&json!({ "Functions": functions })))
}
