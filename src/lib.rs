//! The reference app: signs people in to Oten and shows their session and profile.
//!
//! It is the first user of the `oten-auth` library: `provide_auth_from_url` at the root, the library's route
//! components for `/login` and `/callback`, `<RequireAuth>` around protected pages, and typed API calls
//! (`api.rs`) through the library's authenticated client.

mod api;
mod app;
mod clock;
mod pages;
mod panic_hook;
mod profile_draft;
mod refresh_history;
#[cfg(test)]
mod test_support;

pub use app::App;
pub use panic_hook::install_panic_hook;
