//! The app's auth routes, defined once: the library's components, redirects and defaults all use these.

/// The sign-in route: [`crate::login_url`] sends people here (`?return_to=…`); mount `LoginRedirect` at it.
pub const LOGIN_PATH: &str = "/login";
/// The callback route: the configured `redirect_uri` must end here; mount `AuthCallback` at it.
pub const CALLBACK_PATH: &str = "/callback";
/// Where the provider sends people after sign-out by default (the app's own page).
pub const SIGNED_OUT_PATH: &str = "/signed-out";

/// [`LOGIN_PATH`] as a route segment (for `StaticSegment`).
pub const LOGIN_SEGMENT: &str = "login";
/// [`CALLBACK_PATH`] as a route segment.
pub const CALLBACK_SEGMENT: &str = "callback";
/// [`SIGNED_OUT_PATH`] as a route segment.
pub const SIGNED_OUT_SEGMENT: &str = "signed-out";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_paths_agree() {
        for (path, segment) in
            [(LOGIN_PATH, LOGIN_SEGMENT), (CALLBACK_PATH, CALLBACK_SEGMENT), (SIGNED_OUT_PATH, SIGNED_OUT_SEGMENT)]
        {
            assert_eq!(path, format!("/{segment}"));
        }
    }
}
