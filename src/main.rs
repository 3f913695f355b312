//! Mounts the app; everything else lives in the library part of this crate.

fn main() {
    leptos::mount::mount_to_body(oten_spa::App);
}
