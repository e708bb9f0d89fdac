//! A wake-up call from writers to the threads that tail the outbox.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Set by every durable write; waited on by outbox consumers. Plain std
/// primitives, so a consumer thread never depends on the async runtime
/// still running.
#[derive(Default)]
pub struct ChangeSignal {
    changed: Mutex<bool>,
    wake: Condvar,
}

impl ChangeSignal {
    /// Says that the outbox has new entries.
    pub fn notify(&self) {
        *self.changed.lock().expect("lock") = true;
        self.wake.notify_all();
    }

    /// Waits until notified or until `timeout` passes, and clears the flag.
    pub fn wait(&self, timeout: Duration) {
        let changed = self.changed.lock().expect("lock");
        let (mut changed, _) = self
            .wake
            .wait_timeout_while(changed, timeout, |changed| !*changed)
            .expect("lock");
        *changed = false;
    }
}
