//! Prints the title of every page in a list, fetched concurrently:
//!
//! ```sh
//! cargo run --example titles -- urls.txt
//! ```
use futures_util::StreamExt;
use volley::output::sanitize::escape_text;
use volley::{Request, Volley};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: titles FILE")?;
    let file = std::fs::read_to_string(path)?;
    let requests: Vec<Request> = file
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| Request::from_line(l.as_bytes()))
        .collect();

    let volley = Volley::builder().concurrency(32).per_host(4).build()?;
    let mut records = volley.run(futures_util::stream::iter(requests));
    while let Some(r) = records.next().await {
        let title = r.title.as_deref().unwrap_or("(no title)");
        println!("{}  {}", escape_text(&r.input), escape_text(title));
    }
    Ok(())
}
