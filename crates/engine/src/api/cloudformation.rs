//! CloudFormation's `ListStackResources` and `DescribeStackResource`, for
//! the stack a template was served as: tools that find a stack's
//! functions by their logical ids (test harnesses, scripts written for a
//! deployed stack) find them here the same way.
//!
//! CloudFormation speaks the AWS Query protocol: a form-encoded `POST /`
//! naming its `Action`, answered in XML.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::response::{IntoResponse as _, Response};

use crate::engine::Engine;
use crate::functions::Origin;

const NAMESPACE: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";

/// Answers the form-encoded request `body`.
pub(super) fn dispatch(engine: &Engine, body: &[u8]) -> Response {
    let Ok(form) = serde_html_form::from_bytes::<HashMap<String, String>>(body) else {
        return error(400, "ValidationError", "The request body is not a form.");
    };
    let field = |key: &str| form.get(key).map(String::as_str).unwrap_or_default();
    match field("Action") {
        "ListStackResources" => list_stack_resources(engine, field("StackName")),
        "DescribeStackResource" => {
            describe_stack_resource(engine, field("StackName"), field("LogicalResourceId"))
        }
        "" => error(
            400,
            "MissingAction",
            "The request must contain the parameter Action.",
        ),
        other => error(
            400,
            "InvalidAction",
            &format!(
                "The action {other} is not valid for this endpoint: it answers ListStackResources and DescribeStackResource"
            ),
        ),
    }
}

/// The functions of the stack `name` (its name or its id), by logical id;
/// `None` when no function belongs to it.
fn stack(engine: &Engine, name: &str) -> Option<Vec<(Origin, String)>> {
    let mut members: Vec<(Origin, String)> = engine
        .functions()
        .into_iter()
        .filter_map(|function| {
            let config = function.config();
            let origin = config.origin.clone()?;
            (origin.stack == name || stack_id(engine, &origin.stack) == name)
                .then(|| (origin, config.name.clone()))
        })
        .collect();
    members.sort_by(|a, b| a.0.logical_id.cmp(&b.0.logical_id));
    (!members.is_empty()).then_some(members)
}

fn stack_id(engine: &Engine, stack: &str) -> String {
    let options = engine.options();
    format!(
        "arn:aws:cloudformation:{}:{}:stack/{stack}/{}",
        options.region,
        options.account,
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, stack.as_bytes())
    )
}

fn missing_stack(name: &str) -> Response {
    error(
        400,
        "ValidationError",
        &format!("Stack with id {name} does not exist"),
    )
}

fn list_stack_resources(engine: &Engine, name: &str) -> Response {
    let Some(members) = stack(engine, name) else {
        return missing_stack(name);
    };
    let updated = engine.now().to_rfc3339();
    let mut summaries = String::new();
    for (origin, physical) in &members {
        let _ = write!(
            summaries,
            "<member><LogicalResourceId>{}</LogicalResourceId><PhysicalResourceId>{}</PhysicalResourceId>\
             <ResourceType>AWS::Lambda::Function</ResourceType><LastUpdatedTimestamp>{updated}</LastUpdatedTimestamp>\
             <ResourceStatus>CREATE_COMPLETE</ResourceStatus><DriftInformation><StackResourceDriftStatus>NOT_CHECKED</StackResourceDriftStatus></DriftInformation></member>",
            escape(&origin.logical_id),
            escape(physical)
        );
    }
    answer(
        "ListStackResources",
        &format!("<StackResourceSummaries>{summaries}</StackResourceSummaries>"),
    )
}

fn describe_stack_resource(engine: &Engine, name: &str, logical_id: &str) -> Response {
    let Some(members) = stack(engine, name) else {
        return missing_stack(name);
    };
    let Some((origin, physical)) = members
        .iter()
        .find(|(origin, _)| origin.logical_id == logical_id)
    else {
        return error(
            400,
            "ValidationError",
            &format!("Resource {logical_id} does not exist for stack {name}"),
        );
    };
    answer(
        "DescribeStackResource",
        &format!(
            "<StackResourceDetail><StackName>{}</StackName><StackId>{}</StackId><LogicalResourceId>{}</LogicalResourceId>\
             <PhysicalResourceId>{}</PhysicalResourceId><ResourceType>AWS::Lambda::Function</ResourceType>\
             <LastUpdatedTimestamp>{}</LastUpdatedTimestamp><ResourceStatus>CREATE_COMPLETE</ResourceStatus></StackResourceDetail>",
            escape(&origin.stack),
            escape(&stack_id(engine, &origin.stack)),
            escape(&origin.logical_id),
            escape(physical),
            engine.now().to_rfc3339()
        ),
    )
}

fn answer(action: &str, result: &str) -> Response {
    xml(
        200,
        format!(
            "<{action}Response xmlns=\"{NAMESPACE}\"><{action}Result>{result}</{action}Result>\
             <ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
            uuid::Uuid::new_v4()
        ),
    )
}

fn error(status: u16, code: &str, message: &str) -> Response {
    xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>Sender</Type><Code>{code}</Code>\
             <Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            escape(message),
            uuid::Uuid::new_v4()
        ),
    )
}

fn xml(status: u16, body: String) -> Response {
    let status = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_REQUEST);
    (status, [(http::header::CONTENT_TYPE, "text/xml")], body).into_response()
}

/// `text` with XML's special characters escaped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(
            escape("a<b & 'c'>\""),
            "a&lt;b &amp; &apos;c&apos;&gt;&quot;"
        );
    }
}
