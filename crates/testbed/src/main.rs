//! The `testbed` binary: starts a [`testbed::Server`], prints its base URLs, optionally writes a
//! URL list for demos and benchmarks, and serves until killed, Ctrl-C, or the TTL.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
usage: testbed [--port P] [--hosts N] [--tls] [--tls-port P] [--ttl SECS]
               [--write-urls FILE --count N] [--ca-out FILE]

Prints one base URL per listener (http://127.0.0.X:PORT, then https://localhost:PORT with
--tls) and serves until killed, Ctrl-C, or --ttl seconds (default 3600) pass.

  --port P          port of every plain host (default 0: a free port each)
  --hosts N         plain hosts on 127.0.0.1 .. 127.0.0.N (default 1)
  --tls             also serve HTTPS (h2 + http/1.1) on 127.0.0.1
  --tls-port P      port of the HTTPS listener (default 0)
  --ttl SECS        exit after SECS seconds (default 3600)
  --write-urls FILE write --count URLs http://HOST:PORT/page/<i>, round-robin over hosts
  --count N         how many URLs --write-urls writes (default 1000)
  --ca-out FILE     with --tls, copy the CA certificate (PEM) to FILE
";

struct Args {
    port: u16,
    hosts: usize,
    tls: bool,
    tls_port: u16,
    ttl: u64,
    write_urls: Option<String>,
    count: usize,
    ca_out: Option<String>,
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        port: 0,
        hosts: 1,
        tls: false,
        tls_port: 0,
        ttl: 3600,
        write_urls: None,
        count: 1000,
        ca_out: None,
    };
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        fn num<T: std::str::FromStr>(name: &str, v: String) -> Result<T, String> {
            v.parse()
                .map_err(|_| format!("{name}: not a valid number: {v}"))
        }
        match flag.as_str() {
            "--port" => a.port = num("--port", value("--port")?)?,
            "--hosts" => a.hosts = num("--hosts", value("--hosts")?)?,
            "--tls" => a.tls = true,
            "--tls-port" => a.tls_port = num("--tls-port", value("--tls-port")?)?,
            "--ttl" => a.ttl = num("--ttl", value("--ttl")?)?,
            "--write-urls" => a.write_urls = Some(value("--write-urls")?),
            "--count" => a.count = num("--count", value("--count")?)?,
            "--ca-out" => a.ca_out = Some(value("--ca-out")?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    if !(1..=254).contains(&a.hosts) {
        return Err("--hosts must be 1..=254".into());
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("testbed: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("testbed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> std::io::Result<()> {
    let srv = testbed::Server::builder()
        .hosts(args.hosts)
        .tls(args.tls)
        .port(args.port)
        .tls_port(args.tls_port)
        .try_start()?;
    if let Some(file) = &args.write_urls {
        let mut out = std::io::BufWriter::new(std::fs::File::create(file)?);
        for i in 0..args.count {
            writeln!(
                out,
                "{}",
                srv.host_url(i % args.hosts, &format!("/page/{i}"))
            )?;
        }
        out.flush()?;
    }
    if let Some(file) = &args.ca_out {
        if args.tls {
            std::fs::write(file, srv.ca_pem())?;
        }
    }
    let mut stdout = std::io::stdout().lock();
    for i in 0..srv.hosts() {
        writeln!(stdout, "{}", srv.host_url(i, "").trim_end_matches('/'))?;
    }
    if args.tls {
        writeln!(stdout, "{}", srv.https_url("").trim_end_matches('/'))?;
    }
    stdout.flush()?;
    drop(stdout);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = tokio::time::sleep(Duration::from_secs(args.ttl)) => {}
        }
    });
    Ok(())
}
