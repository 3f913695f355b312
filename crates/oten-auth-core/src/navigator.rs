//! Sending the person to sign in again.

/// Moves the browser; the browser crate implements it over `window.location`.
///
/// ## Usage
///
/// ```
/// use oten_auth_core::Navigator;
/// use std::cell::RefCell;
/// #[derive(Default)]
/// struct Recorder(RefCell<Vec<String>>);
/// impl Navigator for Recorder {
///     fn current_path(&self) -> String { "/profile".into() }
///     fn go_to(&self, url: &str) { self.0.borrow_mut().push(url.to_owned()) }
///     fn post_form(&self, action: &str, _fields: &[(&str, &str)]) { self.0.borrow_mut().push(format!("POST {action}")) }
/// }
/// let r = Recorder::default();
/// r.go_to(&oten_auth_core::login_url(&r.current_path()));
/// assert_eq!(r.0.borrow()[0], "/login?return_to=%2Fprofile");
/// ```
pub trait Navigator {
    /// The current path with query and fragment (`/profile?tab=1`).
    fn current_path(&self) -> String;
    /// Navigates to a URL.
    fn go_to(&self, url: &str);
    /// Navigates by submitting a POST form (so that values such as an `id_token_hint` stay out of URLs).
    fn post_form(&self, action: &str, fields: &[(&str, &str)]);
}

/// The app's sign-in route with a sanitised return path.
pub fn login_url(return_to: &str) -> String {
    let safe = crate::sanitize_return_path(return_to);
    format!("{}?{}", crate::routes::LOGIN_PATH, crate::form_encode(&[("return_to", &safe)]))
}

/// Whether a path is one of the auth routes, from which nothing ever redirects to sign-in (no loops).
///
/// ```
/// assert!(oten_auth_core::is_auth_route("/callback?code=x"));
/// assert!(!oten_auth_core::is_auth_route("/profile"));
/// ```
pub fn is_auth_route(path: &str) -> bool {
    let route = path.split(['?', '#']).next().unwrap_or("").trim_end_matches('/');
    route == crate::routes::LOGIN_PATH || route == crate::routes::CALLBACK_PATH
}
