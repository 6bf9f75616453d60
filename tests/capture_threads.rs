//! Issue 15 (6): `Capture::set_default` under a multi-thread tokio runtime missed the metrics
//! of spawned tasks (`left: 1.0, right: 2.0`). A runtime given `Capture::on_thread_start`
//! captures every worker's tasks; `Capture::set_global_default` covers a runtime the test
//! cannot configure (`#[tokio::test(flavor = "multi_thread")]`) and threads it spawns.

use instrument::testing::Capture;

#[instrument::track_performance]
async fn handle(order: u32) -> Result<u32, std::io::Error> {
    tokio::task::yield_now().await;
    Ok(order)
}

async fn spawn_orders(n: u32) {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            tokio::spawn(async move {
                tracing::info!(counter.orders = 1, "order");
                handle(i).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
}

#[test]
fn a_runtime_started_with_the_capture_hook_captures_every_worker() {
    let capture = Capture::new();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .on_thread_start(capture.on_thread_start())
        .enable_all()
        .build()
        .unwrap();
    // `block_on` polls on this thread, the spawned tasks on the workers.
    let _default = capture.set_default();
    runtime.block_on(spawn_orders(64));
    assert_eq!(capture.metric_sum("orders"), 64.0);
    assert_eq!(capture.metric_sum("handle.success"), 64.0);
    assert_eq!(
        capture
            .logs()
            .iter()
            .filter(|l| l["message"] == "order")
            .count(),
        64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_global_capture_sees_tasks_and_threads_of_a_runtime_it_did_not_configure() {
    let capture = Capture::new();
    capture
        .set_global_default()
        .expect("the only global subscriber");
    spawn_orders(32).await;
    std::thread::spawn(|| tracing::info!(counter.orders = 1, "from a plain thread"))
        .join()
        .unwrap();
    assert_eq!(capture.metric_sum("orders"), 33.0);
    assert_eq!(capture.metric_sum("handle.success"), 32.0);
    assert!(
        Capture::new().set_global_default().is_err(),
        "set once per process"
    );
}
