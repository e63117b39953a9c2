//! Flow tracking: bidirectional flows keyed by 5-tuple + VLAN, TCP session state, per-protocol
//! timeouts driven by packet time, a flow cap with emergency eviction, IP fragment reassembly,
//! Community ID, the EVE `flow` record, and the running per-flow features for machine learning.
//!
//! Owns: the state one worker keeps about the flows of its shard.
//! Must not: read a clock (time is passed in), do I/O, allocate per packet in steady state
//! (tables are slabs that grow to their cap and are reused), or panic on any input.
#![forbid(unsafe_code)]

pub mod community_id;
pub mod defrag;
pub mod eve;
pub mod features;
mod key;
pub mod stream;
mod table;
pub mod tcp;

pub use community_id::community_id_v1;
pub use defrag::{DefragConfig, DefragStats, Defragmenter};
pub use key::FlowKey;
pub use stream::{Chunk, StreamConfig, StreamDir, StreamStats, MAX_SYN_DATA};
pub use table::{
    EndReason, Flow, FlowConfig, FlowHandle, FlowState, FlowStats, FlowTable, PacketFacts,
    ProtoTimeouts, Timeouts, DEFAULT_MAX_FLOWS,
};
pub use tcp::{Segment, TcpSession, TcpState};
