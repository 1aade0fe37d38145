//! What one call into a component may use, and how a call that reached a
//! limit fails: shared by the `pure` [`Embedder`](crate::Embedder) and the
//! `client` [`ClientRuntime`](crate::client::ClientRuntime).

use core::fmt;

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder, Trap};

/// The most linear memory one call may use by default: 16 MiB. Both
/// components start with 64 KiB (a 16 KiB stack and their data) and need at
/// most 320 KiB for the largest input they accept (a login reading a 64 KiB
/// body); the headroom is for hosts that never tune it.
pub const MEMORY_LIMIT: usize = 16 << 20;

/// The most core instances one store may hold: each component's module and
/// the small shim instances the component encoder adds beside it (for
/// imported functions and an exported resource's intrinsics). A composition
/// of two components (the proxy) needs a handful; this is headroom, not a
/// tight bound.
pub const MAX_CORE_INSTANCES: usize = 16;

/// Why a call failed: a limit, or a fault of the component or the host.
#[derive(Debug)]
#[non_exhaustive]
pub enum CallError {
    /// The call used up its fuel.
    OutOfFuel,
    /// The call used up its computation time. [`Embedder`] meters fuel instead; hosts that
    /// set an epoch deadline, such as the CLI's client runtime, report this.
    OutOfTime,
    /// The component needed more memory than [`Limits::memory`].
    OutOfMemory,
    /// The component trapped for another reason.
    Trap(wasmtime::Error),
    /// The store could not be set up.
    Host(wasmtime::Error),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfFuel => f.write_str("the acr-auth component used up its fuel for this call"),
            Self::OutOfTime => f.write_str("the acr-auth component ran out of time: it computed longer than allowed"),
            Self::OutOfMemory => f.write_str("the acr-auth component reached its memory limit"),
            Self::Trap(e) => write!(f, "the acr-auth component trapped: {e}"),
            Self::Host(e) => write!(f, "the acr-auth component could not be started: {e}"),
        }
    }
}

impl std::error::Error for CallError {}

impl CallError {
    /// Names the limit behind `error`, which a call into the component ended with, when
    /// there is one: fuel, the epoch deadline, or memory when `limiter` refused to grow it (a
    /// guest whose allocation fails traps in its own way, so the trap alone does not say).
    pub fn from_call(error: wasmtime::Error, limiter: &MemoryLimiter) -> Self {
        match error.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => Self::OutOfFuel,
            Some(Trap::Interrupt) => Self::OutOfTime,
            _ if limiter.refused() => Self::OutOfMemory,
            _ => Self::Trap(error),
        }
    }
}

/// [`StoreLimits`] that remember whether they refused to grow a memory, so that the trap that
/// follows can be reported as [`CallError::OutOfMemory`].
pub struct MemoryLimiter {
    limits: StoreLimits,
    refused: bool,
}

impl MemoryLimiter {
    /// Lets each linear memory grow to `memory` bytes, and the store hold
    /// [`MAX_CORE_INSTANCES`] core instances.
    pub fn new(memory: usize) -> Self {
        Self {
            limits: StoreLimitsBuilder::new()
                .memory_size(memory)
                .instances(MAX_CORE_INSTANCES)
                .build(),
            refused: false,
        }
    }

    /// Whether a memory grow has been refused.
    pub fn refused(&self) -> bool {
        self.refused
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        self.refused |= !allowed;
        Ok(allowed)
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}
