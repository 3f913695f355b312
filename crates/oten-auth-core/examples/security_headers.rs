//! Prints the security headers (a strict Content-Security-Policy and its companions) a deployment serves the app's
//! documents with, derived from the `config.json` it serves.
//!
//! ```sh
//! cargo run -q -p oten-auth-core --example security_headers -- dist/config.json            # Name: value lines
//! cargo run -q -p oten-auth-core --example security_headers -- --format nginx dist/config.json
//! cargo run -q -p oten-auth-core --example security_headers -- --format json dist/config.json
//! cargo run -q -p oten-auth-core --example security_headers -- --format trunk public/config.json  # Trunk.toml [serve]
//! ```
//!
//! `--connect URL` (repeatable) also allows an origin the app fetches from without a token.

use oten_auth_core::{ConfigFile, SecurityHeaders};
use std::process::ExitCode;

const USAGE: &str =
    "usage: security_headers [--format lines|nginx|json|trunk] [--connect URL]... CONFIG.json (see the file's docs)";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<String, String> {
    let (mut format, mut connect, mut path) = ("lines".to_owned(), Vec::new(), None);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--format" => format = args.next().ok_or("--format needs a value")?,
            "--connect" => connect.push(args.next().ok_or("--connect needs a URL")?),
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ if path.is_none() => path = Some(arg),
            _ => return Err(format!("unexpected argument {arg}")),
        }
    }
    let path = path.ok_or("the config.json to read is missing")?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let config = ConfigFile::from_json(&text).map_err(|e| format!("{path}: {e}"))?;
    let mut headers = SecurityHeaders::for_config(&config.auth).map_err(|e| format!("{path}: {e}"))?;
    for url in &connect {
        headers = headers.with_connect(url).map_err(|e| e.to_string())?;
    }
    let pairs = headers.headers();
    Ok(match format.as_str() {
        "lines" => pairs.iter().map(|(name, value)| format!("{name}: {value}\n")).collect(),
        "nginx" => pairs.iter().map(|(name, value)| format!("add_header {name} \"{value}\" always;\n")).collect(),
        "json" => {
            let map: serde_json::Map<_, _> = pairs.iter().map(|(n, v)| ((*n).to_owned(), v.as_str().into())).collect();
            format!("{}\n", serde_json::Value::Object(map))
        }
        "trunk" => trunk(&headers, &pairs),
        other => return Err(format!("unknown format {other:?}")),
    })
}

/// The `[serve]` lines of Trunk.toml: the same policy, plus the nonce trunk gives its injected reload script.
fn trunk(headers: &SecurityHeaders, pairs: &[(&str, String)]) -> String {
    let mut out = String::from("csp = [\n");
    for directive in headers.directives() {
        let directive = match directive.strip_prefix("script-src ") {
            Some(sources) => format!("script-src {sources} 'nonce-{{{{NONCE}}}}'"),
            None => directive,
        };
        out.push_str(&format!("  \"{directive}\",\n"));
    }
    out.push_str("]\n\n[serve.headers]\n");
    for (name, value) in pairs.iter().filter(|(name, _)| *name != "Content-Security-Policy") {
        out.push_str(&format!("\"{name}\" = \"{value}\"\n"));
    }
    out
}
