//! The profile form's unsaved draft: kept in this tab's sessionStorage from the first keystroke until it is saved or
//! discarded, so that nothing typed is lost when the session ends and the person signs in again.

use serde::{Deserialize, Serialize};

/// Where the draft is kept (sessionStorage: this tab only, like the session).
pub const DRAFT_KEY: &str = "oten.app.profile-draft";

/// The most characters a name may have (the API's rule too).
pub const NAME_MAX_CHARS: usize = 100;
/// The most characters a bio may have (the API's rule too).
pub const BIO_MAX_CHARS: usize = 1000;

/// What the person typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileDraft {
    /// Whose draft it is (the ID token's `sub`): another person signing in to this tab never sees it.
    #[serde(default)]
    pub sub: String,
    /// Display name.
    pub name: String,
    /// A few words about the person.
    pub bio: String,
}

/// A field of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The name.
    Name,
    /// The bio.
    Bio,
}

impl Field {
    /// The field for the API's name of it (`"name"`, `"bio"`).
    pub fn from_api(name: &str) -> Option<Field> {
        match name {
            "name" => Some(Field::Name),
            "bio" => Some(Field::Bio),
            _ => None,
        }
    }
}

impl ProfileDraft {
    /// What is wrong with the draft before it is sent, per field (empty: it can be sent).
    pub fn problems(&self) -> Vec<(Field, String)> {
        let mut problems = Vec::new();
        let name = self.name.trim().chars().count();
        if name == 0 {
            problems.push((Field::Name, "Enter a name.".to_owned()));
        } else if name > NAME_MAX_CHARS {
            problems.push((Field::Name, format!("A name can have at most {NAME_MAX_CHARS} characters ({name} now).")));
        }
        let bio = self.bio.chars().count();
        if bio > BIO_MAX_CHARS {
            problems.push((Field::Bio, format!("A bio can have at most {BIO_MAX_CHARS} characters ({bio} now).")));
        }
        problems
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// The draft `sub` kept, if any. One that cannot be read (another version, edited by hand) or that is someone
/// else's is removed.
pub fn load(sub: &str) -> Option<ProfileDraft> {
    let storage = storage()?;
    let text = storage.get_item(DRAFT_KEY).ok().flatten()?;
    match serde_json::from_str::<ProfileDraft>(&text) {
        Ok(draft) if draft.sub == sub => Some(draft),
        _ => {
            let _ = storage.remove_item(DRAFT_KEY);
            None
        }
    }
}

/// Keeps `draft` (a full storage keeps the previous one: the form still has what was typed).
pub fn save(draft: &ProfileDraft) {
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(draft)) {
        let _ = storage.set_item(DRAFT_KEY, &text);
    }
}

/// Forgets the draft (saved or discarded).
pub fn clear() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(DRAFT_KEY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn draft(name: &str, bio: &str) -> ProfileDraft {
        ProfileDraft { sub: "u1".into(), name: name.into(), bio: bio.into() }
    }

    #[wasm_bindgen_test]
    fn problems_follow_the_apis_limits_in_characters() {
        assert!(draft("Alice", "").problems().is_empty());
        assert_eq!(draft("   ", "").problems()[0].0, Field::Name);
        assert!(draft(&"é".repeat(100), &"ü".repeat(1000)).problems().is_empty(), "characters, not bytes");
        assert_eq!(draft(&"a".repeat(101), "").problems()[0].0, Field::Name);
        assert_eq!(draft("Alice", &"b".repeat(1001)).problems()[0].0, Field::Bio);
        assert_eq!(draft("", &"b".repeat(1001)).problems().len(), 2);
    }

    #[wasm_bindgen_test]
    fn a_draft_survives_until_cleared_and_a_corrupt_or_foreign_one_is_removed() {
        clear();
        assert_eq!(load("u1"), None);
        save(&draft("Alice", "Hi"));
        assert_eq!(load("u1"), Some(draft("Alice", "Hi")));
        clear();
        assert_eq!(load("u1"), None);
        let storage = web_sys::window().unwrap().session_storage().unwrap().unwrap();
        storage.set_item(DRAFT_KEY, "{not json").unwrap();
        assert_eq!(load("u1"), None);
        assert_eq!(storage.get_item(DRAFT_KEY).unwrap(), None, "removed");
        save(&draft("Alice", "Hi"));
        assert_eq!(load("someone-else"), None, "another person never sees it");
        assert_eq!(storage.get_item(DRAFT_KEY).unwrap(), None, "and it is gone");
    }
}
