//! Which envelopes the offline cache keeps safe from the moment they are captured.
//!
//! With an offline cache, envelopes of the **durable** classes are written to disk by
//! `send_envelope` on the capturing thread, before it returns: errors and messages (events),
//! cron check-ins, user feedback (and the attachments that travel with any of these). These
//! are rare and each one matters, so they survive the process being killed right after the
//! capture.
//!
//! The **high-volume** classes (transactions, spans, logs, sessions, profiles, replays,
//! metrics) stay in memory until the worker gets to them, which writes them just before
//! sending; a kill before that loses them. Writing each of them on the capturing thread would
//! put disk I/O on every request of a busy service. Client reports are persisted separately
//! (see the cache's `reports`).

use crate::envelope::Envelope;
use crate::protocol::DataCategory;

/// Whether `envelope` holds an item of a durable class.
pub(crate) fn is_durable(envelope: &Envelope) -> bool {
    envelope
        .items()
        .any(|item| is_durable_category(item.category()))
}

fn is_durable_category(category: DataCategory) -> bool {
    matches!(
        category,
        DataCategory::Error
            | DataCategory::Default
            | DataCategory::Monitor
            | DataCategory::Feedback
            | DataCategory::Security
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{ItemType, RawItem};
    use crate::protocol::Event;

    fn of(ty: ItemType) -> Envelope {
        Envelope::from_iter([RawItem::new(ty, b"{}".to_vec())])
    }

    #[test]
    fn errors_check_ins_and_feedback_are_durable_high_volume_items_are_not() {
        assert!(is_durable(&Envelope::from_event(Event::default())));
        for ty in [ItemType::CheckIn, ItemType::Feedback, ItemType::UserReport] {
            assert!(is_durable(&of(ty.clone())), "{ty}");
        }
        for ty in [
            ItemType::Transaction,
            ItemType::Span,
            ItemType::Log,
            ItemType::Session,
            ItemType::Sessions,
            ItemType::Profile,
            ItemType::ReplayEvent,
            ItemType::ClientReport,
            ItemType::Attachment,
        ] {
            assert!(!is_durable(&of(ty.clone())), "{ty}");
        }
        assert!(!is_durable(&Envelope::from_transaction(Event::default())));
        // The typed items too.
        let check_in = crate::protocol::CheckIn::new("job", crate::protocol::CheckInStatus::Ok);
        assert!(is_durable(&Envelope::from_check_in(check_in)));
        let feedback = crate::protocol::Feedback::new("words").into_event();
        assert!(is_durable(&Envelope::from_feedback(feedback)));
        // An attachment travels with its event.
        let mut envelope = Envelope::from_event(Event::default());
        envelope.add_item(RawItem::new(ItemType::Attachment, b"x".to_vec()));
        assert!(is_durable(&envelope));
    }
}
