//! The Echo host calls, as the three real contracts use them (read off their
//! code; see docs/format.md, "Echo host calls"). Arguments arrive in RDI, RSI,
//! RDX; results go to RAX. Services without a result leave RAX alone (the `fib`
//! contract keeps a comparison result in AL across `free`).
//!
//! Strings cross the boundary as a 16-byte struct `{ u64 ptr; u32 len; }`. The
//! host writes strings into the guest heap (which it manages, deterministically,
//! above the image) and the guest frees them with `int 0x13`.

use std::collections::BTreeMap;

use x64vm::heap::Heap;
use x64vm::host::{GAS_PER_FREE_BLOCK_SCANNED, GAS_PER_HEAP_PAGE};
use x64vm::mem::{PAGE_SIZE, page_up};
use x64vm::{Env, Flow, Host, Layout, Trap};

use crate::callline::{CallLine, Param};
use crate::{EchoType, EchoValue};

/// `int` numbers of the Echo services.
pub mod service {
    /// Heap allocate: RDI = size -> RAX = pointer (0 when the heap is exhausted).
    pub const ALLOC: u8 = 0x11;
    /// Heap free: RDI = pointer (0 is ignored).
    pub const FREE: u8 = 0x13;
    /// memcpy (memmove semantics): RDI = dst, RSI = src, RDX = len.
    pub const MEMCPY: u8 = 0x14;
    /// memcmp: RDI, RSI, RDX = len -> EAX = -1, 0 or 1.
    pub const MEMCMP: u8 = 0x15;
    /// memset: RDI = dst, SIL = byte, RDX = len.
    pub const MEMSET: u8 = 0x16;
    /// Balance: RDI = &account id string, RSI = &asset id string -> RAX (i64).
    pub const GET_BALANCE: u8 = 0x20;
    /// Current block number -> EAX.
    pub const BLOCK_NUMBER: u8 = 0x27;
    /// The contract's own id, as a string written to [RDI].
    pub const CONTRACT_ID: u8 = 0x2d;
    /// Whether this call is the constructor -> AL.
    pub const IS_CONSTRUCTOR: u8 = 0x2e;
    /// Read the next call parameter as type k (0x40 + k) into [RDI] -> AL = 1, or 0.
    pub const READ_PARAM: u8 = 0x40;
    /// Set the return value of type k (0x50 + k) from RDI (a string: RDI = &string).
    pub const SET_RETURN: u8 = 0x50;
    /// Abort the call with a message: RDI = &string.
    pub const ABORT: u8 = 0x60;
    /// The called function's name, as a string written to [RDI].
    pub const FUNCTION_NAME: u8 = 0x61;
}

/// Longest string the host reads from or writes to the guest.
pub const MAX_STRING: u64 = 1 << 20;

/// The chain state a call sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EchoContext {
    /// Current block number.
    pub block_number: u32,
    /// The contract's own id (`1.11.N` on Echo).
    pub contract_id: String,
    /// Whether this call is the constructor (deploy) call.
    pub is_constructor: bool,
    /// Balances: (account id, asset id) -> amount; absent means 0.
    pub balances: BTreeMap<(String, String), i64>,
}

impl Default for EchoContext {
    fn default() -> Self {
        EchoContext {
            block_number: 1,
            contract_id: "1.11.0".into(),
            is_constructor: false,
            balances: BTreeMap::new(),
        }
    }
}

/// Serves the Echo host calls for one call.
#[derive(Debug)]
pub struct EchoHost {
    ctx: EchoContext,
    call: CallLine,
    next_param: usize,
    heap: Heap,
    heap_charged_to: u64,
    result: Option<EchoValue>,
    abort: Option<Vec<u8>>,
}

fn bad_call(number: u8, reason: impl Into<String>) -> Trap {
    Trap::InvalidHostCall {
        number,
        reason: reason.into(),
    }
}

impl EchoHost {
    /// A host for `call` with the instance's heap region from `layout`.
    pub fn new(call: CallLine, ctx: EchoContext, layout: &Layout) -> Self {
        EchoHost {
            ctx,
            call,
            next_param: 0,
            heap: Heap::new(layout.heap_start, layout.heap_end),
            heap_charged_to: layout.heap_start,
            result: None,
            abort: None,
        }
    }

    /// The return value the contract set, if any.
    pub fn result(&self) -> Option<&EchoValue> {
        self.result.as_ref()
    }

    /// The abort message, if the contract aborted.
    pub fn abort_message(&self) -> Option<&[u8]> {
        self.abort.as_deref()
    }

    /// Takes the return value.
    pub fn take_result(&mut self) -> Option<EchoValue> {
        self.result.take()
    }

    fn alloc(&mut self, env: &mut Env<'_>, size: u64) -> Result<u64, Trap> {
        let ptr = self
            .heap
            .alloc(size, 0)
            .map_err(|e| Trap::HostError(format!("{e:?}")))?
            .unwrap_or(0);
        env.charge(
            self.heap
                .last_alloc_work()
                .saturating_mul(GAS_PER_FREE_BLOCK_SCANNED),
        )?;
        let top = page_up(self.heap.top());
        if top > self.heap_charged_to {
            let pages = (top - self.heap_charged_to) / PAGE_SIZE;
            env.charge(pages.saturating_mul(GAS_PER_HEAP_PAGE))?;
            self.heap_charged_to = top;
        }
        Ok(ptr)
    }

    /// Reads a `{ptr, len}` string struct at `at`.
    fn read_string(&self, env: &mut Env<'_>, number: u8, at: u64) -> Result<Vec<u8>, Trap> {
        let ptr = env.mem.read_u64(at)?;
        let len = u64::from(env.mem.read_u32(at.wrapping_add(8))?);
        if len > MAX_STRING {
            return Err(Trap::LimitExceeded(format!(
                "int {number:#x}: string of {len} bytes exceeds {MAX_STRING}"
            )));
        }
        env.read(ptr, len)
    }

    /// Copies `bytes` into a fresh heap block and writes `{ptr, len}` at `at`.
    fn write_string(
        &mut self,
        env: &mut Env<'_>,
        number: u8,
        at: u64,
        bytes: &[u8],
    ) -> Result<(), Trap> {
        if bytes.len() as u64 > MAX_STRING {
            return Err(Trap::LimitExceeded(format!(
                "int {number:#x}: string of {} bytes exceeds {MAX_STRING}",
                bytes.len()
            )));
        }
        let ptr = if bytes.is_empty() {
            0
        } else {
            let p = self.alloc(env, bytes.len() as u64)?;
            if p == 0 {
                return Err(Trap::LimitExceeded("the Echo heap is exhausted".into()));
            }
            env.write(p, bytes)?;
            p
        };
        env.mem.write_u64(at, ptr)?;
        env.mem.write_u32(at.wrapping_add(8), bytes.len() as u32)?;
        Ok(())
    }

    /// `int 0x40 + k`: the next parameter converted to type `k`, written to `dst`.
    fn read_param(
        &mut self,
        env: &mut Env<'_>,
        number: u8,
        ty: EchoType,
        dst: u64,
    ) -> Result<bool, Trap> {
        let Some(param) = self.call.params.get(self.next_param).cloned() else {
            return Ok(false);
        };
        let bytes: Vec<u8> = match (ty, &param) {
            (EchoType::String, Param::Str(s)) => {
                self.write_string(env, number, dst, s.as_bytes())?;
                self.next_param += 1;
                return Ok(true);
            }
            (EchoType::Bool, Param::Bool(b)) => vec![u8::from(*b)],
            (_, Param::Int(v)) => match EchoValue::from_int(ty, *v) {
                Some(value) => value.encode(),
                None => return Ok(false),
            },
            _ => return Ok(false),
        };
        env.write(dst, &bytes)?;
        self.next_param += 1;
        Ok(true)
    }
}

impl Host for EchoHost {
    fn claims(&self, _number: u8) -> bool {
        // The Echo numbers overlap the VM's core services: serve every number here.
        true
    }

    fn interrupt(&mut self, number: u8, env: &mut Env<'_>) -> Result<Flow, Trap> {
        use service::*;
        let (a0, a1, a2) = (env.arg(0), env.arg(1), env.arg(2));
        match number {
            ALLOC => {
                let p = self.alloc(env, a0)?;
                env.set_result(p);
            }
            FREE => {
                if a0 != 0 {
                    self.heap.free(a0).map_err(|_| {
                        bad_call(
                            number,
                            format!("free of {a0:#x}, which is not a live allocation"),
                        )
                    })?;
                }
            }
            MEMCPY => {
                env.charge_bytes(a2)?;
                env.mem.copy(a0, a1, a2)?;
            }
            MEMCMP => {
                env.charge_bytes(a2.saturating_mul(2))?;
                let ord = env.mem.slice(a0, a2)?.cmp(env.mem.slice(a1, a2)?);
                env.set_result(u64::from(ord as i32 as u32));
            }
            MEMSET => {
                env.charge_bytes(a2)?;
                env.mem.fill_pattern(a0, a2, a1 & 0xff, 1)?;
            }
            GET_BALANCE => {
                let id = self.read_string(env, number, a0)?;
                let asset = self.read_string(env, number, a1)?;
                let key = (
                    String::from_utf8_lossy(&id).into_owned(),
                    String::from_utf8_lossy(&asset).into_owned(),
                );
                let balance = self.ctx.balances.get(&key).copied().unwrap_or(0);
                env.set_result(balance as u64);
            }
            BLOCK_NUMBER => env.set_result(u64::from(self.ctx.block_number)),
            CONTRACT_ID => {
                let id = self.ctx.contract_id.clone();
                self.write_string(env, number, a0, id.as_bytes())?;
            }
            IS_CONSTRUCTOR => env.set_result(u64::from(self.ctx.is_constructor)),
            n if n & 0xf0 == READ_PARAM => {
                let ty = EchoType::from_number(n & 0x0f)
                    .ok_or_else(|| bad_call(n, format!("no parameter type {}", n & 0x0f)))?;
                let ok = self.read_param(env, n, ty, a0)?;
                env.set_result(u64::from(ok));
            }
            n if n & 0xf0 == SET_RETURN => {
                let ty = EchoType::from_number(n & 0x0f)
                    .ok_or_else(|| bad_call(n, format!("no return type {}", n & 0x0f)))?;
                let value = if ty == EchoType::String {
                    EchoValue::String(self.read_string(env, n, a0)?)
                } else {
                    EchoValue::from_register(ty, a0)
                };
                self.result = Some(value);
            }
            ABORT => {
                let message = self.read_string(env, number, a0)?;
                env.set_revert(message.clone());
                self.abort = Some(message);
                return Ok(Flow::Revert);
            }
            FUNCTION_NAME => {
                let name = self.call.function.clone();
                self.write_string(env, number, a0, name.as_bytes())?;
            }
            _ => return Err(bad_call(number, "no such Echo service")),
        }
        Ok(Flow::Continue)
    }
}
