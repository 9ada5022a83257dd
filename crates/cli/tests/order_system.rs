//! The order system end to end on the engine, in process.
#![allow(clippy::unwrap_used, reason = "test helpers")]

use std::collections::BTreeMap;
use std::sync::Arc;

use durable_engine::Engine;
use durable_engine::model::ExecutionStatus;
use durable_engine::store::{MemoryStore, SqliteStore};
use durable_engine::testing::{TestEngine, finished};
use orders_cli::system::{self, OrderSystem};

/// The order system on an engine over SQLite, as `orders invoke` runs it.
fn engine(time_scale: f64) -> (Engine, OrderSystem) {
    on(TestEngine::new()
        .time_scale(time_scale)
        .store(Arc::new(SqliteStore::in_memory().unwrap())))
}

/// The order system on an engine over the store in memory, for tests on
/// paused time: SQLite's writer thread is outside tokio's clock, which
/// would jump ahead while a commit is under way.
fn paused_engine() -> (Engine, OrderSystem) {
    on(TestEngine::new().store(Arc::new(MemoryStore::new())))
}

fn on(engine: TestEngine) -> (Engine, OrderSystem) {
    let engine = engine.build();
    let system = system::install(&engine, &BTreeMap::new(), None).unwrap();
    (engine, system)
}

async fn order(
    (engine, system): &(Engine, OrderSystem),
    payload: &str,
) -> (
    serde_json::Value,
    durable_engine::execution::ExecutionRecord,
) {
    let started = engine
        .start(system.order(payload.as_bytes().to_vec()))
        .await
        .unwrap();
    let record = finished(engine, &started.arn).await;
    assert_eq!(
        record.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        record.error
    );
    let result = serde_json::from_str(record.result.as_deref().unwrap()).unwrap();
    (result, record)
}

/// An amount, compared as an exact decimal (JSON numbers or their text).
fn money(value: &serde_json::Value) -> order_domain::Money {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
        .parse()
        .unwrap()
}

fn example(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../examples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The one test of the order system on wall-clock time, on purpose: the
/// orchestrator measures `processingTimeMs` with the system clock, as it does
/// on Lambda, and the seed's one-second wait must be in it. Only its lower
/// bound is asserted, which a slow machine cannot miss.
#[tokio::test]
async fn the_seed_order_is_confirmed_in_real_time_with_its_one_second_wait() {
    let engine = engine(1.0);
    let (result, record) = order(&engine, &example("seed-order.json")).await;
    assert_eq!(result["success"], true);
    assert_eq!(result["result"]["status"], "CONFIRMED");
    assert_eq!(
        money(&result["result"]["totals"]["total"]),
        money(&"130.68".into())
    );
    let processing = result["processingTimeMs"].as_u64().unwrap();
    assert!(
        processing >= 1_200,
        "the 1 s wait and the 200 ms payment are in it: {processing}"
    );
    assert_eq!(
        record.invocations, 2,
        "one invocation up to the wait, one after it"
    );
    let stats = engine.0.stats();
    assert_eq!(stats.executions, 1);
    assert_eq!(stats.plain_invocations, 4, "each worker once");
}

#[tokio::test(start_paused = true)]
async fn the_seed_tests_give_spec_answers_on_the_engine() {
    let engine = paused_engine();
    for (file, total, tax) in [
        ("seed-order.json", "130.68", "7.97"),
        ("test-ny.json", "112.24", "4.00"),
        ("test-bulk.json", "389.63", "21.24"),
    ] {
        let (result, _) = order(&engine, &example(file)).await;
        assert_eq!(result["success"], true, "{file}");
        assert_eq!(
            money(&result["result"]["totals"]["total"]),
            money(&total.into()),
            "{file}"
        );
        assert_eq!(
            money(&result["result"]["tax"]["amount"]),
            money(&tax.into()),
            "{file}"
        );
    }
    let (invalid, record) = order(&engine, &example("test-invalid.json")).await;
    assert_eq!(invalid["success"], false);
    assert_eq!(invalid["error"]["name"], "ValidationError");
    assert_eq!(invalid["error"]["field"], "items");
    assert_eq!(record.invocations, 1);
}

#[tokio::test(start_paused = true)]
async fn an_order_costs_at_most_one_checkpoint_per_operation_update() {
    let engine = paused_engine();
    order(&engine, &example("seed-order.json")).await;
    let stats = engine.0.stats();
    // validate-input, calculate-subtotal, validate-results, calculate-final-totals and
    // finalize-order start and succeed (10 updates); the parallel, four branches and four
    // worker steps start and succeed (18); the wait starts (1). The orchestrator batches its
    // checkpoints, so updates made while a call is in flight share the next call: the
    // concurrent branches' do, the sequential steps' cannot.
    assert!((12..=29).contains(&stats.checkpoints), "{stats:?}");
}

#[tokio::test(start_paused = true)]
async fn an_order_the_store_refuses_ends_orders_invoke_with_the_stores_error_at_once() {
    use durable_engine::store::{MemoryStore, Store};
    use durable_engine::testing::FaultyStore;
    use orders_cli::invoke::{Order, run_order};

    let store = FaultyStore::new(Arc::new(MemoryStore::new()));
    let engine = TestEngine::new()
        .store(Arc::clone(&store) as Arc<dyn Store>)
        .build();
    let system = system::install(&engine, &BTreeMap::new(), None).unwrap();
    let order = Order {
        input: example("seed-order.json").into_bytes(),
        name: Some("disk-full".to_owned()),
        quiet: true,
    };
    // The start is committed; the disk is full by the first checkpoint.
    store.refuse_after(1);
    let refused = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        run_order(&engine, &system, order.clone()),
    )
    .await
    .expect("orders invoke ends within seconds")
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("store: database or disk is full"),
        "{refused}"
    );

    // Space returns: invoked again under its name, the order completes.
    store.heal();
    let record = run_order(&engine, &system, order).await.unwrap();
    assert_eq!(
        record.status,
        ExecutionStatus::Succeeded,
        "{:?}",
        record.error
    );
}
