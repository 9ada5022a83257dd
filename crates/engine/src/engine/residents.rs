//! The executions resident in memory, each reached through the mailbox of
//! the actor that owns it.
//!
//! An entry is added before its actor runs (commands wait in its inbox
//! while the execution is loaded) and removed by the actor itself when it
//! goes to rest or ends, before its inbox closes: a closed inbox always
//! means the entry is gone, and a sender that finds one looks again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

use super::lock;
use super::mailbox::{Inbox, Mailbox};

/// How many requests may wait in one execution's inbox before senders wait.
const INBOX: usize = 256;

/// The resident executions, by ARN.
#[derive(Debug, Default)]
pub(super) struct Residents {
    actors: Mutex<HashMap<String, Mailbox>>,
    next_id: AtomicU64,
}

impl Residents {
    /// The mailbox of `arn`, if it is resident.
    pub(super) fn get(&self, arn: &str) -> Option<Mailbox> {
        lock(&self.actors).get(arn).cloned()
    }

    /// Whether `arn` is resident.
    pub(super) fn contains(&self, arn: &str) -> bool {
        lock(&self.actors).contains_key(arn)
    }

    /// The mailbox of `arn`, and, when it was not resident, the inbox of
    /// the actor to run for it now.
    pub(super) fn get_or_add(&self, arn: &str) -> (Mailbox, Option<Inbox>) {
        let mut actors = lock(&self.actors);
        if let Some(mailbox) = actors.get(arn) {
            return (mailbox.clone(), None);
        }
        let (commands, inbox) = mpsc::channel(INBOX);
        let mailbox = Mailbox {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            commands,
        };
        actors.insert(arn.to_owned(), mailbox.clone());
        (mailbox, Some(inbox))
    }

    /// Removes `arn` if its entry is still the mailbox `id`'s.
    pub(super) fn remove(&self, arn: &str, id: u64) {
        let mut actors = lock(&self.actors);
        if actors.get(arn).is_some_and(|mailbox| mailbox.id == id) {
            actors.remove(arn);
        }
    }

    /// How many executions are resident.
    pub(super) fn count(&self) -> usize {
        lock(&self.actors).len()
    }
}
