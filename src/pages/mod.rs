//! The app's pages, one per file.

mod error_notice;
mod home;
mod lifetime_bar;
mod metrics_panel;
mod not_found;
mod profile;
mod security;
mod session;
mod session_panel;
mod signed_out;

pub use home::HomePage;
pub use not_found::NotFound;
pub use profile::ProfilePage;
pub use security::SecurityPage;
pub use session::SessionPage;
pub use signed_out::SignedOutPage;
