//! `/profile` (protected): the API's profile of the signed-in person, and a form that changes it.
//!
//! What is typed is kept in sessionStorage from the first keystroke (`profile_draft`) until it is saved or
//! discarded: a refresh or a retry never touches the form, and when the session ends mid-edit the person signs in
//! again and finds the draft here.

use super::error_notice::ErrorNotice;
use crate::api::{self, Profile, ProfileUpdate};
use crate::profile_draft::{self, Field, ProfileDraft, BIO_MAX_CHARS};
use leptos::prelude::*;
use oten_auth::use_auth;

/// Where a save stands.
#[derive(Debug, Clone, PartialEq)]
enum SaveState {
    Idle,
    Saving,
    Saved,
    /// What went wrong and what to do next.
    Failed(String),
}

/// Moves keyboard focus to `field`'s input, so that its problem is read out next.
fn focus_field(field: Field) {
    use wasm_bindgen::JsCast;
    let id = match field {
        Field::Name => "profile-name-input",
        Field::Bio => "profile-bio-input",
    };
    let element = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(id));
    if let Some(input) = element.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = input.focus();
    }
}

/// The profile page.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let auth = use_auth();
    let profile = LocalResource::new(move || api::profile(auth));
    let sub = auth.user.get_untracked().map(|u| u.sub).unwrap_or_default();
    // The profile as last saved here: shown over the loaded one until the API answers a reload.
    let saved = RwSignal::new(None::<Profile>);
    let restored = profile_draft::load(&sub);
    let was_restored = restored.is_some();
    let draft = RwSignal::new(restored.unwrap_or_else(|| ProfileDraft { sub: sub.clone(), ..ProfileDraft::default() }));
    // True from the first keystroke (or a restored draft) until the draft is saved or discarded.
    let dirty = RwSignal::new(was_restored);
    let problems = RwSignal::new(Vec::<(Field, String)>::new());
    let state = RwSignal::new(SaveState::Idle);

    let loaded = move || profile.get().and_then(Result::ok);
    let current = move || saved.get().or_else(loaded);
    // A new answer from the API (a reload) replaces what was saved here.
    Effect::new(move |_| {
        if loaded().is_some() {
            saved.set(None);
        }
    });
    // The form starts from the profile, unless there is a draft; it can be edited once there is something to edit.
    Effect::new(move |_| {
        if let Some(p) = current() {
            if !dirty.get_untracked() {
                draft.update(|d| (d.name, d.bio) = (p.name, p.bio));
            }
        }
    });
    let editable = move || was_restored || current().is_some();

    let edit = move |change: &dyn Fn(&mut ProfileDraft)| {
        draft.update(|d| change(d));
        dirty.set(true);
        problems.set(Vec::new());
        if state.get_untracked() != SaveState::Saving {
            state.set(SaveState::Idle);
        }
        profile_draft::save(&draft.get_untracked());
    };
    let discard = move |_| {
        profile_draft::clear();
        dirty.set(false);
        problems.set(Vec::new());
        state.set(SaveState::Idle);
        let (name, bio) = current().map(|p| (p.name, p.bio)).unwrap_or_default();
        draft.update(|d| (d.name, d.bio) = (name, bio));
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if state.get_untracked() == SaveState::Saving {
            return;
        }
        let sent = draft.get_untracked();
        let found = sent.problems();
        if !found.is_empty() {
            focus_field(found[0].0);
            problems.set(found);
            state.set(SaveState::Failed("Nothing was sent: correct the marked fields.".into()));
            return;
        }
        state.set(SaveState::Saving);
        let update = ProfileUpdate { name: sent.name.trim().to_owned(), bio: sent.bio.clone() };
        leptos::task::spawn_local(async move {
            match api::update_profile(auth, &update).await {
                Ok(p) => {
                    // Typed while saving: that stays a draft, over the saved profile.
                    if draft.try_get_untracked().as_ref() == Some(&sent) {
                        profile_draft::clear();
                        let _ = dirty.try_set(false);
                        let _ = draft.try_update(|d| (d.name, d.bio) = (p.name.clone(), p.bio.clone()));
                    }
                    let _ = saved.try_set(Some(p));
                    let _ = state.try_set(SaveState::Saved);
                }
                Err(e) => match e.refused_field() {
                    Some(refused) => {
                        let field = Field::from_api(&refused.field);
                        let _ = problems.try_set(field.map(|f| vec![(f, refused.message.clone())]).unwrap_or_default());
                        if let Some(field) = field {
                            focus_field(field);
                        }
                        let what = match field {
                            Some(_) => "correct the marked field and save again.".to_owned(),
                            None => format!("{} Change it and save again.", refused.message),
                        };
                        let _ = state.try_set(SaveState::Failed(format!("The API did not accept this change: {what}")));
                    }
                    None => {
                        let message = format!("Not saved: {e}. Your changes are kept here; save again to retry.");
                        let _ = state.try_set(SaveState::Failed(message));
                    }
                },
            }
        });
    };
    let problem = move |field: Field| problems.with(|p| p.iter().find(|(f, _)| *f == field).map(|(_, m)| m.clone()));
    let bio_count = move || draft.with(|d| d.bio.chars().count());
    let bio_too_long = move || bio_count() > BIO_MAX_CHARS;
    let saving = move || state.get() == SaveState::Saving;

    view! {
            <h1>"Profile"</h1>
            <section class="card" aria-labelledby="profile-current">
                <div class="card-head">
                    <h2 id="profile-current">"Your profile"</h2>
                    <button class="button" type="button" data-testid="profile-reload" on:click=move |_| profile.refetch()>
                        "Reload"
                    </button>
                </div>
                <Suspense fallback=|| view! { <p class="progress" data-testid="profile-loading">"Loading your profile…"</p> }>
                    <ErrorBoundary fallback=|errors| view! { <ErrorNotice errors testid="profile-error"/> }>
                        // try_get: the answer may arrive after the page is gone (the session ended, the person left).
                        {move || {
                            profile.try_get().flatten().map(|result| result.map(|loaded| {
                                let p = saved.get().unwrap_or(loaded);
                                view! {
                                    <dl class="profile">
                                        <dt>"Name"</dt><dd data-testid="profile-name">{p.name}</dd>
                                        <dt>"Email"</dt><dd data-testid="profile-email">{p.email}</dd>
                                        <dt>"Bio"</dt><dd data-testid="profile-bio">{p.bio}</dd>
                                    </dl>
                                }
                            }))
                        }}
                    </ErrorBoundary>
                </Suspense>
            </section>

            <form class="card profile-form" novalidate aria-labelledby="profile-edit" on:submit=submit>
                <h2 id="profile-edit">"Edit your profile"</h2>
                {move || (was_restored && dirty.get()).then(|| view! {
                    <p class="info" data-testid="draft-restored">
                        "Your unsaved changes from before were kept. Save them, or discard them to start from your profile."
                    </p>
                })}
                <div class="field">
                    <label for="profile-name-input">"Name"</label>
                    <input id="profile-name-input" name="name" type="text" autocomplete="name" required
                        data-testid="profile-name-input" disabled=move || !editable()
                        aria-invalid=move || problem(Field::Name).is_some().to_string()
                        aria-describedby="profile-name-problem"
                        prop:value=move || draft.with(|d| d.name.clone())
                        on:input=move |ev| { let v = event_target_value(&ev); edit(&move |d| d.name = v.clone()) }/>
                    <p id="profile-name-problem" class="field-problem" data-testid="profile-name-problem">
                        {move || problem(Field::Name)}
                    </p>
                </div>
                <div class="field">
                    <label for="profile-bio-input">"Bio"</label>
                    <textarea id="profile-bio-input" name="bio" rows="4" data-testid="profile-bio-input"
                        disabled=move || !editable()
                        aria-invalid=move || problem(Field::Bio).is_some().to_string()
                        aria-describedby="profile-bio-count profile-bio-problem"
                        prop:value=move || draft.with(|d| d.bio.clone())
                        on:input=move |ev| { let v = event_target_value(&ev); edit(&move |d| d.bio = v.clone()) }>
                    </textarea>
                    <p id="profile-bio-count" class="hint" class:over=bio_too_long>
                        {move || format!("{} of {BIO_MAX_CHARS} characters", bio_count())}
                    </p>
                    <p id="profile-bio-problem" class="field-problem" data-testid="profile-bio-problem">
                        {move || problem(Field::Bio)}
                    </p>
                </div>
                <div class="actions">
                    <button type="submit" class="button primary" data-testid="profile-save"
                        disabled=move || !editable() aria-disabled=move || saving().to_string()
    >
                        {move || if saving() { "Saving…" } else { "Save" }}
                    </button>
                    <button type="button" class="button" data-testid="profile-discard" on:click=discard
                        disabled=move || !dirty.get() || saving()>"Discard changes"</button>
                </div>
                <p role="status" class="save-state" data-testid="profile-status"
                    class:ok=move || state.get() == SaveState::Saved
                    class:failed=move || matches!(state.get(), SaveState::Failed(_))>
                    {move || match state.get() {
                        SaveState::Idle => String::new(),
                        SaveState::Saving => "Saving your profile…".into(),
                        SaveState::Saved => "Saved.".into(),
                        SaveState::Failed(why) => why,
                    }}
                </p>
            </form>
        }
}

#[cfg(test)]
mod tests {
    use super::ProfilePage;
    use crate::profile_draft::{self, ProfileDraft};
    use crate::test_support::{mount_page, mount_page_with, text_eventually};
    use oten_auth::core::{HttpResponse, Method};
    use oten_auth::testing::MOCK_ACCESS_TOKEN;
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    const ALICE: &str = r#"{"name":"Alice Liddell","email":"alice@example.test","bio":"Curious"}"#;

    fn input(page: &web_sys::HtmlElement, testid: &str, value: &str) {
        let element = page.query_selector(&format!("[data-testid={testid}]")).unwrap().expect(testid);
        match element.dyn_ref::<web_sys::HtmlInputElement>() {
            Some(i) => i.set_value(value),
            None => element.dyn_ref::<web_sys::HtmlTextAreaElement>().expect("a text field").set_value(value),
        }
        element.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    }

    fn click(page: &web_sys::HtmlElement, testid: &str) {
        let element = page.query_selector(&format!("[data-testid={testid}]")).unwrap().expect(testid);
        element.dyn_ref::<web_sys::HtmlElement>().unwrap().click();
    }

    #[wasm_bindgen_test]
    async fn shows_the_profile_the_api_returns() {
        profile_draft::clear();
        let (page, mock) = mount_page("/profile", move |_| HttpResponse::new(200, ALICE), ProfilePage);
        let text = text_eventually(&page, "Alice Liddell").await;
        assert!(text.contains("alice@example.test") && text.contains("Curious"), "{text}");
        let sent = mock.requests();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].url, "https://api.test/api/user/profile");
        assert_eq!(sent[0].header_value("authorization"), Some(format!("Bearer {MOCK_ACCESS_TOKEN}").as_str()));
    }

    #[wasm_bindgen_test]
    async fn an_api_failure_is_a_readable_message() {
        profile_draft::clear();
        let (page, _mock) = mount_page("/profile", |_| HttpResponse::new(503, "down"), ProfilePage);
        text_eventually(&page, "the API answered HTTP 503").await;
    }

    #[wasm_bindgen_test]
    async fn a_missing_api_base_url_names_the_setting_and_sends_nothing() {
        profile_draft::clear();
        let (page, mock) = mount_page_with("/profile", None, |_| HttpResponse::new(200, "{}"), ProfilePage);
        let text = text_eventually(&page, "api_base_url").await;
        assert!(text.contains("config.json: configuration field `app`"), "{text}");
        assert!(mock.requests().is_empty());
    }

    #[wasm_bindgen_test]
    async fn an_edit_is_kept_as_a_draft_and_saved_with_put() {
        profile_draft::clear();
        let (page, mock) = mount_page(
            "/profile",
            |r| match r.method {
                Method::Put => {
                    HttpResponse::new(200, r#"{"name":"Alice L.","email":"alice@example.test","bio":"Curious"}"#)
                }
                _ => HttpResponse::new(200, ALICE),
            },
            ProfilePage,
        );
        text_eventually(&page, "Alice Liddell").await;
        input(&page, "profile-name-input", "  Alice L.  ");
        assert_eq!(
            profile_draft::load("u1").map(|d| d.name),
            Some("  Alice L.  ".into()),
            "kept from the first keystroke"
        );
        click(&page, "profile-save");
        text_eventually(&page, "Saved.").await;
        let put = mock.requests().into_iter().find(|r| r.method == Method::Put).expect("a PUT");
        assert_eq!(put.url, "https://api.test/api/user/profile");
        let body: serde_json::Value = serde_json::from_str(put.body.as_deref().unwrap()).unwrap();
        assert_eq!(body, serde_json::json!({ "name": "Alice L.", "bio": "Curious" }), "the name trimmed");
        assert_eq!(profile_draft::load("u1"), None, "saved: the draft is gone");
        text_eventually(&page, "Alice L.").await;
    }

    #[wasm_bindgen_test]
    async fn invalid_fields_are_named_and_nothing_is_sent() {
        profile_draft::clear();
        let (page, mock) = mount_page("/profile", |_| HttpResponse::new(200, ALICE), ProfilePage);
        text_eventually(&page, "Alice Liddell").await;
        input(&page, "profile-name-input", "   ");
        input(&page, "profile-bio-input", &"b".repeat(1001));
        click(&page, "profile-save");
        let text = text_eventually(&page, "Enter a name.").await;
        assert!(text.contains("A bio can have at most 1000 characters"), "{text}");
        assert!(text.contains("Nothing was sent"), "{text}");
        assert!(mock.requests().iter().all(|r| r.method != Method::Put));
        let name = page.query_selector("[data-testid=profile-name-input]").unwrap().unwrap();
        assert_eq!(name.get_attribute("aria-invalid").as_deref(), Some("true"));
    }

    #[wasm_bindgen_test]
    async fn the_apis_refusal_is_shown_beside_its_field_and_the_draft_kept() {
        profile_draft::clear();
        let refusal = r#"{"error":"invalid_field","field":"name","error_description":"A name cannot contain < or >."}"#;
        let (page, _mock) = mount_page(
            "/profile",
            move |r| match r.method {
                Method::Put => HttpResponse::new(422, refusal),
                _ => HttpResponse::new(200, ALICE),
            },
            ProfilePage,
        );
        text_eventually(&page, "Alice Liddell").await;
        input(&page, "profile-name-input", "<Alice>");
        click(&page, "profile-save");
        let problem = page.query_selector("[data-testid=profile-name-problem]").unwrap().unwrap();
        text_eventually(&problem.dyn_into().unwrap(), "A name cannot contain < or >.").await;
        text_eventually(&page, "The API did not accept this change").await;
        assert_eq!(profile_draft::load("u1").map(|d| d.name), Some("<Alice>".into()));
    }

    #[wasm_bindgen_test]
    async fn a_kept_draft_is_restored_over_the_loaded_profile_and_can_be_discarded() {
        profile_draft::save(&ProfileDraft {
            sub: "u1".into(),
            name: "Typed before".into(),
            bio: "Half a sentence".into(),
        });
        let seen = Rc::new(RefCell::new(0));
        let counter = seen.clone();
        let (page, _mock) = mount_page(
            "/profile",
            move |_| {
                *counter.borrow_mut() += 1;
                HttpResponse::new(200, ALICE)
            },
            ProfilePage,
        );
        text_eventually(&page, "Your unsaved changes from before were kept").await;
        text_eventually(&page, "Alice Liddell").await;
        let name: web_sys::HtmlInputElement =
            page.query_selector("[data-testid=profile-name-input]").unwrap().unwrap().dyn_into().unwrap();
        assert_eq!(name.value(), "Typed before", "the draft wins over the loaded profile");
        click(&page, "profile-discard");
        for _ in 0..100 {
            if name.value() == "Alice Liddell" {
                break;
            }
            gloo_timers::future::TimeoutFuture::new(10).await; // the view updates after the signal, not within
        }
        assert_eq!(name.value(), "Alice Liddell");
        assert_eq!(profile_draft::load("u1"), None);
        assert_eq!(*seen.borrow(), 1);
    }
}
