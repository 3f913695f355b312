//! The refreshes of this tab's session, oldest first, kept from the app's start: the session page draws them as a
//! timeline. Filled from the session manager's events; never holds a token.

use leptos::prelude::*;
use oten_auth::core::SessionEvent;
use oten_auth::use_auth;

/// How many refreshes are kept (the oldest go first).
pub const KEPT: usize = 20;

/// How one refresh ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// New tokens from the IdP.
    Renewed,
    /// New tokens from a sibling tab of the same session (it refreshed; this tab did not need to).
    FromAnotherTab,
    /// The refresh failed; the session goes on. The reason, readable.
    Failed(String),
}

/// One refresh: when (ms since the epoch) and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Refresh {
    /// When it ended.
    pub at_ms: i64,
    /// How.
    pub outcome: Outcome,
}

/// This tab's refreshes (context provided by [`provide_refresh_history`]).
#[derive(Debug, Clone, Copy)]
pub struct RefreshHistory(pub RwSignal<Vec<Refresh>>);

impl RefreshHistory {
    /// Adds a refresh, dropping the oldest past [`KEPT`].
    pub fn push(&self, refresh: Refresh) {
        self.0.try_update(|list| {
            list.push(refresh);
            if list.len() > KEPT {
                list.remove(0);
            }
        });
    }
}

/// Provides the history and fills it from the session once it is ready (call it below `provide_auth`).
pub fn provide_refresh_history() -> RefreshHistory {
    let history = RefreshHistory(RwSignal::new(Vec::new()));
    provide_context(history);
    let auth = use_auth();
    let subscribed = StoredValue::new_local(None::<(oten_auth::Auth, oten_auth::core::Subscription)>);
    Effect::new(move |_| {
        let Some(session) = auth.session() else { return };
        if subscribed.with_value(|s| s.is_some()) {
            return;
        }
        let subscription = session.manager().subscribe(move |event| {
            let outcome = match event {
                SessionEvent::Refreshed => Outcome::Renewed,
                SessionEvent::Adopted => Outcome::FromAnotherTab,
                SessionEvent::RefreshFailed(error) => Outcome::Failed(error.to_string()),
                // Another session from here on: its refreshes start from none.
                SessionEvent::SignedIn | SessionEvent::SignedOut | SessionEvent::Ended(_) => {
                    history.0.try_set(Vec::new());
                    return;
                }
                _ => return,
            };
            history.push(Refresh { at_ms: js_sys::Date::now() as i64, outcome });
        });
        subscribed.set_value(Some((session, subscription)));
    });
    on_cleanup(move || {
        if let Some(Some((session, subscription))) = subscribed.try_update_value(Option::take) {
            session.manager().unsubscribe(subscription);
        }
    });
    history
}

/// This tab's refresh history (an empty one outside [`provide_refresh_history`]).
pub fn use_refresh_history() -> RefreshHistory {
    use_context::<RefreshHistory>().unwrap_or_else(|| RefreshHistory(RwSignal::new(Vec::new())))
}
