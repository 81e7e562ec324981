//! `--input-format` and `--template`: how the input sources become requests. For CSV the header
//! row is read here, before anything is fetched, so that a `{column}` the header lacks is a usage
//! error naming the flag rather than a failed record per row.

use std::io::{BufReader, Read};

use http::header::{HeaderName, HeaderValue};
use volley::input::{read_csv_header, CsvRows, LineSource, Shape, Template};
use volley::Builder;

use super::args::{Args, InputFormat};
use super::settings::{Total, Usage};

/// Whether `-H` value `v` is held back for [`shape`] (a CSV run's header with a placeholder).
pub fn holds_header(args: &Args, v: &HeaderValue) -> bool {
    args.input_format == InputFormat::Csv && v.as_bytes().contains(&b'{')
}

/// The input shape for `args`. For CSV it reads the header row from the one reader in
/// `sources` (which then holds the rest of the input), turns the `-H` values `held` back and the
/// inline `-d`/`--json` body into per-row templates when they name a column, and gives any
/// other held header to `b`.
pub fn shape(
    args: &Args,
    sources: &mut Vec<LineSource>,
    total: &mut Total,
    mut b: Builder,
    held: Vec<(HeaderName, HeaderValue)>,
) -> Result<(Shape, Builder), Usage> {
    let template = args.template.as_deref();
    let shape = match args.input_format {
        InputFormat::Lines => match template {
            Some(t) => Shape::Lines(Some(
                Template::new(t).map_err(|e| Usage(format!("--template: {e}")))?,
            )),
            None => Shape::Lines(None),
        },
        InputFormat::Jsonl => {
            if template.is_some() {
                return Err(Usage(
                    "--template: not with --input-format jsonl (each line has its own url)".into(),
                ));
            }
            Shape::Jsonl
        }
        InputFormat::Csv => {
            // The header is read (and the template checked against it) before arguments are
            // refused, so that a bad template is reported as such.
            let Some(LineSource::Reader(r)) = sources.pop() else {
                return Err(Usage(
                    "--input-format: csv is read from -i FILE or stdin, not from arguments".into(),
                ));
            };
            let mut reader = BufReader::with_capacity(64 * 1024, r);
            let columns = read_csv_header(&mut reader)
                .map_err(|e| Usage(format!("--input-format: csv: {e}")))?;
            let flag = if template.is_some() {
                "--template"
            } else {
                "--input-format"
            };
            let mut rows =
                CsvRows::new(columns, template).map_err(|e| Usage(format!("{flag}: {e}")))?;
            for (name, value) in held {
                match value.to_str() {
                    Ok(text) if rows.has_placeholder(text) => rows = rows.header(name, text),
                    _ => b = b.header(name, value),
                }
            }
            if let Some(text) = inline_body(args) {
                if rows.has_placeholder(&text) {
                    rows = rows.body(&text);
                }
            }
            if !args.inputs.is_empty() {
                return Err(Usage(
                    "--input-format: csv is read from -i FILE or stdin, not from arguments".into(),
                ));
            }
            let rest: Box<dyn Read + Send> = Box::new(reader);
            sources.push(LineSource::Reader(rest));
            // A count of lines would take the header and rows' line breaks for rows.
            *total = Total::Unknown;
            Shape::Csv(rows)
        }
    };
    Ok((shape, b))
}

/// The `-d` or `--json` body when it is typed on the command line (not `@FILE`): only such a
/// body may hold `{column}` placeholders.
fn inline_body(args: &Args) -> Option<String> {
    if let Some(json) = &args.json {
        return (!json.starts_with('@')).then(|| json.clone());
    }
    if args.data.is_empty() || args.data.iter().any(|d| d.starts_with('@')) {
        return None;
    }
    Some(args.data.join("&"))
}
