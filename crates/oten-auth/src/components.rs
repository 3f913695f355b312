//! Route components: `<RequireAuth>`, `<LoginRedirect>` for `/login`, `<AuthCallback>` for `/callback`.

use crate::context::use_auth;
use crate::use_auth::AuthStatus;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use oten_auth_core::routes::{CALLBACK_PATH, LOGIN_PATH};
use oten_auth_core::{login_url, sanitize_return_path, LoginDecision, StepUpChallenge};

/// Shows its children only to a signed-in person. A signed-out person is sent to
/// `/login?return_to=<this path>`; while a stored session is being restored, `loading` is shown.
///
/// ## Usage
///
/// ```no_run
/// use leptos::prelude::*;
/// use oten_auth::RequireAuth;
/// #[component]
/// fn Protected() -> impl IntoView {
///     view! { <RequireAuth><p>"Only for signed-in people"</p></RequireAuth> }
/// }
/// ```
#[component]
pub fn RequireAuth(
    /// What a signed-in person sees.
    children: ChildrenFn,
    /// What is shown while the session is restored (default: "Restoring your session…").
    #[prop(optional, into)]
    loading: Option<ViewFn>,
) -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if auth.status.get() == AuthStatus::SignedOut {
            let here = format!(
                "{}{}{}",
                location.pathname.get_untracked(),
                location.search.get_untracked(),
                location.hash.get_untracked()
            );
            navigate(&login_url(&here), NavigateOptions { replace: true, ..Default::default() });
        }
    });
    let children = StoredValue::new(children);
    move || match auth.status.get() {
        AuthStatus::SignedIn => children.read_value()().into_any(),
        AuthStatus::Unavailable(reason) => view! { <AuthProblem message=reason.to_string()/> }.into_any(),
        AuthStatus::SigningOut => {
            view! { <p class="auth-loading" data-testid="auth-signing-out">"Signing you out…"</p> }.into_any()
        }
        AuthStatus::Loading | AuthStatus::SignedOut => match &loading {
            Some(l) => l.run(),
            None => {
                view! { <p class="auth-loading" data-testid="auth-loading">"Restoring your session…"</p> }.into_any()
            }
        },
    }
}

/// The `/login` route: starts the sign-in and comes back to `return_to` (sanitised) afterwards. A person who is
/// already signed in goes straight to `return_to`; a tab that just joined a sibling's session too.
///
/// It is also the loop guard, across page loads ([`oten_auth_core::ReauthState`]):
/// - nothing ended: the sign-in starts at once;
/// - a session ended (an API refused it, the provider did, its maximum age, a sign-out in another tab…): the reason
///   is shown and the sign-in starts on a click;
/// - it ended again within minutes of the last forced sign-in: the reason is shown with a way out — sign out (to use
///   another account) or try once more — and nothing starts by itself.
///
/// With `step_up=1` (and `max_age`, `acr_values`), put there by the API client after an API asked for a stronger
/// sign-in ([`StepUpChallenge`]), a signed-in person is asked to sign in again with those options ("Sign in again",
/// or "Not now" for the home page) and comes back; the loop guard does not count it. It never starts without the
/// click: it ends the session first, and a link could lead here.
///
/// ## Usage
///
/// ```no_run
/// use leptos::prelude::*;
/// use leptos_router::{components::{Route, Router, Routes}, path};
/// use oten_auth::{AuthCallback, LoginRedirect};
/// # fn demo() -> impl IntoView {
/// view! {
///     <Router><Routes fallback=|| "Not found">
///         <Route path=path!("/login") view=LoginRedirect/>
///         <Route path=path!("/callback") view=AuthCallback/>
///     </Routes></Router>
/// }
/// # }
/// ```
#[component]
pub fn LoginRedirect() -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let navigate = use_navigate();
    let started = StoredValue::new(false);
    let decision = RwSignal::new(None::<LoginDecision>);
    let return_to =
        move || sanitize_return_path(&query.with_untracked(|q| q.get("return_to")).unwrap_or_else(|| "/".into()));
    // Sent here by the API client for a step-up (RFC 9470): a signed-in person is asked to sign in again with what
    // the API asked for. Only on a click: the session ends (and is revoked) before the new sign-in, so a link to this
    // route must not be able to do it.
    let step_up = StepUpChallenge::from_login_query(&use_location().search.get_untracked());
    let options = step_up.as_ref().map(StepUpChallenge::sign_in_options).unwrap_or_default();
    let (step_up, options) = (StoredValue::new(step_up), StoredValue::new(options));
    let stepping = RwSignal::new(false);
    let navigate_home = navigate.clone();
    Effect::new(move |_| match (auth.status.get(), step_up.get_value()) {
        (AuthStatus::SignedIn, Some(_)) => {}
        (AuthStatus::SignedIn, None) => navigate(&return_to(), NavigateOptions { replace: true, ..Default::default() }),
        (AuthStatus::SignedOut, _) if !started.get_value() => {
            let Some(session) = auth.session() else { return };
            let now = session.login_decision();
            if now == LoginDecision::SignIn {
                started.set_value(true);
                auth.login_with(&return_to(), options.get_value());
            }
            decision.set(Some(now));
        }
        _ => {}
    });
    let sign_in = move |_| {
        started.set_value(true);
        decision.set(Some(LoginDecision::SignIn));
        auth.login_with(&return_to(), options.get_value());
    };
    let step_up_now = move |_| {
        let Some(challenge) = step_up.get_value() else { return };
        started.set_value(true);
        stepping.set(true);
        auth.step_up(&return_to(), challenge);
    };
    let not_now = move |_| navigate_home("/", NavigateOptions { replace: true, ..Default::default() });
    move || match (auth.status.get(), decision.get(), auth.last_error.get()) {
        (AuthStatus::Unavailable(reason), _, _) => view! { <AuthProblem message=reason.to_string()/> }.into_any(),
        (AuthStatus::SignedIn, _, _) if !stepping.get() && step_up.get_value().is_some() => view! {
            <section class="auth-ended" role="alert" data-testid="step-up-needed">
                <h2>"Please sign in again"</h2>
                <p data-testid="step-up-reason">
                    {format!("The page you were on needs {}.", step_up.get_value().unwrap_or_default())}
                </p>
                <p>"Signing in again ends this session first, in every tab of this app; they follow the new one."</p>
                <button class="button primary" data-testid="step-up-continue" on:click=step_up_now>
                    "Sign in again"
                </button>
                " "
                <button class="button" data-testid="step-up-not-now" on:click=not_now.clone()>"Not now"</button>
            </section>
        }
        .into_any(),
        (AuthStatus::SignedOut, Some(LoginDecision::Explain(reason)), _) => view! {
            <section class="auth-ended" role="alert" data-testid="session-ended">
                <h2>"Your session has ended"</h2>
                <p data-testid="session-ended-reason">{reason.to_string()}</p>
                <button class="button primary" data-testid="sign-in-again" on:click=sign_in>"Sign in again"</button>
            </section>
        }
        .into_any(),
        (AuthStatus::SignedOut, Some(LoginDecision::RepeatedFailure(reason)), _) => view! {
            <section class="auth-ended" role="alert" data-testid="session-ended-again">
                <h2>"Signing in again did not help"</h2>
                <p data-testid="session-ended-reason">{reason.to_string()}</p>
                <p>
                    "This happened again right after you signed in, so this app stopped here instead of signing you in "
                    "over and over. If you have several accounts, sign out and choose another one; otherwise try again "
                    "later, or tell the app's support team what you see here."
                </p>
                <button class="button primary" data-testid="sign-out-instead" on:click=move |_| auth.logout()>
                    "Sign out"
                </button>
                " "
                <button class="button" data-testid="try-again" on:click=sign_in>"Try again"</button>
            </section>
        }
        .into_any(),
        (_, _, Some(e)) => view! { <AuthProblem message=e.to_string()/> }.into_any(),
        _ => view! { <p class="auth-loading" data-testid="auth-redirecting">"Taking you to sign in…"</p> }.into_any(),
    }
}

/// The `/callback` route: completes the sign-in (state, issuer, code exchange, ID token checks), removes the
/// code from the address bar and goes back where the person was. Errors are shown as text with a
/// "Sign in again" action; nothing is stored.
#[component]
pub fn AuthCallback() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    // Read the raw query, then take `code` and `state` out of the address bar and history at once, even if
    // sign-in turns out to be unavailable.
    let query = window().location().search().unwrap_or_default();
    crate::browser_navigator::replace_url(CALLBACK_PATH);
    let error = RwSignal::new(None::<String>);
    let started = StoredValue::new(false);
    Effect::new(move |_| {
        if matches!(auth.status.get(), AuthStatus::Loading | AuthStatus::Unavailable(_)) || started.get_value() {
            return;
        }
        started.set_value(true);
        let (Some(session), query, navigate) = (auth.session(), query.clone(), navigate.clone()) else { return };
        leptos::task::spawn_local(async move {
            match session.handle_callback(&query).await {
                Ok(return_to) => navigate(&return_to, NavigateOptions { replace: true, ..Default::default() }),
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    });
    move || match (auth.status.get(), error.get()) {
        (AuthStatus::Unavailable(reason), _) => view! { <AuthProblem message=reason.to_string()/> }.into_any(),
        (_, Some(message)) => view! { <AuthProblem message/> }.into_any(),
        _ => view! { <p class="auth-loading" data-testid="auth-completing">"Completing sign-in…"</p> }.into_any(),
    }
}

/// A readable error with a "Sign in again" action. The message is rendered as text, never as HTML.
#[component]
pub fn AuthProblem(
    /// What went wrong.
    #[prop(into)]
    message: String,
) -> impl IntoView {
    view! {
        <section class="auth-problem" role="alert" data-testid="auth-error">
            <h2>"Sign-in problem"</h2>
            <p data-testid="auth-error-message">{message}</p>
            <a href=LOGIN_PATH rel="external" class="button" data-testid="sign-in-again">"Sign in again"</a>
        </section>
    }
}
