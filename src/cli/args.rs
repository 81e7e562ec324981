//! The raw command line, as clap sees it: names, help and defaults of every flag. Nothing here
//! is validated beyond its type; [`super::settings`] turns it into a run.

use std::path::PathBuf;

use clap::{ArgAction, Parser, ValueEnum};

/// Fetch many HTTP(S) URLs concurrently and report, extract or save what comes back.
///
/// Every input yields exactly one record: a line of text, JSON Lines (-j) or CSV (--csv).
#[derive(Debug, Parser)]
#[command(name = "volley", version, about, long_about = None, max_term_width = 100)]
#[command(after_help = "Exit status: 0 every record ok, 1 some record not ok, \
2 bad usage (nothing fetched), 130 interrupted.")]
pub struct Args {
    /// URLs to fetch (or read them with -i, or pipe them on stdin).
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,

    /// Read inputs from FILE, one per line (`-` for stdin).
    #[arg(
        short = 'i',
        long = "input",
        value_name = "FILE",
        help_heading = "Input"
    )]
    pub input: Option<PathBuf>,

    /// Make each input a value in this URL, in place of `{}` (percent-encoded), e.g.
    /// https://api.example.com/chart/{}.
    #[arg(long = "template", value_name = "URL", help_heading = "Input")]
    pub template: Option<String>,

    /// How inputs are read: `lines` (a URL, or a --template value, per line); `csv` (a header
    /// row naming columns for `{column}` in --template, -H values and the -d/--json body, else a
    /// `url` column); `jsonl` (one object per line: url, method, headers, body or json, id, tag).
    #[arg(
        long = "input-format",
        value_name = "FORMAT",
        default_value = "lines",
        help_heading = "Input"
    )]
    pub input_format: InputFormat,

    /// HTTP method.
    #[arg(
        short = 'X',
        long = "method",
        value_name = "METHOD",
        help_heading = "Request"
    )]
    pub method: Option<String>,

    /// Extra request header, `Name: value` (repeatable).
    #[arg(short = 'H', long = "header", value_name = "HEADER", action = ArgAction::Append, help_heading = "Request")]
    pub headers: Vec<String>,

    /// User-Agent header [default: volley/VERSION].
    #[arg(
        short = 'A',
        long = "user-agent",
        value_name = "UA",
        help_heading = "Request"
    )]
    pub user_agent: Option<String>,

    /// Basic credentials, USER:PASS (never sent to another origin after a redirect).
    #[arg(
        short = 'u',
        long = "user",
        value_name = "USER:PASS",
        help_heading = "Request"
    )]
    pub user: Option<String>,

    /// Bearer token (never sent to another origin after a redirect).
    #[arg(
        long = "bearer",
        value_name = "TOKEN",
        conflicts_with = "user",
        help_heading = "Request"
    )]
    pub bearer: Option<String>,

    /// Request body, form-encoded; `@FILE` reads FILE without its newlines (`@-`: stdin).
    /// Repeats join with `&`. POST unless -X.
    #[arg(
        short = 'd',
        long = "data",
        value_name = "DATA",
        action = ArgAction::Append,
        conflicts_with = "head",
        help_heading = "Request"
    )]
    pub data: Vec<String>,

    /// JSON request body (`@FILE` sent as is); sets Content-Type and Accept. POST unless -X.
    #[arg(
        long = "json",
        value_name = "DATA",
        conflicts_with_all = ["data", "head"],
        help_heading = "Request"
    )]
    pub json: Option<String>,

    /// Cookies to send, `name=value; n2=v2` (repeatable; never sent to another origin).
    #[arg(
        short = 'b',
        long = "cookie",
        value_name = "COOKIES",
        action = ArgAction::Append,
        help_heading = "Request"
    )]
    pub cookies: Vec<String>,

    /// Send HEAD instead of GET.
    #[arg(
        short = 'I',
        long = "head",
        conflicts_with = "method",
        help_heading = "Request"
    )]
    pub head: bool,

    /// Do not follow redirects.
    #[arg(long = "no-follow", help_heading = "Request")]
    pub no_follow: bool,

    /// Most redirects followed per input.
    #[arg(
        long = "max-redirects",
        value_name = "N",
        allow_negative_numbers = true,
        default_value_t = 10,
        help_heading = "Request"
    )]
    pub max_redirects: u32,

    /// Use HTTP/1.1 only.
    #[arg(long = "http1.1", conflicts_with = "http2", help_heading = "Request")]
    pub http1: bool,

    /// Use HTTP/2 only (prior knowledge on http://, ALPN h2 on https://).
    #[arg(long = "http2", help_heading = "Request")]
    pub http2: bool,

    /// Do not verify TLS certificates.
    #[arg(short = 'k', long = "insecure", help_heading = "Request")]
    pub insecure: bool,

    /// Trust the CA certificates in this PEM file instead of the system's.
    #[arg(long = "cacert", value_name = "FILE", help_heading = "Request")]
    pub cacert: Option<PathBuf>,

    /// Connect to ADDR for HOST:PORT (repeatable), as in curl.
    #[arg(long = "resolve", value_name = "HOST:PORT:ADDR", action = ArgAction::Append, help_heading = "Request")]
    pub resolve: Vec<String>,

    /// Send requests through this proxy: http://, https:// (TLS to the proxy, verified like
    /// targets: --cacert, -k), socks5:// or socks5h:// (the proxy resolves names), optionally
    /// with USER:PASS@ [default: HTTPS_PROXY, HTTP_PROXY, ALL_PROXY]; `''` for none.
    #[arg(long = "proxy", value_name = "URL", help_heading = "Request")]
    pub proxy: Option<String>,

    /// Hosts reached without the proxy, comma-separated (`*`: all) [default: NO_PROXY].
    #[arg(long = "no-proxy", value_name = "LIST", help_heading = "Request")]
    pub no_proxy: Option<String>,

    /// Requests in flight, all hosts together.
    #[arg(
        short = 'c',
        long = "concurrency",
        value_name = "N",
        allow_negative_numbers = true,
        default_value_t = 64,
        help_heading = "Limits"
    )]
    pub concurrency: usize,

    /// Requests in flight to one host [default: same as -c].
    #[arg(
        long = "per-host",
        value_name = "N",
        allow_negative_numbers = true,
        help_heading = "Limits"
    )]
    pub per_host: Option<usize>,

    /// Time allowed to open a connection (e.g. 10s, 500ms).
    #[arg(
        long = "connect-timeout",
        value_name = "D",
        default_value = "10s",
        help_heading = "Limits"
    )]
    pub connect_timeout: String,

    /// Time allowed for each request, body included.
    #[arg(
        long = "timeout",
        value_name = "D",
        default_value = "30s",
        help_heading = "Limits"
    )]
    pub timeout: String,

    /// Largest body read, after decoding (e.g. 8MiB, 512k).
    #[arg(
        long = "max-body",
        value_name = "SIZE",
        default_value = "8MiB",
        help_heading = "Limits"
    )]
    pub max_body: String,

    /// Request starts per second, all hosts together (e.g. 50/s, 600/m).
    #[arg(long = "rate", value_name = "N/s", help_heading = "Politeness")]
    pub rate: Option<String>,

    /// Request starts per second to each host (e.g. 2/s, 30/m).
    #[arg(long = "host-rate", value_name = "N/s", help_heading = "Politeness")]
    pub host_rate: Option<String>,

    /// Do not slow a host down when it answers 429 or 503.
    #[arg(long = "no-adapt", help_heading = "Politeness")]
    pub no_adapt: bool,

    /// Open a host's circuit after N consecutive connection failures or timeouts (0: never).
    #[arg(
        long = "breaker",
        value_name = "N",
        allow_negative_numbers = true,
        default_value_t = 5,
        help_heading = "Politeness"
    )]
    pub breaker: u32,

    /// How long an open circuit waits before probing its host again.
    #[arg(
        long = "breaker-cooldown",
        value_name = "D",
        default_value = "10s",
        help_heading = "Politeness"
    )]
    pub breaker_cooldown: String,

    /// Extra attempts after a retryable failure (connection, timeout, 408, 429, 5xx).
    #[arg(
        long = "retries",
        value_name = "N",
        allow_negative_numbers = true,
        default_value_t = 2,
        help_heading = "Retries"
    )]
    pub retries: u32,

    /// Backoff bound before the first retry; doubles per retry (full jitter).
    #[arg(
        long = "retry-base",
        value_name = "D",
        default_value = "250ms",
        help_heading = "Retries"
    )]
    pub retry_base: String,

    /// Largest backoff bound.
    #[arg(
        long = "retry-max",
        value_name = "D",
        default_value = "30s",
        help_heading = "Retries"
    )]
    pub retry_max: String,

    /// Longest Retry-After honoured; a longer one ends the input with its status.
    #[arg(
        long = "max-retry-after",
        value_name = "D",
        default_value = "60s",
        help_heading = "Retries"
    )]
    pub max_retry_after: String,

    /// Retry non-idempotent methods (POST, PATCH) too.
    #[arg(long = "retry-all-methods", help_heading = "Retries")]
    pub retry_all_methods: bool,

    /// Stop the whole run after D: every input left gets a `deadline` record.
    #[arg(long = "deadline", value_name = "D", help_heading = "Limits")]
    pub deadline: Option<String>,

    /// Record every finished input in FILE (an SQLite journal, created if missing); rerunning
    /// the same command skips what it holds, and with -o FILE the file ends with exactly one
    /// record per input even after a crash. See `volley journal --help`.
    #[arg(long = "journal", value_name = "FILE", help_heading = "State")]
    pub journal: Option<PathBuf>,

    /// With --journal: fetch again the inputs whose recorded records were not ok.
    #[arg(long = "retry-failed", requires = "journal", help_heading = "State")]
    pub retry_failed: bool,

    /// Fetch each URL once: a later input naming the same URL is not fetched, and its record's
    /// `duplicate_of` holds the index of the first.
    #[arg(long = "dedupe", help_heading = "Input")]
    pub dedupe: bool,

    /// Event-loop threads (more helps TLS-heavy runs on machines with many cores).
    #[arg(
        long = "threads",
        value_name = "N",
        allow_negative_numbers = true,
        default_value_t = 1,
        help_heading = "Limits"
    )]
    pub threads: usize,

    /// Write records to FILE instead of stdout.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        help_heading = "Output"
    )]
    pub output: Option<PathBuf>,

    /// JSON Lines records.
    #[arg(
        short = 'j',
        long = "jsonl",
        conflicts_with = "csv",
        help_heading = "Output"
    )]
    pub jsonl: bool,

    /// CSV records with a header row.
    #[arg(long = "csv", help_heading = "Output")]
    pub csv: bool,

    /// Columns for text and CSV (and keys for JSONL), e.g. status,url,title.
    #[arg(
        long = "fields",
        value_name = "a,b,c",
        value_delimiter = ',',
        help_heading = "Output"
    )]
    pub fields: Option<Vec<String>>,

    /// One line per record from TEMPLATE: %{FIELD} (any --fields name), %{header.NAME},
    /// %{headers}, %{extract.NAME}, %{json}; \n, \t, \\ and %% escapes.
    #[arg(
        short = 'w',
        long = "write-out",
        value_name = "TEMPLATE",
        conflicts_with_all = ["jsonl", "csv", "fields"],
        help_heading = "Output"
    )]
    pub write_out: Option<String>,

    /// Add the response headers to each record as `headers` (JSONL, CSV, %{json}).
    #[arg(long = "include-headers", help_heading = "Output")]
    pub include_headers: bool,

    /// Records in input order instead of completion order.
    #[arg(long = "keep-order", help_heading = "Output")]
    pub keep_order: bool,

    /// Extract a value into `extract.NAME`: NAME=css:SELECTOR[@attr], NAME=json:JSONPATH,
    /// NAME=re:REGEX or NAME=header:NAME (repeatable).
    #[arg(short = 'e', long = "extract", value_name = "NAME=KIND:EXPR", action = ArgAction::Append, help_heading = "Output")]
    pub extract: Vec<String>,

    /// Every extractor yields an array of all its matches instead of the first.
    #[arg(long = "extract-all", help_heading = "Output")]
    pub extract_all: bool,

    /// Print only records with these final statuses, e.g. 200,3xx,500-503 (all still count).
    #[arg(long = "match-status", value_name = "LIST", help_heading = "Output")]
    pub match_status: Option<String>,

    /// Do not print records with these final statuses, e.g. 404,5xx (all still count).
    #[arg(long = "filter-status", value_name = "LIST", help_heading = "Output")]
    pub filter_status: Option<String>,

    /// Final statuses that count as ok (for `ok` and the exit status) [default: 1xx-3xx].
    #[arg(long = "ok-status", value_name = "LIST", help_heading = "Output")]
    pub ok_status: Option<String>,

    /// Write the summary (totals, histograms, per-host table) as JSON to FILE.
    #[arg(long = "stats-json", value_name = "FILE", help_heading = "Output")]
    pub stats_json: Option<PathBuf>,

    /// Stream every successful (2xx) body to a file under DIR (created if missing); the record's
    /// `saved_to` holds its path. Files are named after the URL: DIR/host[_port]/path.
    #[arg(long = "save", value_name = "DIR", help_heading = "Saving")]
    pub save: Option<PathBuf>,

    /// Name saved files with TEMPLATE under DIR: {host}, {path}, {name}, {index}, {sha1}.
    #[arg(
        long = "save-name",
        value_name = "TEMPLATE",
        requires = "save",
        help_heading = "Saving"
    )]
    pub save_name: Option<String>,

    /// Use the file name of the server's Content-Disposition header when there is one.
    #[arg(
        long = "content-disposition",
        requires = "save",
        help_heading = "Saving"
    )]
    pub content_disposition: bool,

    /// Replace files that already exist (default: keep them and report `exists`).
    #[arg(long = "overwrite", requires = "save", help_heading = "Saving")]
    pub overwrite: bool,

    /// Largest body saved (after decoding); a larger one ends in `body_too_large`.
    #[arg(
        long = "max-filesize",
        value_name = "SIZE",
        requires = "save",
        help_heading = "Saving"
    )]
    pub max_filesize: Option<String>,

    /// Save bodies as they came over the wire, without decoding gzip, br, zstd or deflate.
    #[arg(long = "raw", requires = "save", help_heading = "Saving")]
    pub raw: bool,

    /// Add the body's digest to the record (`sha256`): of the saved file with --save.
    #[arg(long = "hash", value_name = "ALG", help_heading = "Saving")]
    pub hash: Option<HashAlg>,

    /// No summary and no progress on stderr.
    #[arg(short = 'q', long = "quiet", help_heading = "Output")]
    pub quiet: bool,

    /// No progress bar.
    #[arg(long = "no-progress", help_heading = "Output")]
    pub no_progress: bool,

    /// Colour text records and the summary.
    #[arg(
        long = "color",
        value_name = "WHEN",
        default_value = "auto",
        help_heading = "Output"
    )]
    pub color: ColorChoice,
}

/// `--hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HashAlg {
    /// SHA-256, as hex.
    Sha256,
}

/// `--input-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// One URL (or --template value) per line.
    Lines,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// One JSON request object per line.
    Jsonl,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}
