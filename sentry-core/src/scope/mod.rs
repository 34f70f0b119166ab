//! Scopes: the global, isolation and current scopes, and how they follow threads and tasks.

mod binding;
mod data;
mod fork;
mod future;
mod processors;
mod propagation;
mod scopes;
mod shared;
mod slot;
mod slot_ref;

pub use binding::bind_client;
pub use data::{EventProcessor, Scope};
pub use future::{BindScopes, ScopesBound};
pub use scopes::{
    configure_global_scope, configure_scope, push_scope, with_isolation_scope, with_scope,
    ScopeGuard, Scopes,
};

pub(crate) use binding::{record_breadcrumb, set_global_client};
pub(crate) use data::{apply_scope_attributes, apply_scopes, attributes_in_use, propagation_of};
pub(crate) use propagation::PropagationContext;
pub(crate) use scopes::{
    current_with_span, global_slot, with_current_span, with_scopes, Snapshots,
};
