//! The app's pages, one per file.

mod error_notice;
mod home;
mod not_found;
mod profile;
mod security;
mod session_panel;
mod signed_out;

pub use home::HomePage;
pub use not_found::NotFound;
pub use profile::ProfilePage;
pub use security::SecurityPage;
pub use signed_out::SignedOutPage;
