//! The reference app: signs people in to Oten and shows their session and profile.
//!
//! It is the first user of the `oten-auth` library: `provide_auth_from_url` at the root, the library's route
//! components for `/login` and `/callback`, `<RequireAuth>` around protected pages, and the API client for
//! `/api/user/profile`.

mod app;
mod pages;

pub use app::App;
