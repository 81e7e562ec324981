//! `volley journal status FILE` and `volley journal export FILE`: what a journal holds, without
//! fetching anything. Both only read the journal, so they work while a run is writing it.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use volley::output::format::{Format, Printer};
use volley::output::journal::{Snapshot, INPUTS, LAYOUT};
use volley::record::Record;

use super::settings::Usage;

/// Read a journal written by `volley --journal FILE`.
#[derive(Debug, Parser)]
#[command(name = "volley journal", version, max_term_width = 100)]
pub struct JournalArgs {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do with the journal.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the run's progress: inputs done, ok, failed and remaining.
    Status {
        /// The journal file.
        file: PathBuf,
    },
    /// Print every recorded record, in input order.
    Export {
        /// The journal file.
        file: PathBuf,
        /// JSON Lines (the default).
        #[arg(short = 'j', long = "jsonl", conflicts_with_all = ["csv", "text"])]
        jsonl: bool,
        /// CSV with a header row.
        #[arg(long = "csv", conflicts_with = "text")]
        csv: bool,
        /// One line of text per record.
        #[arg(long = "text")]
        text: bool,
        /// Comma-separated fields to print, as for volley --fields.
        #[arg(long = "fields", value_name = "LIST", value_delimiter = ',')]
        fields: Option<Vec<String>>,
        /// A line per record from a template, as for volley -w.
        #[arg(short = 'w', long = "write-out", value_name = "TEMPLATE")]
        write_out: Option<String>,
        /// Write to FILE instead of stdout.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// Runs a `volley journal` command; `Err` is a usage error (exit 2).
pub fn run(args: JournalArgs) -> Result<(), Usage> {
    match args.command {
        Command::Status { file } => status(&file),
        Command::Export {
            file,
            jsonl: _,
            csv,
            text,
            fields,
            write_out,
            output,
        } => {
            let format = if csv {
                Format::Csv
            } else if text {
                Format::Text
            } else {
                Format::Jsonl
            };
            export(&file, format, fields, write_out, output)
        }
    }
}

fn open(file: &std::path::Path) -> Result<Snapshot, Usage> {
    Snapshot::open(file).map_err(|e| Usage(format!("journal: {e}")))
}

fn status(file: &std::path::Path) -> Result<(), Usage> {
    let journal = open(file)?;
    let err = |e| Usage(format!("journal: {e}"));
    let counts = journal.counts().map_err(err)?;
    let inputs = journal
        .meta(INPUTS)
        .map_err(err)?
        .and_then(|v| v.parse::<u64>().ok());
    let mut out = format!(
        "done:      {}\nok:        {}\nfailed:    {}\n",
        counts.done,
        counts.done - counts.failed,
        counts.failed
    );
    match inputs {
        Some(n) => out.push_str(&format!(
            "remaining: {}\ninputs:    {n}\n",
            n.saturating_sub(counts.done)
        )),
        None => out.push_str("remaining: unknown (no run has read the input to its end yet)\n"),
    }
    print!("{out}");
    Ok(())
}

fn export(
    file: &std::path::Path,
    format: Format,
    fields: Option<Vec<String>>,
    write_out: Option<String>,
    output: Option<PathBuf>,
) -> Result<(), Usage> {
    let journal = open(file)?;
    let err = |e| Usage(format!("journal: {e}"));
    let layout = journal.meta(LAYOUT).map_err(err)?.unwrap_or_default();
    let has = |name: &str| layout.split(',').any(|l| l == name);
    let printer = match &write_out {
        Some(t) => Printer::write_out(t, has("headers"))
            .map_err(|e| Usage(format!("-w/--write-out: {e}")))?,
        None => Printer::new(format, fields, false)
            .map_err(|e| Usage(format!("--fields: {e}")))?
            .with_headers(has("headers")),
    }
    .with_carried(has("row"), has("ids"))
    .with_hash(has("hash"))
    .with_dedupe(has("dedupe"));
    let mut out: Box<dyn Write> = match &output {
        Some(p) => Box::new(
            File::create(p)
                .map_err(|e| Usage(format!("-o/--output: cannot create {}: {e}", p.display())))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let mut buf = Vec::with_capacity(64 * 1024);
    printer.header(&mut buf);
    let records = journal.records().map_err(err)?;
    let written = (|| -> Result<(), String> {
        for row in records {
            let (_, json) = row.map_err(|e| format!("journal: {e}"))?;
            let rec: Record = serde_json::from_str(&json)
                .map_err(|e| format!("journal: a record cannot be read back: {e}"))?;
            printer.write(&rec, &mut buf);
            if buf.len() >= 64 * 1024 {
                out.write_all(&buf).map_err(|e| e.to_string())?;
                buf.clear();
            }
        }
        out.write_all(&buf).map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())
    })();
    match written {
        Ok(()) => Ok(()),
        // `volley journal export … | head` is fine.
        Err(e) if e.contains("Broken pipe") => Ok(()),
        Err(e) => {
            eprintln!("volley: journal export: {e}");
            std::process::exit(1);
        }
    }
}
