//! From raw flags to a validated plan: the engine's builder, the input sources and the output
//! settings. Every mistake is found here, before anything is fetched, and reported as one line
//! that names the flag.

use std::fs::File;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use base64::Engine as _;
use http::header::{HeaderValue, AUTHORIZATION, USER_AGENT};
use http::Method;
use volley::extract::{Extractor, Extractors};
use volley::fetch::HttpVersion;
use volley::input::{Dedupe, Filter};
use volley::input::{LineSource, Shape};
use volley::output::format::{Format, Printer};
use volley::output::journal::{resume_output, Journal, Resume, LAYOUT};
use volley::output::save::name::{Naming, Template};
use volley::output::select::Selection;
use volley::status::StatusSet;
use volley::Builder;

use super::args::{Args, ColorChoice, InputFormat};
use super::{body, input, values};

/// Everything main needs to run.
pub struct Plan {
    pub builder: Builder,
    pub sources: Vec<LineSource>,
    /// Number of inputs when it is known up front (arguments), or a file to count.
    pub total: Total,
    pub printer: Printer,
    pub output: Option<(PathBuf, File)>,
    /// With `--journal`: where the output file (already in step with the journal) goes on.
    pub output_at: Option<u64>,
    /// `--journal`, open and locked (and with `--retry-failed`, its failures forgotten).
    pub journal: Option<Journal>,
    /// What every input passes before it is fetched: `--dedupe`, the journal's resume.
    pub filters: Vec<Box<dyn Filter>>,
    /// Inputs the journal had finished, skipped by this run.
    pub skipped: Arc<AtomicU64>,
    /// Which records are printed.
    pub selection: Selection,
    /// How inputs become requests (`--input-format`, `--template`).
    pub shape: Shape,
    /// `--stats-json`: where the summary goes as JSON.
    pub stats_json: Option<(PathBuf, File)>,
    pub quiet: bool,
    pub progress: bool,
    pub color_stderr: bool,
    /// Event-loop threads.
    pub threads: usize,
}

/// What is known of the number of inputs before the run.
pub enum Total {
    Known(u64),
    CountFile(PathBuf),
    Unknown,
}

/// A usage error: the message names the flag.
pub struct Usage(pub String);

fn flag<T>(name: &str, r: Result<T, String>) -> Result<T, Usage> {
    r.map_err(|e| Usage(format!("{name}: {e}")))
}

impl Plan {
    pub fn from_args(args: Args) -> Result<Plan, Usage> {
        let mut b = volley::Volley::builder();
        if args.concurrency == 0 {
            return Err(Usage("-c/--concurrency: must be at least 1".into()));
        }
        b = b.concurrency(args.concurrency);
        if let Some(n) = args.per_host {
            if n == 0 {
                return Err(Usage("--per-host: must be at least 1".into()));
            }
            b = b.per_host(n);
        }
        let timeout = flag("--timeout", values::duration(&args.timeout))?;
        let connect = flag("--connect-timeout", values::duration(&args.connect_timeout))?;
        if timeout.is_zero() {
            return Err(Usage("--timeout: must be greater than zero".into()));
        }
        if connect.is_zero() {
            return Err(Usage("--connect-timeout: must be greater than zero".into()));
        }
        b = b.timeout(timeout).connect_timeout(connect);
        if args.threads == 0 || args.threads > 1024 {
            return Err(Usage("--threads: must be between 1 and 1024".into()));
        }
        b = b.max_body(flag("--max-body", values::size(&args.max_body))?);
        b = politeness(b, &args)?;
        b = saving(b, &args)?;
        b = b
            .follow_redirects(!args.no_follow)
            .max_redirects(args.max_redirects);

        let method = if args.head {
            Method::HEAD
        } else if let Some(m) = &args.method {
            flag(
                "-X/--method",
                Method::from_bytes(m.as_bytes())
                    .map_err(|_| format!("`{m}` is not a valid method")),
            )?
        } else if args.data.is_empty() && args.json.is_none() {
            Method::GET
        } else {
            Method::POST
        };
        b = b.method(method);
        if let Some(ua) = &args.user_agent {
            let v = flag("-A/--user-agent", header_value(ua))?;
            b = b.header(USER_AGENT, v);
        }
        if let Some(user) = &args.user {
            if !user.contains(':') {
                return Err(Usage("-u/--user: expected USER:PASS".into()));
            }
            let token = base64::engine::general_purpose::STANDARD.encode(user);
            let mut v = flag("-u/--user", header_value(&format!("Basic {token}")))?;
            v.set_sensitive(true);
            b = b.header(AUTHORIZATION, v);
        }
        if let Some(token) = &args.bearer {
            let mut v = flag("--bearer", header_value(&format!("Bearer {token}")))?;
            v.set_sensitive(true);
            b = b.header(AUTHORIZATION, v);
        }
        // Before -H, so that -H can replace the Content-Type, Accept and Cookie set here.
        b = body::apply(b, &args)?;
        // A CSV run's -H values with placeholders wait for the header row (see `input::shape`).
        let mut held = Vec::new();
        for h in &args.headers {
            let (n, v) = flag("-H/--header", values::header(h))?;
            if input::holds_header(&args, &v) {
                held.push((n, v));
                continue;
            }
            b = b.header(n, v);
        }
        for r in &args.resolve {
            let (host, port, addr) = flag("--resolve", values::resolve(r))?;
            b = b.resolve(&host, port, addr);
        }
        if args.http1 {
            b = b.http_version(HttpVersion::Http1);
        } else if args.http2 {
            b = b.http_version(HttpVersion::Http2);
        }
        if let Some(p) = &args.proxy {
            flag("--proxy", volley::fetch::proxy::check_url(p))?;
        }
        b = b.proxy(args.proxy.clone(), args.no_proxy.clone());
        b = b.insecure(args.insecure);
        if let Some(path) = &args.cacert {
            let pem = std::fs::read(path)
                .map_err(|e| Usage(format!("--cacert: cannot read {}: {e}", path.display())))?;
            b = b.add_cacert_pem(pem);
        }
        b = b.keep_order(args.keep_order);
        let extractors = args
            .extract
            .iter()
            .map(|spec| spec.parse::<Extractor>())
            .collect::<Result<Vec<_>, _>>()
            .and_then(|list| Extractors::new(list, args.extract_all));
        b = b.extractors(flag("-e/--extract", extractors)?);
        let status_list = |flag: &str, v: &Option<String>| match v {
            Some(v) => self::flag(flag, StatusSet::parse(v)).map(Some),
            None => Ok(None),
        };
        if let Some(ok) = status_list("--ok-status", &args.ok_status)? {
            b = b.ok_status(ok);
        }
        let selection = Selection {
            matching: status_list("--match-status", &args.match_status)?,
            filtered: status_list("--filter-status", &args.filter_status)?,
        };

        let (mut sources, mut total) = sources(&args)?;
        let (shape, builder) = input::shape(&args, &mut sources, &mut total, b, held)?;
        b = builder;

        let format = if args.jsonl {
            Format::Jsonl
        } else if args.csv {
            Format::Csv
        } else {
            Format::Text
        };
        let stdout_tty = args.output.is_none() && std::io::stdout().is_terminal();
        let stderr_tty = std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let (color_out, color_err) = match args.color {
            ColorChoice::Always => (true, true),
            ColorChoice::Never => (false, false),
            ColorChoice::Auto => (stdout_tty && !no_color, stderr_tty && !no_color),
        };
        let printer = match &args.write_out {
            Some(template) => Printer::write_out(template, args.include_headers)
                .map_err(|e| Usage(format!("-w/--write-out: {e}")))?,
            None => Printer::new(format, args.fields.clone(), color_out)
                .map_err(|e| Usage(format!("--fields: {e}")))?
                .with_headers(args.include_headers),
        }
        .with_carried(
            args.input_format == InputFormat::Csv,
            args.input_format == InputFormat::Jsonl,
        )
        .with_hash(args.hash.is_some());
        // Headers are copied from each response only when the output shows them.
        b = b.keep_headers(printer.needs_headers());
        let printer = printer.with_dedupe(args.dedupe);
        let skipped = Arc::new(AtomicU64::new(0));
        let mut filters: Vec<Box<dyn Filter>> = Vec::new();
        if args.dedupe {
            filters.push(Box::new(Dedupe::new().map_err(Usage)?));
        }
        let journal = match &args.journal {
            Some(path) => Some(open_journal(path, args.retry_failed)?),
            None => None,
        };
        let (output, output_at) = match (&journal, &args.output) {
            (Some(j), Some(path)) => {
                let (file, at) = resume_output(j, path, &printer, &selection).map_err(Usage)?;
                (Some((path.clone(), file)), Some(at))
            }
            _ => (create("-o/--output", args.output.as_deref())?, None),
        };
        if let Some(j) = &journal {
            let layout: Vec<&str> = [
                (args.input_format == InputFormat::Csv, "row"),
                (args.input_format == InputFormat::Jsonl, "ids"),
                (args.include_headers, "headers"),
                (args.hash.is_some(), "hash"),
                (args.dedupe, "dedupe"),
            ]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
            j.set_meta(LAYOUT, &layout.join(","))
                .map_err(|e| Usage(format!("--journal: {e}")))?;
            let cursor = j
                .done_cursor()
                .map_err(|e| Usage(format!("--journal: {e}")))?;
            filters.push(Box::new(Resume::new(cursor, skipped.clone())));
        }
        let stats_json = create("--stats-json", args.stats_json.as_deref())?;
        Ok(Plan {
            builder: b,
            selection,
            shape,
            stats_json,
            sources,
            total,
            printer,
            output,
            output_at,
            journal,
            filters,
            skipped,
            quiet: args.quiet,
            progress: !args.quiet && !args.no_progress && stderr_tty,
            color_stderr: color_err,
            threads: args.threads,
        })
    }
}

/// `--save` and its options, and `--hash`. The directory itself is opened (and created) when
/// the run is built.
fn saving(mut b: Builder, args: &Args) -> Result<Builder, Usage> {
    b = b.hash(args.hash.is_some());
    let Some(dir) = &args.save else {
        return Ok(b);
    };
    b = b
        .save(dir)
        .content_disposition(args.content_disposition)
        .overwrite(args.overwrite)
        .raw(args.raw);
    if let Some(t) = &args.save_name {
        b = b.save_naming(Naming::Template(flag("--save-name", Template::parse(t))?));
    }
    if let Some(size) = &args.max_filesize {
        b = b.max_filesize(flag("--max-filesize", values::size(size))?);
    }
    Ok(b)
}

/// Rates, retries, adaptation, the breaker and the deadline.
fn politeness(mut b: Builder, args: &Args) -> Result<Builder, Usage> {
    let optional_rate = |name, v: &Option<String>| match v {
        Some(v) => flag(name, values::rate(v)).map(Some),
        None => Ok(None),
    };
    b = b
        .rate(optional_rate("--rate", &args.rate)?)
        .host_rate(optional_rate("--host-rate", &args.host_rate)?)
        .adapt(!args.no_adapt);
    let base = flag("--retry-base", values::duration(&args.retry_base))?;
    let max = flag("--retry-max", values::duration(&args.retry_max))?;
    if base > max {
        return Err(Usage(format!(
            "--retry-base: {} is longer than --retry-max ({})",
            args.retry_base, args.retry_max
        )));
    }
    let max_retry_after = flag("--max-retry-after", values::duration(&args.max_retry_after))?;
    let cooldown = flag(
        "--breaker-cooldown",
        values::duration(&args.breaker_cooldown),
    )?;
    if cooldown.is_zero() {
        return Err(Usage(
            "--breaker-cooldown: must be greater than zero".into(),
        ));
    }
    let deadline = match &args.deadline {
        Some(d) => {
            let d = flag("--deadline", values::duration(d))?;
            if d.is_zero() {
                return Err(Usage("--deadline: must be greater than zero".into()));
            }
            Some(d)
        }
        None => None,
    };
    Ok(b.retries(args.retries)
        .retry_backoff(base, max)
        .max_retry_after(max_retry_after)
        .retry_all_methods(args.retry_all_methods)
        .breaker(args.breaker, cooldown)
        .deadline(deadline))
}

/// Opens (or creates) the journal; with `--retry-failed`, forgets its failures.
fn open_journal(path: &Path, retry_failed: bool) -> Result<Journal, Usage> {
    let journal = Journal::open(path).map_err(|e| Usage(format!("--journal: {e}")))?;
    if retry_failed {
        journal
            .forget_failed()
            .map_err(|e| Usage(format!("--retry-failed: {e}")))?;
    }
    Ok(journal)
}

/// Creates the file `path` given to `flag`, if one was given.
fn create(flag: &str, path: Option<&Path>) -> Result<Option<(PathBuf, File)>, Usage> {
    let Some(p) = path else { return Ok(None) };
    let f = File::create(p)
        .map_err(|e| Usage(format!("{flag}: cannot create {}: {e}", p.display())))?;
    Ok(Some((p.to_path_buf(), f)))
}

fn header_value(s: &str) -> Result<HeaderValue, String> {
    if s.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err("contains CR, LF or NUL".into());
    }
    HeaderValue::from_str(s).map_err(|_| "not a valid header value".into())
}

fn sources(args: &Args) -> Result<(Vec<LineSource>, Total), Usage> {
    let mut sources = Vec::new();
    let mut total = Total::Known(args.inputs.len() as u64);
    if !args.inputs.is_empty() {
        sources.push(LineSource::Args(args.inputs.clone()));
    }
    match &args.input {
        Some(p) if p.as_os_str() == "-" => {
            sources.push(LineSource::Reader(Box::new(std::io::stdin())));
            total = Total::Unknown;
        }
        Some(p) => {
            let f = File::open(p)
                .map_err(|e| Usage(format!("-i/--input: cannot open {}: {e}", p.display())))?;
            if f.metadata().is_ok_and(|m| m.is_dir()) {
                return Err(Usage(format!("-i/--input: {} is a directory", p.display())));
            }
            sources.push(LineSource::Reader(Box::new(f)));
            total = if args.inputs.is_empty() {
                Total::CountFile(p.clone())
            } else {
                Total::Unknown
            };
        }
        None if args.inputs.is_empty() => {
            if std::io::stdin().is_terminal() {
                return Err(Usage(
                    "no input: give URLs as arguments, -i FILE, or pipe them on stdin".into(),
                ));
            }
            sources.push(LineSource::Reader(Box::new(std::io::stdin())));
            total = Total::Unknown;
        }
        None => {}
    }
    Ok((sources, total))
}
