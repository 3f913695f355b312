//! `oten-backend --config backend.json` runs the backend; `oten-backend --generate-key <kid>` prints a new key-ring
//! entry. Everything else is in the library.

use std::path::PathBuf;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt().with_target(false).init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["--generate-key", kid] => {
            println!("{}", oten_backend::KeyRing::generate_entry(kid));
            std::process::ExitCode::SUCCESS
        }
        ["--config", path] => run(PathBuf::from(path)).await,
        [] => match std::env::var_os("OTEN_BACKEND_CONFIG") {
            Some(path) => run(PathBuf::from(path)).await,
            None => usage(),
        },
        _ => usage(),
    }
}

fn usage() -> std::process::ExitCode {
    eprintln!("usage: oten-backend --config backend.json | oten-backend --generate-key <kid>");
    std::process::ExitCode::from(2)
}

async fn run(path: PathBuf) -> std::process::ExitCode {
    let started = async {
        let settings = oten_backend::BackendConfig::load(&path)?;
        let (app, router) = oten_backend::start(settings).await?;
        let listener = tokio::net::TcpListener::bind(app.settings.listen).await.map_err(|e| e.to_string())?;
        tracing::info!(mode = ?app.settings.mode, listen = %app.settings.listen, db = app.db.kind(), "backend up");
        axum::serve(listener, router).with_graceful_shutdown(shutdown()).await.map_err(|e| e.to_string())?;
        Ok::<_, Box<dyn std::error::Error>>(())
    };
    match started.await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
}
