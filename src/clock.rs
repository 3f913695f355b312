//! The time, as a signal that ticks every second while the component that asked for it is mounted.

use leptos::prelude::*;

/// Now (ms since the epoch), updated every second until the calling component is unmounted.
pub fn use_now_ms() -> ReadSignal<i64> {
    let (now, set_now) = signal(js_sys::Date::now() as i64);
    let tick = gloo_timers::callback::Interval::new(1_000, move || {
        set_now.try_set(js_sys::Date::now() as i64);
    });
    let tick = StoredValue::new_local(Some(tick));
    on_cleanup(move || tick.update_value(|t| drop(t.take())));
    now
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

/// A local wall-clock time, "14:03:09".
pub fn time_of_day(ms: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!("{:02}:{:02}:{:02}", date.get_hours(), date.get_minutes(), date.get_seconds())
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
