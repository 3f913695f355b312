//! Any other path.

use leptos::prelude::*;

/// The 404 page.
#[component]
pub fn NotFound() -> impl IntoView {
    view! { <h1>"Page not found"</h1><p><a href="/">"Home"</a></p> }
}
