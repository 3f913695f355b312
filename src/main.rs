fn main() {
    leptos::mount::mount_to_body(|| leptos::view! { <p>"Oten sign-in"</p> });
}
