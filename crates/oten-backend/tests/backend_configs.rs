//! Every backend configuration the repository ships (dev/backend/*.json) parses, and the app configuration each
//! serves at /config.json is one the app accepts, in the backend's mode.

use oten_auth_core::{AuthMode, ConfigFile};
use oten_backend::{BackendConfig, Mode};
use std::path::Path;

#[test]
fn every_shipped_backend_configuration_parses_and_serves_an_app_configuration() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dev/backend");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let backend = BackendConfig::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let served = backend.served_app_config().to_string();
        let app = ConfigFile::from_json(&served).unwrap_or_else(|e| panic!("{}: app config: {e}", path.display()));
        let expected = match backend.mode {
            Mode::Bff => AuthMode::Bff,
            Mode::TokenMediating => AuthMode::TokenMediating,
        };
        assert_eq!(app.auth.mode, expected, "{}", path.display());
        assert!(app.app.contains_key("api_base_url"), "{}", path.display());
        seen.push(backend.mode);
    }
    assert!(seen.contains(&Mode::Bff) && seen.contains(&Mode::TokenMediating), "{seen:?}");
}
