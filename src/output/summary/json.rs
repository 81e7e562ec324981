//! The summary for programs: the whole of it as one JSON value, written by `--stats-json FILE`.
//! The shape is a contract, documented in the [parent module](super) and in the README, and
//! guarded by the exact-value tests below.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::hosts::HostTable;
use super::Summary;
use crate::record::ErrorKind;

impl Summary {
    /// The whole summary as JSON (the `--stats-json` document; its shape is in the
    /// [module docs](crate::output::summary)). `elapsed` is the run's wall time.
    pub fn to_json(&self, elapsed: Duration) -> Value {
        let secs = elapsed.as_secs_f64();
        let rate = (secs > 0.0).then(|| round(self.sent as f64 / secs, 3));
        json!({
            "totals": {
                "records": self.total,
                "ok": self.total - self.failed,
                "failed": self.failed,
                "sent": self.sent,
                "bytes": self.bytes,
                "elapsed_ms": round(secs * 1000.0, 3),
                "rate": rate,
            },
            "statuses": self.statuses_json(),
            "errors": self.errors_json(),
            "latency_ms": self.latency_json(),
            "hosts": self.hosts_json(),
            "slowed": self.slowed_json(),
        })
    }

    fn statuses_json(&self) -> Value {
        let codes: Map<String, Value> = self
            .statuses
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            .map(|(code, &n)| (code.to_string(), n.into()))
            .collect();
        Value::Object(codes)
    }

    fn errors_json(&self) -> Value {
        let kinds: Map<String, Value> = ErrorKind::ALL
            .iter()
            .map(|&k| (k, self.errors[k as usize]))
            .filter(|&(_, n)| n > 0)
            .map(|(k, n)| (k.to_string(), n.into()))
            .collect();
        Value::Object(kinds)
    }

    fn latency_json(&self) -> Value {
        let h = &self.latency;
        let n = h.count();
        let at = |v: f64| (n > 0).then(|| round(v, 3));
        let q = |q: f64| at(if n > 0 { h.quantile(q) } else { 0.0 });
        json!({
            "count": n,
            "min": at(h.min()),
            "p50": q(0.5),
            "p90": q(0.9),
            "p99": q(0.99),
            "p999": q(0.999),
            "max": at(h.max()),
        })
    }

    fn hosts_json(&self) -> Value {
        let tracked: Vec<Value> = self
            .hosts
            .rows()
            .iter()
            .map(|r| {
                json!({
                    "host": r.host,
                    "records": r.records,
                    "requests": r.requests,
                    "failures": r.failures,
                    "failure_rate": round(r.failure_rate(), 4),
                    "retries": r.retries,
                    "p50_ms": r.p50_ms.map(|ms| round(ms, 3)),
                    "exact": r.exact,
                })
            })
            .collect();
        json!({
            "exact": self.hosts.is_exact(),
            "cap": HostTable::CAP,
            "max_untracked_failures": self.hosts.floor(),
            "tracked": tracked,
        })
    }

    fn slowed_json(&self) -> Value {
        let hosts: Vec<Value> = self
            .slowed
            .iter()
            .map(|d| {
                json!({
                    "host": &*d.host,
                    "reductions": d.reductions,
                    "lowest": round(d.lowest, 4),
                    "last": round(d.last, 4),
                    "lowest_concurrency": d.lowest_concurrency,
                    "lowest_rate": d.lowest_rate.map(|r| round(r, 3)),
                })
            })
            .collect();
        json!({ "hosts": hosts, "untracked": self.slowed_untracked })
    }
}

/// `x` rounded to `decimals` places (NaN and infinities become null in JSON anyway).
fn round(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn the_whole_summary() {
        let mut s = sample();
        let mut d = slowdown("127.0.0.3:8080", 3, 0.125, 8, Some(2.5));
        d.last = 0.45000000000000007;
        s.set_slowdowns(vec![d], 2);
        assert_eq!(
            s.to_json(Duration::from_secs(2)),
            json!({
                "totals": {"records": 7, "ok": 3, "failed": 4, "sent": 6, "bytes": 3100,
                           "elapsed_ms": 2000.0, "rate": 3.0},
                "statuses": {"200": 3, "404": 1, "503": 1},
                "errors": {"invalid_input": 1, "connect": 1},
                "latency_ms": {"count": 5, "min": 10.0, "p50": 29.768, "p90": 98.848,
                               "p99": 98.848, "p999": 98.848, "max": 100.0},
                "hosts": {"exact": true, "cap": 7168, "max_untracked_failures": 0, "tracked": [
                    {"host": "b.test", "records": 3, "requests": 3, "failures": 2,
                     "failure_rate": 0.6667, "retries": 0, "p50_ms": 41.19, "exact": true},
                    {"host": "c.test:81", "records": 1, "requests": 1, "failures": 1,
                     "failure_rate": 1.0, "retries": 2, "p50_ms": null, "exact": true},
                    {"host": "a.test", "records": 2, "requests": 2, "failures": 0,
                     "failure_rate": 0.0, "retries": 0, "p50_ms": 10.0, "exact": true},
                ]},
                "slowed": {"hosts": [{"host": "127.0.0.3:8080", "reductions": 3, "lowest": 0.125,
                                      "last": 0.45, "lowest_concurrency": 8, "lowest_rate": 2.5}],
                           "untracked": 2},
            })
        );
    }

    #[test]
    fn an_empty_run() {
        let s = Summary::new();
        assert_eq!(
            serde_json::to_string(&s.to_json(Duration::ZERO)).unwrap(),
            r#"{"errors":{},"hosts":{"cap":7168,"exact":true,"max_untracked_failures":0,"tracked":[]},"latency_ms":{"count":0,"max":null,"min":null,"p50":null,"p90":null,"p99":null,"p999":null},"slowed":{"hosts":[],"untracked":0},"statuses":{},"totals":{"bytes":0,"elapsed_ms":0.0,"failed":0,"ok":0,"rate":null,"records":0,"sent":0}}"#
        );
    }

    #[test]
    fn inexact_hosts_are_flagged() {
        let mut s = Summary::new();
        for i in 0..=HostTable::CAP {
            s.add(&failed(
                Some(&format!("http://h{i}.test/")),
                ErrorKind::Dns,
                1,
            ));
        }
        let v = s.to_json(Duration::from_secs(1));
        let hosts = &v["hosts"];
        assert_eq!(hosts["exact"], false);
        assert_eq!(hosts["max_untracked_failures"], 1);
        let tracked = hosts["tracked"].as_array().unwrap();
        assert_eq!(tracked.len(), HostTable::CAP / 2 + 1);
        // The newcomer counts its own failure; the one it may have had before is the bound's.
        let last = format!("h{}.test", HostTable::CAP);
        let newcomer = tracked.iter().find(|h| h["host"] == *last).unwrap();
        assert_eq!(
            (&newcomer["failures"], &newcomer["exact"]),
            (&json!(1), &json!(false))
        );
        assert!(tracked.iter().filter(|h| h["exact"] == true).count() == HostTable::CAP / 2);
    }
}
