//! `volley`: parse the command line, build the engine, stream inputs through it, write one
//! record per input, and map the outcome to an exit code.

mod cli;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use clap::Parser as _;
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;
use volley::input::{count_inputs, spawn_reader, ReadError};
use volley::output::journal::{is_finished, Sink, INPUTS};
use volley::output::progress::Progress;
use volley::output::summary::Summary;
use volley::output::writer::RecordWriter;

use cli::args::Args;
use cli::settings::{Plan, Total, Usage};

/// Every record was ok.
const EXIT_OK: u8 = 0;
/// At least one record was not ok.
const EXIT_NOT_OK: u8 = 1;
/// Bad usage or configuration; nothing was fetched.
const EXIT_USAGE: u8 = 2;
/// The run was interrupted.
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    if std::env::args_os().nth(1).is_some_and(|a| a == "journal") {
        let args = std::env::args_os().skip(1);
        return match cli::journal::JournalArgs::try_parse_from(args) {
            Ok(a) => match cli::journal::run(a) {
                Ok(()) => ExitCode::from(EXIT_OK),
                Err(Usage(msg)) => usage_error(&msg),
            },
            Err(e) => clap_error(e),
        };
    }
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => return clap_error(e),
    };
    let plan = match Plan::from_args(args) {
        Ok(p) => p,
        Err(Usage(msg)) => return usage_error(&msg),
    };
    // One event-loop thread is the fastest on small machines, where the kernel's network stack
    // (and often the server) need the other cores; more threads pay off for TLS-heavy runs.
    let mut rt = if plan.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(plan.threads);
        b
    };
    let runtime = match rt.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("volley: cannot start the runtime: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let code = runtime.block_on(run(plan));
    // Input threads blocked on a terminal or pipe must not hold the process open.
    runtime.shutdown_background();
    ExitCode::from(code)
}

/// Help and version go to stdout with success; any other parse error is one line naming the
/// flag, and exit 2.
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    // The message is the first paragraph; some (missing arguments) continue it on indented
    // lines, which name the flags.
    let text = e.render().to_string();
    let paragraph: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let first = paragraph.join(" ");
    let first = first.strip_prefix("error: ").unwrap_or(&first);
    let first = if first.is_empty() {
        "invalid arguments"
    } else {
        first
    };
    usage_error(&format!("{first} (see volley --help)"))
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("volley: {msg}");
    ExitCode::from(EXIT_USAGE)
}

async fn run(plan: Plan) -> u8 {
    let volley = match plan.builder.build() {
        Ok(v) => v,
        Err(msg) => {
            eprintln!("volley: {msg}");
            return EXIT_USAGE;
        }
    };
    let total = Arc::new(AtomicU64::new(0));
    match plan.total {
        Total::Known(n) => total.store(n, Ordering::Relaxed),
        Total::CountFile(path) => {
            let total = total.clone();
            std::thread::spawn(move || {
                if let Ok(n) = std::fs::File::open(path).and_then(count_inputs) {
                    total.store(n, Ordering::Relaxed);
                }
            });
        }
        Total::Unknown => {}
    }
    let refused = CancellationToken::new();
    let (rx, reader) = spawn_reader(
        plan.sources,
        4096,
        plan.shape,
        plan.filters,
        refused.clone(),
    );
    let requests = Box::pin(futures_util::stream::unfold(rx, |mut rx| async {
        rx.recv().await.map(|r| (r, rx))
    }));
    let mut records = volley.run(requests);
    let interrupter = records.interrupter();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            interrupter.interrupt();
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\nvolley: interrupted again; exiting now");
                std::process::exit(i32::from(EXIT_INTERRUPTED));
            }
        }
    });
    let interrupter = records.interrupter();

    let (out, line_buffered): (Box<dyn Write + Send>, bool) = match plan.output {
        Some((_, file)) => (Box::new(file), false),
        None => (Box::new(io::stdout()), io::stdout().is_terminal()),
    };
    let mut writer = match plan.output_at {
        Some(at) => RecordWriter::resume(out, plan.printer, at),
        None => RecordWriter::new(out, plan.printer, line_buffered),
    };
    // With an output file in step with the journal, rows follow their lines into the journal.
    let in_step = plan.output_at.is_some();
    let mut sink = plan.journal.as_ref().map(|j| Sink::new(j.writer()));
    let mut unfinished: u64 = 0;
    // A JSONL line is the record's JSON: the journal takes it as it is.
    let whole_json = writer.is_whole_json();
    let mut summary = Summary::new();
    let mut progress = plan.progress.then(|| Progress::new(total.clone()));
    let mut told_interrupt = false;
    let started = std::time::Instant::now();

    loop {
        if !told_interrupt && interrupter.is_interrupted() {
            told_interrupt = true;
            if let Some(p) = progress.as_mut() {
                p.clear();
            }
            if !plan.quiet {
                eprintln!(
                    "volley: interrupted; finishing requests in flight (Ctrl-C again to quit now)"
                );
            }
        }
        let next = match futures_util::FutureExt::now_or_never(records.next()) {
            Some(n) => n,
            None => {
                // Nothing ready: the moment to write out what has waited long enough and to
                // redraw the progress line; then sleep until a record or the next such moment.
                let now = std::time::Instant::now();
                if writer.deadline().is_some_and(|d| d <= now) {
                    if let Err(e) = writer.flush() {
                        return output_error(e);
                    }
                }
                if let Some(sink) = sink.as_mut() {
                    if let Err(e) = sink.send(&mut writer, in_step, false) {
                        return output_error(e);
                    }
                }
                if let Some(p) = progress.as_mut() {
                    p.tick(summary.done(), summary.failed());
                }
                let redraw = progress.as_ref().map(|_| now + Progress::INTERVAL);
                let journal = sink.as_ref().and_then(Sink::deadline);
                let wake = writer
                    .deadline()
                    .into_iter()
                    .chain(redraw)
                    .chain(journal)
                    .min();
                let far = now + std::time::Duration::from_secs(86_400);
                tokio::select! {
                    n = records.next() => n,
                    () = tokio::time::sleep_until(wake.unwrap_or(far).into()) => continue,
                    // The reader refused the input: stop at once; it tells why below.
                    () = refused.cancelled() => break,
                }
            }
        };
        let Some(rec) = next else { break };
        summary.add(&rec);
        let journaled = sink.is_some();
        if journaled && !is_finished(&rec) {
            // Left for the next run: neither journaled nor written.
            unfinished += 1;
            continue;
        }
        if line_buffered {
            // Records and the progress line share the terminal: take the line away before a
            // record is printed; the next tick draws it again.
            if let Some(p) = progress.as_mut() {
                p.clear();
            }
        }
        let shown = plan.selection.shows(&rec);
        let written = match sink.as_mut() {
            None if shown => writer.write(&rec),
            Some(sink) if shown && whole_json => {
                writer.write_then(&rec, |line| sink.add(&rec, Some(line)))
            }
            Some(sink) if shown => writer.write(&rec).map(|()| sink.add(&rec, None)),
            Some(sink) => {
                sink.add(&rec, None);
                Ok(())
            }
            None => Ok(()),
        };
        if let Err(e) = written {
            return output_error(e);
        }
        if let Some(sink) = sink.as_mut() {
            if let Err(e) = sink.send(&mut writer, in_step, false) {
                return output_error(e);
            }
        }
        if let Some(p) = progress.as_mut() {
            p.tick(summary.done(), summary.failed());
        }
    }
    if let Err(e) = writer.flush() {
        return output_error(e);
    }
    if let Some(p) = progress.as_mut() {
        p.clear();
    }
    if let Some(sink) = sink.as_mut() {
        if let Err(e) = sink.send(&mut writer, in_step, true) {
            return output_error(e);
        }
        if let Err(e) = sink.flush() {
            eprintln!("volley: --journal: {e}");
            return EXIT_NOT_OK;
        }
    }
    let read_error = match reader.join() {
        Ok(Ok(end)) => {
            if let (Some(j), true) = (&plan.journal, end.complete) {
                if let Err(e) = j.set_meta(INPUTS, &end.inputs.to_string()) {
                    eprintln!("volley: --journal: {e}");
                    return EXIT_NOT_OK;
                }
            }
            None
        }
        Ok(Err(ReadError::Refused(msg))) => {
            eprintln!("volley: --journal: {msg}");
            return EXIT_USAGE;
        }
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some("the input reader crashed".to_owned()),
    };
    if let Some(j) = plan.journal {
        if let Err(e) = j.close() {
            eprintln!("volley: --journal: {e}");
            return EXIT_NOT_OK;
        }
        let skipped = plan.skipped.load(Ordering::Relaxed);
        if !plan.quiet && (skipped > 0 || unfinished > 0) {
            eprintln!(
                "volley: journal: {skipped} inputs already done were skipped; {unfinished} \
                 left unfinished for the next run"
            );
        }
    }
    let report = records.report();
    summary.set_slowdowns(report.slowed, report.slowed_untracked);
    let elapsed = started.elapsed();
    if !plan.quiet {
        eprint!("{}", summary.render(elapsed, plan.color_stderr));
    }
    if let Some((path, mut file)) = plan.stats_json {
        let mut text = summary.to_json(elapsed).to_string().into_bytes();
        text.push(b'\n');
        if let Err(e) = file.write_all(&text) {
            eprintln!("volley: cannot write {}: {e}", path.display());
            return EXIT_NOT_OK;
        }
    }
    if let Some(e) = &read_error {
        eprintln!("volley: reading input failed: {e}");
    }
    if interrupter.is_interrupted() {
        EXIT_INTERRUPTED
    } else if summary.failed() > 0 || read_error.is_some() {
        EXIT_NOT_OK
    } else {
        EXIT_OK
    }
}

/// A broken pipe means the reader went away (`volley … | head`): a quiet, successful end.
/// Any other write error (a full disk) is reported.
fn output_error(e: io::Error) -> u8 {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return EXIT_OK;
    }
    eprintln!("volley: cannot write records: {e}");
    EXIT_NOT_OK
}
