//! Group commit: many writers, one flush.
//!
//! sled writes to its log in memory and flushes on a timer. A write is
//! acknowledged only after a flush that started after it, so each writer
//! waits here. One task runs flushes back to back; every writer that arrived
//! during a flush is released by the next one, so a burst of writes costs a
//! few flushes rather than one each.

use tokio::sync::{mpsc, oneshot};

use super::StorageError;

/// Handle to the flush task.
#[derive(Clone)]
pub struct Durability {
    requests: mpsc::UnboundedSender<oneshot::Sender<Result<(), String>>>,
}

impl Durability {
    /// Starts the flush task for `db`. Needs a running tokio runtime.
    pub fn start(db: sled::Db) -> Durability {
        let (requests, receiver) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("tessera-flush".into())
            .spawn(move || flush_loop(db, receiver))
            .expect("the flush thread starts");
        Durability { requests }
    }

    /// Waits until everything written before this call is on disk.
    pub async fn wait(&self) -> Result<(), StorageError> {
        let (done, wait) = oneshot::channel();
        self.requests
            .send(done)
            .map_err(|_| StorageError::FlushStopped)?;
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(StorageError::Sled(sled::Error::Unsupported(message))),
            Err(_) => Err(StorageError::FlushStopped),
        }
    }
}

fn flush_loop(
    db: sled::Db,
    mut receiver: mpsc::UnboundedReceiver<oneshot::Sender<Result<(), String>>>,
) {
    while let Some(first) = receiver.blocking_recv() {
        let mut waiting = vec![first];
        while let Ok(next) = receiver.try_recv() {
            waiting.push(next);
        }

        let outcome = db.flush().map(|_| ()).map_err(|e| e.to_string());
        if let Err(message) = &outcome {
            tracing::error!(error = %message, "storage.flush failed");
        }
        for waiter in waiting {
            let _ = waiter.send(outcome.clone());
        }
    }
}
