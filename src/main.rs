//! Mounts the app; everything else lives in the library part of this crate.

fn main() {
    oten_spa::install_panic_hook();
    leptos::mount::mount_to_body(oten_spa::App);
}
