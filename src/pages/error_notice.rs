//! What an `<ErrorBoundary>` shows: the errors it caught, as readable text.

use leptos::prelude::*;

/// The errors an `<ErrorBoundary>` caught, as text (never HTML).
#[component]
pub fn ErrorNotice(
    /// The boundary's errors.
    errors: ArcRwSignal<Errors>,
    /// The element's `data-testid`.
    testid: &'static str,
) -> impl IntoView {
    let text = move || errors.get().into_iter().map(|(_, e)| e.to_string()).collect::<Vec<_>>().join("; ");
    view! { <p class="notice" role="alert" data-testid=testid>{text}</p> }
}
