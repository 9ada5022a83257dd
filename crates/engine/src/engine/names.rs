//! The names claimed by starts under way: a later start with the same name
//! waits for the first to commit, then finds its execution.
//!
//! Only starts under way are here; an execution's name, once committed, is
//! the store's (its unique index). A claim is released when its guard is
//! dropped, however the start that held it ended: committed, refused,
//! cancelled or panicked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use super::lock;

/// A function's name and an execution name.
pub(super) type Key = (String, String);

/// Where the start that claimed a name stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Claimed {
    /// Its first commit is under way.
    Pending,
    /// It committed the execution with this ARN.
    Committed(String),
    /// It ended without committing one.
    Released,
}

/// The claims of starts under way.
#[derive(Debug, Default)]
pub(super) struct Names {
    claims: Arc<Mutex<HashMap<Key, watch::Receiver<Claimed>>>>,
}

/// What a start found under its name.
pub(super) enum Claim {
    /// The name is the start's until the guard is dropped.
    Ours(ClaimGuard),
    /// Another start holds it: how it went, once it is known.
    Taken(watch::Receiver<Claimed>),
}

impl Names {
    /// Claims `key` for a start.
    pub(super) fn claim(&self, key: Key) -> Claim {
        let mut claims = lock(&self.claims);
        if let Some(claimed) = claims.get(&key) {
            return Claim::Taken(claimed.clone());
        }
        let (told, claimed) = watch::channel(Claimed::Pending);
        claims.insert(key.clone(), claimed);
        Claim::Ours(ClaimGuard {
            claims: Arc::clone(&self.claims),
            key,
            told,
        })
    }
}

/// A claim on a name: the starts waiting on it are told how it went when it
/// is dropped.
#[derive(Debug)]
pub(super) struct ClaimGuard {
    claims: Arc<Mutex<HashMap<Key, watch::Receiver<Claimed>>>>,
    key: Key,
    told: watch::Sender<Claimed>,
}

impl ClaimGuard {
    /// The start committed the execution `arn`: those waiting find it.
    pub(super) fn committed(self, arn: &str) {
        self.told.send_replace(Claimed::Committed(arn.to_owned()));
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        lock(&self.claims).remove(&self.key);
        self.told.send_if_modified(|claimed| {
            let pending = *claimed == Claimed::Pending;
            if pending {
                *claimed = Claimed::Released;
            }
            pending
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        ("F".to_owned(), "n".to_owned())
    }

    #[test]
    fn a_claim_dropped_without_a_commit_releases_the_name_to_the_next_start() {
        let names = Names::default();
        let Claim::Ours(guard) = names.claim(key()) else {
            panic!("the first claim is ours");
        };
        let Claim::Taken(waiting) = names.claim(key()) else {
            panic!("the name is taken while claimed");
        };
        drop(guard);
        assert_eq!(*waiting.borrow(), Claimed::Released);
        assert!(matches!(names.claim(key()), Claim::Ours(_)), "free again");
    }

    #[test]
    fn a_committed_claim_tells_those_waiting_its_execution() {
        let names = Names::default();
        let Claim::Ours(guard) = names.claim(key()) else {
            panic!("the first claim is ours");
        };
        let Claim::Taken(waiting) = names.claim(key()) else {
            panic!("taken");
        };
        guard.committed("arn:1");
        assert_eq!(*waiting.borrow(), Claimed::Committed("arn:1".to_owned()));
    }
}
