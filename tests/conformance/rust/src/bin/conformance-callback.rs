//! The callback suite's handlers (requirements 4-1 to 4-19).

use std::time::Duration;

use aws_durable_execution_sdk::serdes::SerdesContext;
use aws_durable_execution_sdk::{
    self as durable, BoxError, CallbackErrorKind, DurableContext, OperationError,
    OperationErrorKind, Serdes, WireError,
};
use serde::Deserialize;
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    conformance_functions::init_logs();
    match conformance_functions::handler().as_str() {
        "callback_basic" => durable::run(callback_basic).await,
        "callback_named" => durable::run(callback_named).await,
        "callback_timeout" => durable::run(callback_timeout).await,
        "callback_heartbeat_timeout" => durable::run(callback_heartbeat_timeout).await,
        "callback_heartbeat_success" => durable::run(callback_heartbeat_success).await,
        "callback_failure" => durable::run(callback_failure).await,
        "callback_step_failure" => durable::run(callback_step_failure).await,
        "callback_step_timeout" => durable::run(callback_step_timeout).await,
        "callback_wait_success" => durable::run(callback_wait_success).await,
        "callback_wait_failure" => durable::run(callback_wait_failure).await,
        "callback_wait_timeout" => durable::run(callback_wait_timeout).await,
        "callback_then_wait" => durable::run(callback_then_wait).await,
        "callback_failure_caught" => durable::run(callback_failure_caught).await,
        "callback_timeout_caught" => durable::run(callback_timeout_caught).await,
        "callback_serdes_object" => durable::run(callback_serdes_object).await,
        "callback_serdes_number" => durable::run(callback_serdes_number).await,
        "callback_two_sequential" => durable::run(callback_two_sequential).await,
        "callback_two_in_order" => durable::run(callback_two_in_order).await,
        "callback_two_reverse" => durable::run(callback_two_reverse).await,
        other => Err(conformance_functions::unknown(other)),
    }
}

/// 4-1: a callback named after the input; returns its result once the
/// external system sends it.
async fn callback_basic(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    let callback = ctx.create_callback::<String>().name(name).await?;
    Ok(callback.result().await?)
}

/// 4-2: a callback with the explicit name "approval"; returns its result.
async fn callback_named(_event: Value, ctx: DurableContext) -> Result<String, BoxError> {
    let callback = ctx.create_callback::<String>().name("approval").await?;
    Ok(callback.result().await?)
}

/// 4-3: a callback with a 5-second timeout that nobody completes; the
/// timeout fails the execution.
async fn callback_timeout(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    let callback = ctx
        .create_callback::<String>()
        .name(name)
        .timeout(Duration::from_secs(5))
        .await?;
    Ok(callback.result().await?)
}

/// 4-4: a callback with a 5-second heartbeat timeout and no heartbeat; the
/// execution fails.
async fn callback_heartbeat_timeout(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    let callback = ctx
        .create_callback::<String>()
        .name(name)
        .heartbeat(Duration::from_secs(5))
        .await?;
    Ok(callback.result().await?)
}

/// 4-5: a callback with a 10-second heartbeat timeout, kept alive by a
/// heartbeat, then completed; returns its result.
async fn callback_heartbeat_success(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    let callback = ctx
        .create_callback::<String>()
        .name(name)
        .heartbeat(Duration::from_secs(10))
        .await?;
    Ok(callback.result().await?)
}

/// 4-6: a callback the external system fails; the error is not caught, so
/// the execution fails with the external system's error.
async fn callback_failure(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    let callback = ctx.create_callback::<String>().name(name).await?;
    Ok(callback.result().await?)
}

/// 4-7: create a callback, run a step, then await the callback, which the
/// external system fails; the execution fails.
async fn callback_step_failure(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    let callback = ctx.create_callback::<String>().name(name).await?;
    ctx.step(|_| async { Ok("step done".to_owned()) }).await?;
    Ok(callback.result().await?)
}

/// 4-8: create a callback with a 5-second timeout, run a step, then await
/// the callback until it times out; the execution fails.
async fn callback_step_timeout(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    let callback = ctx
        .create_callback::<String>()
        .name(name)
        .timeout(Duration::from_secs(5))
        .await?;
    ctx.step(|_| async { Ok("step done".to_owned()) }).await?;
    Ok(callback.result().await?)
}

/// 4-9: create a callback, wait 5 seconds (the callback succeeds
/// meanwhile), then return its result.
async fn callback_wait_success(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    let callback = ctx.create_callback::<String>().name(name).await?;
    ctx.wait(Duration::from_secs(5)).await?;
    Ok(callback.result().await?)
}

/// 4-10: create a callback, wait 5 seconds (the callback fails meanwhile),
/// then await it; the execution fails.
async fn callback_wait_failure(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    let callback = ctx.create_callback::<String>().name(name).await?;
    ctx.wait(Duration::from_secs(5)).await?;
    Ok(callback.result().await?)
}

/// 4-11: a callback with a 3-second timeout, then a 6-second wait, then
/// await it; the timeout (during the wait) fails the execution.
async fn callback_wait_timeout(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    let callback = ctx
        .create_callback::<String>()
        .name(name)
        .timeout(Duration::from_secs(3))
        .await?;
    ctx.wait(Duration::from_secs(6)).await?;
    Ok(callback.result().await?)
}

/// 4-12: await a callback, then wait 2 seconds, then return the callback's
/// result.
async fn callback_then_wait(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    let callback = ctx.create_callback::<String>().name(name).await?;
    let result = callback.result().await?;
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(result)
}

/// 4-13: await a callback that fails, catch the failure, wait 2 seconds,
/// then return a message carrying the external system's error message.
async fn callback_failure_caught(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    let callback = ctx.create_callback::<String>().name(name).await?;
    let message = match callback.result().await {
        Ok(result) => result,
        Err(error) if matches!(error.kind(), OperationErrorKind::Callback(_)) => {
            format!("callback failed: {}", error_message(&error))
        }
        Err(error) => return Err(error.into()),
    };
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(message)
}

/// 4-14: await a callback with a 3-second timeout, catch the timeout, wait
/// 2 seconds, then return a message saying so.
async fn callback_timeout_caught(name: String, ctx: DurableContext) -> Result<String, BoxError> {
    let callback = ctx
        .create_callback::<String>()
        .name(name)
        .timeout(Duration::from_secs(3))
        .await?;
    let message = match callback.result().await {
        Ok(result) => result,
        Err(error) if timed_out(&error) => {
            format!("callback timed out: {}", error_message(&error))
        }
        Err(error) => return Err(error.into()),
    };
    ctx.wait(Duration::from_secs(2)).await?;
    Ok(message)
}

/// 4-15: a callback whose custom serdes turns the JSON payload into a typed
/// [`Received`], its ISO 8601 timestamp into seconds since the epoch;
/// returns the object with that number.
async fn callback_serdes_object(name: String, ctx: DurableContext) -> Result<Value, BoxError> {
    let callback = ctx
        .create_callback::<Received>()
        .name(name)
        .serdes(ReceivedSerdes)
        .await?;
    let received = callback.result().await?;
    Ok(json!({
        "received": {
            "id": received.id,
            "message": received.message,
            "timestamp": received.timestamp,
        }
    }))
}

/// 4-16: a callback whose custom serdes turns the payload text into a
/// number; returns it and its double.
async fn callback_serdes_number(name: String, ctx: DurableContext) -> Result<Value, BoxError> {
    let callback = ctx
        .create_callback::<i64>()
        .name(name)
        .serdes(NumberSerdes)
        .await?;
    let count = callback.result().await?;
    Ok(json!({ "count": count, "doubled": count * 2 }))
}

/// 4-17: create callback A and await it, then create callback B and await
/// it; returns both results.
async fn callback_two_sequential(
    (name_a, name_b): (String, String),
    ctx: DurableContext,
) -> Result<Vec<String>, BoxError> {
    let first = ctx.create_callback::<String>().name(name_a).await?;
    let first = first.result().await?;
    let second = ctx.create_callback::<String>().name(name_b).await?;
    let second = second.result().await?;
    Ok(vec![first, second])
}

/// 4-18: create callbacks A and B, then await A, then B; returns both
/// results.
async fn callback_two_in_order(
    (name_a, name_b): (String, String),
    ctx: DurableContext,
) -> Result<Vec<String>, BoxError> {
    let callback_a = ctx.create_callback::<String>().name(name_a).await?;
    let callback_b = ctx.create_callback::<String>().name(name_b).await?;
    let result_a = callback_a.result().await?;
    let result_b = callback_b.result().await?;
    Ok(vec![result_a, result_b])
}

/// 4-19: create callbacks A and B, then await B first, then A; returns both
/// results.
async fn callback_two_reverse(
    (name_a, name_b): (String, String),
    ctx: DurableContext,
) -> Result<Vec<String>, BoxError> {
    let callback_a = ctx.create_callback::<String>().name(name_a).await?;
    let callback_b = ctx.create_callback::<String>().name(name_b).await?;
    let result_b = callback_b.result().await?;
    let result_a = callback_a.result().await?;
    Ok(vec![result_a, result_b])
}

/// Whether `error` is a callback's timeout.
fn timed_out(error: &OperationError) -> bool {
    matches!(
        error.kind(),
        OperationErrorKind::Callback(callback) if matches!(callback.kind(), CallbackErrorKind::TimedOut { .. })
    )
}

/// The recorded error message of a failed operation, else its description.
fn error_message(error: &OperationError) -> String {
    error
        .wire()
        .and_then(WireError::error_message)
        .map_or_else(|| error.to_string(), str::to_owned)
}

/// The 4-15 callback payload, typed: its timestamp is a point in time, in
/// seconds since the Unix epoch.
struct Received {
    id: String,
    message: String,
    timestamp: i64,
}

/// JSON text <-> [`Received`]; on the wire the timestamp is ISO 8601 UTC
/// text (`2026-01-01T00:00:00.000Z`).
struct ReceivedSerdes;

impl Serdes<Received> for ReceivedSerdes {
    async fn serialize(&self, value: Received, _: SerdesContext) -> Result<String, BoxError> {
        let fields = json!({
            "id": value.id,
            "message": value.message,
            "timestamp": iso_8601(value.timestamp),
        });
        Ok(fields.to_string())
    }

    async fn deserialize(&self, wire: String, _: SerdesContext) -> Result<Received, BoxError> {
        /// The payload as the external system sends it.
        #[derive(Deserialize)]
        struct Fields {
            id: String,
            message: String,
            timestamp: String,
        }
        let fields: Fields = serde_json::from_str(&wire)?;
        Ok(Received {
            timestamp: epoch_seconds(&fields.timestamp)?,
            id: fields.id,
            message: fields.message,
        })
    }
}

/// Payload text <-> integer.
struct NumberSerdes;

impl Serdes<i64> for NumberSerdes {
    async fn serialize(&self, value: i64, _: SerdesContext) -> Result<String, BoxError> {
        Ok(value.to_string())
    }

    async fn deserialize(&self, wire: String, _: SerdesContext) -> Result<i64, BoxError> {
        Ok(wire.trim().parse()?)
    }
}

const SECONDS_PER_DAY: i64 = 86_400;

/// Seconds since the Unix epoch of a UTC timestamp such as
/// `2026-01-01T00:00:00.000Z` (fractions of a second are dropped).
fn epoch_seconds(text: &str) -> Result<i64, BoxError> {
    let invalid = || -> BoxError { format!("not an ISO 8601 UTC timestamp: {text}").into() };
    let (date, time) = text
        .strip_suffix('Z')
        .and_then(|rest| rest.split_once('T'))
        .ok_or_else(invalid)?;
    let time = time.split_once('.').map_or(time, |(whole, _)| whole);
    let numbers = |part: &str, separator: char| -> Result<[i64; 3], BoxError> {
        let numbers = part
            .split(separator)
            .map(str::parse)
            .collect::<Result<Vec<i64>, _>>()?;
        <[i64; 3]>::try_from(numbers).map_err(|_| invalid())
    };
    let [year, month, day] = numbers(date, '-')?;
    let [hours, minutes, seconds] = numbers(time, ':')?;
    Ok(days_from_civil(year, month, day) * SECONDS_PER_DAY + hours * 3600 + minutes * 60 + seconds)
}

/// The UTC ISO 8601 text of a point in time given in seconds since the
/// Unix epoch.
fn iso_8601(epoch_seconds: i64) -> String {
    let (year, month, day) = civil_from_days(epoch_seconds.div_euclid(SECONDS_PER_DAY));
    let second_of_day = epoch_seconds.rem_euclid(SECONDS_PER_DAY);
    let (hours, minutes, seconds) = (
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60,
    );
    format!("{year:04}-{month:02}-{day:02}T{hours:02}:{minutes:02}:{seconds:02}.000Z")
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date (year, month, day) of a day counted from
/// 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}
