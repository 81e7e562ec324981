//! The scheduler's limits, timers, breaker and fairness, under tokio's paused clock.

use super::*;

fn key(s: &str) -> HostKey {
    Arc::from(s)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn fb(started: Instant, signal: Signal<'_>) -> Feedback<'_> {
    Feedback {
        started,
        signal,
        pause_until: None,
    }
}

/// Starts everything startable at `now`.
fn start_all<J>(s: &mut Scheduler<J>, now: Instant) -> Vec<(HostKey, J)> {
    std::iter::from_fn(|| s.start_next(now)).collect()
}

#[tokio::test(start_paused = true)]
async fn global_limit_holds() {
    let now = Instant::now();
    let mut s = Scheduler::new(Limits::new(2, 10));
    for i in 0..5 {
        s.push(key("a"), i, now).unwrap();
    }
    assert_eq!(s.start_next(now).map(|j| j.1), Some(0));
    assert_eq!(s.start_next(now).map(|j| j.1), Some(1));
    assert!(s.start_next(now).is_none());
    s.finish(&key("a"), fb(now, Signal::Good), now);
    assert_eq!(s.start_next(now).map(|j| j.1), Some(2));
    assert_eq!((s.running(), s.waiting()), (2, 2));
}

#[tokio::test(start_paused = true)]
async fn a_host_at_its_limit_does_not_block_others() {
    let now = Instant::now();
    let mut s = Scheduler::new(Limits::new(10, 1));
    for j in ["s1", "s2", "s3"] {
        s.push(key("slow"), j, now).unwrap();
    }
    for j in ["f1", "f2"] {
        s.push(key("fast"), j, now).unwrap();
    }
    assert_eq!(s.start_next(now).unwrap().1, "s1");
    assert_eq!(s.start_next(now).unwrap().1, "f1");
    assert!(
        s.start_next(now).is_none(),
        "both hosts are at their limit of 1"
    );
    s.finish(&key("fast"), fb(now, Signal::Good), now);
    assert_eq!(s.start_next(now).unwrap().1, "f2");
    assert!(s.start_next(now).is_none());
    s.finish(&key("slow"), fb(now, Signal::Good), now);
    assert_eq!(s.start_next(now).unwrap().1, "s2");
}

#[tokio::test(start_paused = true)]
async fn continuing_jobs_go_first() {
    let now = Instant::now();
    let mut s = Scheduler::new(Limits::new(1, 1));
    s.push(key("a"), "new1", now).unwrap();
    s.push(key("a"), "new2", now).unwrap();
    s.push_front(key("a"), "hop", now).unwrap();
    assert_eq!(s.start_next(now).unwrap().1, "hop");
    s.finish(&key("a"), fb(now, Signal::Good), now);
    assert_eq!(s.start_next(now).unwrap().1, "new1");
}

#[tokio::test(start_paused = true)]
async fn hosts_take_turns() {
    let now = Instant::now();
    let mut s = Scheduler::new(Limits::new(1, 5));
    for j in ["a1", "a2", "a3"] {
        s.push(key("a"), j, now).unwrap();
    }
    for j in ["b1", "b2"] {
        s.push(key("b"), j, now).unwrap();
    }
    let mut order = Vec::new();
    while let Some((h, j)) = s.start_next(now) {
        order.push(j);
        s.finish(&h, fb(now, Signal::Good), now);
    }
    assert_eq!(order, ["a1", "b1", "a2", "b2", "a3"]);
    assert_eq!(
        s.hosts(),
        0,
        "idle hosts with nothing to remember are forgotten"
    );
}

#[tokio::test(start_paused = true)]
async fn a_hanging_host_does_not_collect_the_slots_others_free() {
    let now = Instant::now();
    let mut s = Scheduler::new(Limits::new(8, 8));
    for i in 0..100 {
        s.push(key("hang"), i, now).unwrap();
        s.push(key("fast"), i, now).unwrap();
        s.push(key("quick"), i, now).unwrap();
    }
    let mut hanging = 0;
    for (h, _) in start_all(&mut s, now) {
        hanging += usize::from(&*h == "hang");
    }
    assert_eq!(hanging, 3, "8 slots shared by 3 hosts");
    // The fast hosts finish and start again, over and over; the hanging host never ends.
    for _ in 0..50 {
        s.finish(&key("fast"), fb(now, Signal::Good), now);
        s.finish(&key("quick"), fb(now, Signal::Good), now);
        for (h, _) in start_all(&mut s, now) {
            hanging += usize::from(&*h == "hang");
        }
    }
    assert_eq!(hanging, 3, "slots freed by others went to others");
    assert_eq!(s.running(), 8);
}

#[tokio::test(start_paused = true)]
async fn host_rate_spaces_starts_while_other_hosts_go_on() {
    let t0 = Instant::now();
    let mut limits = Limits::new(10, 10);
    limits.host_rate = Rate::per_second(10.0);
    let mut s = Scheduler::new(limits);
    for i in 0..3 {
        s.push(key("a"), ("a", i), t0).unwrap();
        s.push(key("b"), ("b", i), t0).unwrap();
    }
    let first = start_all(&mut s, t0);
    assert_eq!(first.len(), 2, "one start per host at once");
    assert_eq!(s.next_wake(), Some(t0 + ms(100)));
    assert!(start_all(&mut s, t0 + ms(99)).is_empty());
    let second = start_all(&mut s, t0 + ms(100));
    assert_eq!(
        second.iter().map(|j| j.1).collect::<Vec<_>>(),
        [("a", 1), ("b", 1)]
    );
    // Finishing does not reset the pace.
    for (h, _) in first.iter().chain(&second) {
        s.finish(h, fb(t0, Signal::Good), t0 + ms(150));
    }
    assert!(start_all(&mut s, t0 + ms(150)).is_empty());
    assert_eq!(start_all(&mut s, t0 + ms(200)).len(), 2);
}

#[tokio::test(start_paused = true)]
async fn global_rate_counts_every_host() {
    let t0 = Instant::now();
    let mut limits = Limits::new(100, 100);
    limits.rate = Rate::per_second(4.0);
    let mut s = Scheduler::new(limits);
    for i in 0..8 {
        s.push(key(["a", "b", "c", "d"][i % 4]), i, t0).unwrap();
    }
    let mut starts = Vec::new();
    let mut now = t0;
    while s.waiting() > 0 {
        for (_, j) in start_all(&mut s, now) {
            starts.push((now, j));
        }
        if s.waiting() > 0 {
            now = s.next_wake().expect("waiting jobs need a wake-up");
        }
    }
    let times: Vec<u64> = starts
        .iter()
        .map(|(t, _)| t.duration_since(t0).as_millis() as u64)
        .collect();
    assert_eq!(times, [0, 250, 500, 750, 1000, 1250, 1500, 1750]);
    assert_eq!(
        starts.iter().map(|s| s.1).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5, 6, 7],
        "hosts take turns"
    );
}

#[tokio::test(start_paused = true)]
async fn a_retry_holds_no_slot_and_goes_first_when_due() {
    let t0 = Instant::now();
    let mut s = Scheduler::new(Limits::new(1, 1));
    s.push(key("a"), "first", t0).unwrap();
    s.push(key("a"), "second", t0).unwrap();
    s.push(key("a"), "third", t0).unwrap();
    let (h, job) = s.start_next(t0).unwrap();
    assert_eq!(job, "first");
    s.finish(&h, fb(t0, Signal::Answered), t0);
    s.retry_at(h, job, t0 + ms(500), t0).unwrap();
    assert_eq!(s.waiting(), 3);
    // The retry waits; the next job runs meanwhile.
    let (h, job) = s.start_next(t0).unwrap();
    assert_eq!(job, "second");
    assert_eq!(s.next_wake(), Some(t0 + ms(500)));
    s.finish(&h, fb(t0, Signal::Good), t0 + ms(600));
    assert_eq!(s.start_next(t0 + ms(600)).unwrap().1, "first");
}

#[tokio::test(start_paused = true)]
async fn retry_after_pauses_the_whole_host_only() {
    let t0 = Instant::now();
    let mut s = Scheduler::new(Limits::new(10, 10));
    s.push(key("a"), "a1", t0).unwrap();
    let (h, _) = s.start_next(t0).unwrap();
    for j in ["a2", "a3"] {
        s.push(key("a"), j, t0).unwrap();
    }
    let pause = Feedback {
        started: t0,
        signal: Signal::Overloaded,
        pause_until: Some(t0 + Duration::from_secs(2)),
    };
    s.finish(&h, pause, t0 + ms(10));
    s.push(key("b"), "b1", t0).unwrap();
    let now = t0 + ms(10);
    assert_eq!(
        start_all(&mut s, now)
            .iter()
            .map(|j| j.1)
            .collect::<Vec<_>>(),
        ["b1"]
    );
    assert_eq!(s.next_wake(), Some(t0 + Duration::from_secs(2)));
    assert!(start_all(&mut s, t0 + ms(1999)).is_empty());
    let later = start_all(&mut s, t0 + Duration::from_secs(2));
    assert_eq!(later.iter().map(|j| j.1).collect::<Vec<_>>(), ["a2", "a3"]);
}

#[tokio::test(start_paused = true)]
async fn overload_halves_a_hosts_concurrency_and_good_answers_restore_it() {
    let t0 = Instant::now();
    let mut limits = Limits::new(100, 8);
    limits.adapt = true;
    let mut s = Scheduler::new(limits);
    for i in 0..100 {
        s.push(key("a"), i, t0).unwrap();
    }
    let running = start_all(&mut s, t0);
    assert_eq!(running.len(), 8);
    let now = t0 + ms(10);
    // Eight 429s from one round halve the share once.
    for (h, _) in &running {
        s.finish(h, fb(t0, Signal::Overloaded), now);
    }
    let mut started = 0;
    let mut t = now;
    for _ in 0..1000 {
        started += start_all(&mut s, t).len();
        t += ms(1);
    }
    assert_eq!(started, 4);
    let (list, untracked) = s.slowdowns();
    assert_eq!(untracked, 0);
    assert_eq!(list.len(), 1);
    assert_eq!(
        (
            list[0].reductions,
            list[0].lowest,
            list[0].lowest_concurrency
        ),
        (1, 0.5, 4)
    );
    assert_eq!(
        list[0].lowest_rate, None,
        "no pace measured yet: concurrency only"
    );
    let _ = s.next_wake();
    // Disabled: no change.
    let mut s = Scheduler::new(Limits::new(100, 8));
    for i in 0..20 {
        s.push(key("a"), i, t0).unwrap();
    }
    let running = start_all(&mut s, t0);
    for (h, _) in &running {
        s.finish(h, fb(t0, Signal::Overloaded), now);
    }
    assert_eq!(start_all(&mut s, now).len(), 8);
    assert!(s.slowdowns().0.is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_open_circuit_sheds_its_host_and_spares_the_others() {
    let t0 = Instant::now();
    let mut limits = Limits::new(10, 2);
    limits.breaker = 2;
    limits.breaker_cooldown = Duration::from_secs(10);
    let mut s = Scheduler::new(limits);
    for i in 0..6 {
        s.push(key("dead"), i, t0).unwrap();
    }
    s.push(key("ok"), 100, t0).unwrap();
    let started = start_all(&mut s, t0);
    assert_eq!(started.len(), 3);
    let dead = key("dead");
    let refused = Signal::Unreachable("Connection refused");
    assert!(s.finish(&dead, fb(t0, refused), t0).is_none());
    // A retry waiting for its back-off is shed too.
    s.retry_at(dead.clone(), 0, t0 + ms(300), t0).unwrap();
    let shed = s
        .finish(&dead, fb(t0, refused), t0)
        .expect("second failure opens");
    let mut jobs = shed.jobs;
    jobs.sort();
    assert_eq!(jobs, [0, 2, 3, 4, 5]);
    assert!(shed
        .reason
        .starts_with("circuit open: 2 consecutive failures on dead"));
    assert_eq!(s.waiting(), 0);
    let (j, why) = s.push(dead.clone(), 7, t0 + ms(1)).unwrap_err();
    assert_eq!((j, why), (7, shed.reason.clone()));
    assert!(s.retry_at(dead.clone(), 8, t0 + ms(5), t0 + ms(1)).is_err());
    // The other host is unaffected.
    s.finish(&key("ok"), fb(t0, Signal::Good), t0);
    s.push(key("ok"), 101, t0).unwrap();
    assert_eq!(s.start_next(t0).unwrap().1, 101);
    // After the cool-down: one probe at a time; a success closes the circuit.
    let t1 = t0 + Duration::from_secs(10);
    for i in 20..23 {
        s.push(dead.clone(), i, t1).unwrap();
    }
    assert_eq!(
        start_all(&mut s, t1)
            .iter()
            .map(|j| j.1)
            .collect::<Vec<_>>(),
        [20]
    );
    assert!(s.finish(&dead, fb(t1, Signal::Good), t1).is_none());
    assert_eq!(start_all(&mut s, t1).len(), 2);
}

#[tokio::test(start_paused = true)]
async fn idle_hosts_are_remembered_for_a_while_then_forgotten() {
    let t0 = Instant::now();
    let mut limits = Limits::new(10, 10);
    limits.host_rate = Rate::per_second(1.0);
    let mut s = Scheduler::new(limits);
    s.push(key("a"), 1, t0).unwrap();
    let (h, _) = s.start_next(t0).unwrap();
    s.finish(&h, fb(t0, Signal::Good), t0 + ms(10));
    assert_eq!(s.hosts(), 1, "the pace is remembered");
    // A new job for the idle host still respects the pace.
    s.push(key("a"), 2, t0 + ms(20)).unwrap();
    assert!(s.start_next(t0 + ms(20)).is_none());
    let (h, _) = s.start_next(t0 + Duration::from_secs(1)).unwrap();
    let t1 = t0 + Duration::from_secs(1);
    s.finish(&h, fb(t1, Signal::Good), t1);
    let _ = s.start_next(t1 + Scheduler::<u32>::IDLE_KEEP);
    assert_eq!(s.hosts(), 0);
}

#[tokio::test(start_paused = true)]
async fn limits_hold_under_random_operations() {
    // A small deterministic generator keeps this test reproducible without a dependency.
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut rnd = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let hosts = ["a", "b", "c", "d", "e"];
    let mut limits = Limits::new(7, 3);
    limits.host_rate = Rate::per_second(50.0);
    limits.adapt = true;
    limits.breaker = 4;
    let mut s = Scheduler::new(limits);
    let t0 = Instant::now();
    let mut now = t0;
    let mut running: Vec<(HostKey, Instant)> = Vec::new();
    let mut last_start: HashMap<HostKey, Instant> = HashMap::new();
    let (mut pushed, mut finished, mut shed_n, mut refused) = (0u64, 0u64, 0u64, 0u64);
    for _ in 0..20_000 {
        now += Duration::from_micros(rnd(3000));
        match rnd(4) {
            0 => {
                let h = key(hosts[rnd(5) as usize]);
                match s.push(h, pushed, now) {
                    Ok(()) => {}
                    Err(_) => refused += 1,
                }
                pushed += 1;
            }
            1 => {
                if let Some((h, _)) = s.start_next(now) {
                    if let Some(prev) = last_start.insert(h.clone(), now) {
                        let gap = now.duration_since(prev);
                        assert!(gap + Pacer::SLACK >= ms(20), "gap {gap:?} on {h}");
                    }
                    running.push((h, now));
                }
            }
            2 => {
                if !running.is_empty() {
                    let (h, started) = running.swap_remove(rnd(running.len() as u64) as usize);
                    let signal = match rnd(4) {
                        0 => Signal::Overloaded,
                        1 => Signal::Unreachable("x"),
                        _ => Signal::Good,
                    };
                    if let Some(shed) = s.finish(&h, fb(started, signal), now) {
                        shed_n += shed.jobs.len() as u64;
                    }
                    finished += 1;
                    if rnd(3) == 0 {
                        let at = now + Duration::from_millis(rnd(50));
                        if s.retry_at(h, pushed, at, now).is_ok() {
                            pushed += 1;
                        }
                    }
                }
            }
            _ => {
                if let Some(w) = s.next_wake() {
                    assert!(w > now - Duration::from_secs(1));
                }
            }
        }
        assert!(running.len() <= 7);
        for h in hosts {
            assert!(running.iter().filter(|r| &*r.0 == h).count() <= 3);
        }
        assert_eq!(s.running(), running.len());
    }
    assert_eq!(
        pushed,
        finished + refused + shed_n + s.running() as u64 + s.waiting() as u64
    );
}

#[tokio::test(start_paused = true)]
async fn drain_returns_waiting_and_delayed_and_keeps_running_counted() {
    let now = Instant::now();
    let mut s = Scheduler::new(Limits::new(1, 1));
    s.push(key("a"), 1, now).unwrap();
    s.push(key("a"), 2, now).unwrap();
    s.push(key("b"), 3, now).unwrap();
    s.retry_at(key("c"), 4, now + ms(100), now).unwrap();
    let (h, _) = s.start_next(now).unwrap();
    let mut drained = s.drain_waiting();
    drained.sort();
    assert_eq!(drained, [2, 3, 4]);
    assert_eq!((s.running(), s.waiting()), (1, 0));
    s.finish(&h, fb(now, Signal::Good), now);
    assert_eq!(s.hosts(), 0);
    assert!(s.start_next(now).is_none());
}
