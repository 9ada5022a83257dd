//! Lambda ARNs: built and read in one place.
//!
//! A function is named bare (`Orders`), qualified (`Orders:prod`), as a
//! partial ARN (`123456789012:function:Orders`) or as a full ARN
//! (`arn:aws:lambda:us-east-1:123456789012:function:Orders:prod`). An
//! execution's ARN is its function's qualified ARN followed by
//! `/durable-execution/NAME/ID`.

/// The ARN of `function` in `region` and `account`, qualified with
/// `version` when given.
#[must_use]
pub fn function_arn(region: &str, account: &str, function: &str, version: Option<&str>) -> String {
    match version {
        Some(version) => format!("arn:aws:lambda:{region}:{account}:function:{function}:{version}"),
        None => format!("arn:aws:lambda:{region}:{account}:function:{function}"),
    }
}

/// The ARN of the execution `name` (with its unique `id`) of the function
/// whose qualified ARN is `function_arn`.
#[must_use]
pub fn execution_arn(function_arn: &str, name: &str, id: &str) -> String {
    format!("{function_arn}/durable-execution/{name}/{id}")
}

/// A new execution's generated name or id: a UUID ordered by time (version
/// 7), so that the store's indexes of names and ARNs take each new
/// execution on their last page rather than on a page of its own.
#[must_use]
pub fn new_execution_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The function an execution's ARN belongs to (its bare name).
#[must_use]
pub fn function_of_execution(execution_arn: &str) -> Option<&str> {
    let (function_arn, _) = execution_arn.split_once("/durable-execution/")?;
    FunctionRef::parse(function_arn).map(|function| function.name)
}

/// A function as a request names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionRef<'a> {
    /// The bare name.
    pub name: &'a str,
    /// The version or alias, when the name carries one.
    pub qualifier: Option<&'a str>,
    /// The region, when a full ARN gives it.
    pub region: Option<&'a str>,
    /// The account, when a (partial) ARN gives it.
    pub account: Option<&'a str>,
}

impl<'a> FunctionRef<'a> {
    /// Reads `NAME[:QUALIFIER]`, `ACCOUNT:function:NAME[:QUALIFIER]` or
    /// `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`.
    /// `None` when it is none of them, or the name is not 1 to 64
    /// characters of `[a-zA-Z0-9-_.]`.
    #[must_use]
    pub fn parse(text: &'a str) -> Option<Self> {
        let parts: Vec<&str> = text.split(':').collect();
        let (region, account, name, qualifier) = match parts.as_slice() {
            [name] => (None, None, *name, None),
            [name, qualifier] => (None, None, *name, Some(*qualifier)),
            [account, "function", name] => (None, Some(*account), *name, None),
            [account, "function", name, qualifier] => {
                (None, Some(*account), *name, Some(*qualifier))
            }
            ["arn", _, "lambda", region, account, "function", name] => {
                (Some(*region), Some(*account), *name, None)
            }
            [
                "arn",
                _,
                "lambda",
                region,
                account,
                "function",
                name,
                qualifier,
            ] => (Some(*region), Some(*account), *name, Some(*qualifier)),
            _ => return None,
        };
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        (valid && qualifier.is_none_or(|q| !q.is_empty())).then_some(Self {
            name,
            qualifier,
            region,
            account,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_execution_ids_sort_in_the_order_they_were_made() {
        let ids: Vec<String> = (0..64).map(|_| new_execution_id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(sorted, ids);
        assert!(ids.iter().all(|id| uuid::Uuid::parse_str(id).is_ok()));
    }

    #[test]
    fn function_names_come_bare_qualified_or_as_arns() {
        let parse = |text| FunctionRef::parse(text).map(|f| (f.name, f.qualifier));
        assert_eq!(parse("Orders"), Some(("Orders", None)));
        assert_eq!(parse("Orders:prod"), Some(("Orders", Some("prod"))));
        assert_eq!(
            parse("arn:aws:lambda:us-east-1:000000000000:function:Orders:$LATEST"),
            Some(("Orders", Some("$LATEST")))
        );
        assert_eq!(
            parse("000000000000:function:Orders"),
            Some(("Orders", None))
        );
        assert_eq!(parse("a b"), None);
        assert_eq!(parse("Orders:"), None);
    }

    #[test]
    fn a_full_arn_names_its_region_and_account() {
        let full = FunctionRef::parse("arn:aws:lambda:eu-west-1:123456789012:function:F").unwrap();
        assert_eq!(
            (full.region, full.account),
            (Some("eu-west-1"), Some("123456789012"))
        );
    }

    #[test]
    fn arns_are_built_as_lambda_builds_them() {
        let function = function_arn("us-east-1", "000000000000", "F", Some("1"));
        assert_eq!(
            function,
            "arn:aws:lambda:us-east-1:000000000000:function:F:1"
        );
        let execution = execution_arn(&function, "n", "id");
        assert_eq!(
            execution,
            "arn:aws:lambda:us-east-1:000000000000:function:F:1/durable-execution/n/id"
        );
        assert_eq!(function_of_execution(&execution), Some("F"));
        assert_eq!(function_of_execution("F"), None);
    }
}
