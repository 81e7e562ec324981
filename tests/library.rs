//! The library API: a builder with the command line's knobs, and `run`, which turns a stream of
//! requests into a stream of records — one per request, in input order with `keep_order`.

use futures_util::StreamExt;
use volley::{ErrorKind, Request, Volley};

#[tokio::test]
async fn run_yields_one_record_per_request() {
    let srv = testbed::Server::start();
    let requests = vec![
        Request::from_line(srv.url("/delay/200").as_bytes()),
        Request::from_line(b"ftp://nope/"),
        Request::from_line(srv.url("/title/plain").as_bytes()),
        Request::from_line(srv.url("/status/404").as_bytes()),
    ];
    let volley = Volley::builder()
        .concurrency(4)
        .keep_order(true)
        .build()
        .unwrap();
    let records: Vec<_> = volley
        .run(futures_util::stream::iter(requests))
        .collect()
        .await;
    let indexes: Vec<u64> = records.iter().map(|r| r.index).collect();
    assert_eq!(indexes, [0, 1, 2, 3]);
    assert_eq!(records[0].status, Some(200));
    assert_eq!(
        records[1].error.as_ref().map(|e| e.kind),
        Some(ErrorKind::InvalidInput)
    );
    assert_eq!(records[2].title.as_deref(), Some("Hello testbed"));
    assert_eq!((records[3].status, records[3].ok), (Some(404), false));
    assert_eq!(srv.request_count(), 3);
}

// Two workers: the test blocks one of them waiting for the server to see requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupting_gives_every_request_a_record() {
    let srv = testbed::Server::start();
    let requests: Vec<Request> = (0..10)
        .map(|_| Request::from_line(srv.url("/hang").as_bytes()))
        .collect();
    let volley = Volley::builder()
        .concurrency(2)
        .interrupt_grace(std::time::Duration::from_millis(100))
        .build()
        .unwrap();
    let mut run = volley.run(futures_util::stream::iter(requests));
    assert!(srv.wait_for_requests(2, std::time::Duration::from_secs(10)));
    run.interrupter().interrupt();
    let mut kinds = Vec::new();
    while let Some(r) = run.next().await {
        kinds.push(r.error.map(|e| e.kind));
    }
    assert_eq!(kinds, vec![Some(ErrorKind::Interrupted); 10]);
}

#[test]
fn bad_settings_are_reported_by_build() {
    let err = Volley::builder().concurrency(0).build().err().unwrap();
    assert_eq!(err, "concurrency must be at least 1");
}

/// The builder's resilience knobs work through the library too, and the run's report names the
/// hosts it slowed down once the stream has ended.
#[tokio::test]
async fn retries_and_the_report_of_slowed_hosts() {
    let srv = testbed::Server::start();
    let url = srv.url("/flaky?key=lib&fails=2&status=429");
    let volley = Volley::builder()
        .retries(2)
        .retry_backoff(
            std::time::Duration::from_millis(10),
            std::time::Duration::from_millis(20),
        )
        .build()
        .unwrap();
    let mut run = volley.run(futures_util::stream::iter(vec![Request::from_line(
        url.as_bytes(),
    )]));
    let mut records = Vec::new();
    while let Some(r) = run.next().await {
        records.push(r);
    }
    assert_eq!(records.len(), 1);
    assert_eq!((records[0].status, records[0].attempts), (Some(200), 3));
    let report = run.report();
    assert_eq!(report.slowed.len(), 1);
    assert_eq!(
        &*report.slowed[0].host,
        srv.url("/")
            .trim_start_matches("http://")
            .trim_end_matches('/')
    );
    assert_eq!(report.slowed[0].reductions, 2);
    assert_eq!(report.slowed_untracked, 0);
}

#[tokio::test]
async fn the_builder_saves_bodies_with_a_template_and_a_digest() {
    let srv = testbed::Server::start();
    let dir = tempfile::tempdir().unwrap();
    let naming = volley::output::save::name::Naming::Template(
        volley::output::save::name::Template::parse("{index}.bin").unwrap(),
    );
    let volley = Volley::builder()
        .save(dir.path())
        .save_naming(naming)
        .hash(true)
        .build()
        .unwrap();
    let requests = vec![Request::from_line(
        srv.url("/file/x?size=3000&seed=4").as_bytes(),
    )];
    let records: Vec<_> = volley
        .run(futures_util::stream::iter(requests))
        .collect()
        .await;
    let path = dir.path().join("0.bin");
    assert_eq!(records[0].saved_to.as_deref(), path.to_str());
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes, testbed::files::file_bytes(4, 0, 3000));
    use sha2::Digest as _;
    let want: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(records[0].sha256.as_deref(), Some(want.as_str()));

    let Err(err) = Volley::builder().save("/dev/null/x").build() else {
        panic!("a save directory under /dev/null must be refused");
    };
    assert!(
        err.starts_with("--save: cannot save files in /dev/null/x: "),
        "{err}"
    );
}
