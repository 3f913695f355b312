//! Replays the fuzzers' saved corpora (`fuzz/corpus/<target>/`) through the same target bodies libFuzzer runs
//! (`fuzz/src/targets.rs`), as ordinary stable tests: an input that once crashed a parser, or that the fuzzer found
//! interesting, is checked at every `cargo test`. The long runs that grow the corpora are `scripts/fuzz`'s.

#[allow(dead_code)]
#[path = "../../../fuzz/src/targets.rs"]
mod targets;

use std::path::PathBuf;

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target)
}

#[test]
fn every_saved_input_passes_its_target() {
    let mut total = 0;
    for (name, target) in targets::TARGETS {
        let dir = corpus_dir(name);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut count = 0;
        for entry in entries {
            let path = entry.expect("a corpus entry").path();
            let data = std::fs::read(&path).expect("a corpus file");
            if let Err(panic) = std::panic::catch_unwind(|| target(&data)) {
                let message =
                    panic.downcast_ref::<String>().map(String::as_str).or(panic.downcast_ref::<&str>().copied());
                panic!("{name}: {} fails: {}", path.display(), message.unwrap_or("(panic)"));
            }
            count += 1;
        }
        assert!(count > 0, "{name}: the corpus {} is empty", dir.display());
        total += count;
    }
    println!("replayed {total} inputs over {} targets", targets::TARGETS.len());
}

#[test]
fn the_targets_can_fail() {
    // A target that cannot fail proves nothing: the return-path check refuses what a broken sanitiser could give.
    for (candidate, escaped) in [
        ("//evil.test", "//evil.test"),
        ("/.//evil.test", "/.//evil.test"),
        ("/%2e%2e//x", "/%2e%2e//x"),
        ("/\\evil.test", "/\\evil.test"),
        ("/ok", "/other"),
    ] {
        assert!(std::panic::catch_unwind(|| targets::check_return_path(candidate, escaped)).is_err(), "{escaped}");
    }
    // And the real sanitiser passes its own property on the classic escapes.
    for hostile in ["//evil.test", "https://evil.test", "/\\evil.test", "javascript:alert(1)", "/\t/evil.test", ""] {
        targets::return_path(hostile);
    }
}
