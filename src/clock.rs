//! The time, as a signal that ticks every second while the component that asked for it is mounted.

use leptos::prelude::*;

/// The app's one ticking clock, provided at the root ([`provide_clock`]): every page and component that shows time
/// reads it, so a page never runs two intervals.
#[derive(Clone, Copy)]
struct Clock(ReadSignal<i64>);

fn ticking() -> ReadSignal<i64> {
    let (now, set_now) = signal(js_sys::Date::now() as i64);
    let tick = gloo_timers::callback::Interval::new(1_000, move || {
        set_now.try_set(js_sys::Date::now() as i64);
    });
    let tick = StoredValue::new_local(Some(tick));
    on_cleanup(move || tick.update_value(|t| drop(t.take())));
    now
}

/// Provides the clock [`use_now_ms`] reads (call it once, at the root).
pub fn provide_clock() {
    provide_context(Clock(ticking()));
}

/// Now (ms since the epoch), updated every second: the root's clock, or one of this component's own (until it is
/// unmounted) where none was provided (a page mounted alone in a test).
pub fn use_now_ms() -> ReadSignal<i64> {
    use_context::<Clock>().map_or_else(ticking, |clock| clock.0)
}

/// A duration in words: "4 min 05 s", "42 s", "0 s" (negative durations count as zero).
pub fn duration_text(ms: i64) -> String {
    let secs = (ms.max(0) + 999) / 1000;
    match secs {
        s if s >= 3600 => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{} min {:02} s", s / 60, s % 60),
        s => format!("{s} s"),
    }
}

fn date(ms: i64) -> js_sys::Date {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64))
}

/// A local wall-clock time, "14:03:09".
pub fn time_of_day(ms: i64) -> String {
    let date = date(ms);
    format!("{:02}:{:02}:{:02}", date.get_hours(), date.get_minutes(), date.get_seconds())
}

/// A local date and time, "30/11/2026, 14:03:09".
pub fn date_and_time(ms: i64) -> String {
    String::from(date(ms).to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED))
}

#[cfg(test)]
mod tests {
    use super::duration_text;
    use wasm_bindgen_test::*;

    #[wasm_bindgen_test]
    fn durations_read_as_words_and_round_up() {
        assert_eq!(duration_text(-5), "0 s");
        assert_eq!(duration_text(1), "1 s");
        assert_eq!(duration_text(42_000), "42 s");
        assert_eq!(duration_text(245_000), "4 min 05 s");
        assert_eq!(duration_text(3_600_000), "1 h 00 min");
    }
}
