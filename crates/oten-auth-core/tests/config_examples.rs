//! Every configuration the repository ships parses, with the settings it spells out.

use oten_auth_core::ConfigFile;
use std::path::Path;

#[test]
fn every_shipped_configuration_parses() {
    let public = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../public");
    let mut files: Vec<_> = std::fs::read_dir(public.join("config.examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.push(public.join("config.json"));
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let file_config = ConfigFile::from_json(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let config = &file_config.auth;
        assert!(file_config.app.contains_key("api_base_url"), "{}: the app's API base URL", file.display());
        assert!(config.scopes.iter().any(|s| s == "offline_access"), "{}", file.display());
        assert_eq!(config.max_session_age_secs, 30 * 24 * 3600, "{}", file.display());
        assert!(config.join_sibling_tabs, "{}", file.display());
    }
}
