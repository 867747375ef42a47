//! The chain services of docs/abi.md behind [`x64vm::Host`], and [`run_frame`],
//! which runs one contract call (a frame) in its own instance, nested calls
//! included.

use std::sync::Arc;

use x64vm::cpu::Cpu;
use x64vm::interp::Tracer;
use x64vm::ir::Inst;
use x64vm::mem::Memory;
use x64vm::{Config, Env, Flow, Host, Outcome, Status, Trap};
use x64vm_abi::{self as abi, limits};

use crate::code::{Code, CodeCache};
use crate::gas;
use crate::state::{State, StateError};
use crate::{Address, Hash};

/// The block a transaction runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    /// Block number.
    pub number: u64,
    /// Timestamp in seconds.
    pub timestamp: u64,
}

/// The hash of block `number`: `keccak256("x64vm:block:" ‖ number as u64 LE)`.
pub fn block_hash(number: u64) -> Hash {
    crate::crypto::keccak256_parts(&[b"x64vm:block:", &number.to_le_bytes()])
}

/// An event as emitted (decoding happens when the receipt is built).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawEvent {
    /// The emitting contract.
    pub address: Address,
    /// The topic.
    pub topic: [u8; 32],
    /// The data.
    pub data: Vec<u8>,
}

/// What one transaction shares across its frames.
pub struct Tx<'s> {
    /// The journaled state.
    pub state: &'s mut dyn State,
    /// Loaded code.
    pub codes: &'s mut CodeCache,
    /// The VM configuration (its `gas_limit` is replaced per frame).
    pub config: Config,
    /// The current block.
    pub block: BlockInfo,
    /// The transaction's sender.
    pub origin: Address,
    /// A read-only query: writes, transfers, value and events trap.
    pub read_only: bool,
    /// Events of the frames so far (a failed frame's are removed).
    pub events: Vec<RawEvent>,
    /// Debug output of every frame, in order.
    pub debug: Vec<u8>,
    /// Call tree, instruction observer and block hashes (used by the local
    /// chain, `x64vm-chain`); `Default::default()` adds nothing.
    pub extras: TxExtras<'s>,
}

// ---- Observation hooks for the local chain (x64vm-chain) --------------------

/// One frame as [`run_frame`] saw it, recorded in call order (pre-order: a
/// frame comes before the frames it called; `depth` gives the nesting).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRecord {
    /// The frame (address, caller, value, depth).
    pub frame: Frame,
    /// The input passed.
    pub input: Vec<u8>,
    /// Gas given.
    pub gas_limit: u64,
    /// Gas used, nested calls included.
    pub gas_used: u64,
    /// How it ended.
    pub status: FrameStatus,
    /// Output or revert data.
    pub output: Vec<u8>,
    /// The RIP of the trap, when the frame trapped.
    pub trap_rip: Option<u64>,
    /// The hash of the code that ran, if any.
    pub code_hash: Option<Hash>,
}

/// Observes every instruction of every frame (the local chain's `trace -v`).
/// Methods take `&self` (keep state in a `RefCell`): frames nest, but the
/// calls never overlap.
pub trait StepSink {
    /// A frame starts running `code`.
    fn enter(&self, frame: &Frame, code: &Code) {
        let _ = (frame, code);
    }
    /// Before `inst` executes in `frame`.
    fn before(&self, frame: &Frame, cpu: &Cpu, mem: &Memory, inst: &Inst);
    /// After `inst` executed without trapping.
    fn after(&self, frame: &Frame, cpu: &Cpu, mem: &Memory, inst: &Inst);
    /// The frame ended.
    fn exit(&self, frame: &Frame, status: &FrameStatus, gas_used: u64) {
        let _ = (frame, status, gas_used);
    }
}

/// What a transaction records or asks beyond the runtime's defaults. Only
/// references, so that a `Tx` stays free of drop glue.
#[derive(Default)]
pub struct TxExtras<'s> {
    /// Where to record every frame run, in call order.
    pub calls: Option<&'s mut Vec<CallRecord>>,
    /// An instruction observer for every frame, if any.
    pub steps: Option<&'s (dyn StepSink + 's)>,
    /// The hash of an earlier block, for the `block_hash` service (asked only
    /// for the 256 blocks before the current one); without it, [`block_hash`].
    pub block_hash: Option<&'s dyn Fn(u64) -> Option<Hash>>,
}

impl std::fmt::Debug for TxExtras<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TxExtras")
            .field("calls", &self.calls.as_ref().map(|c| c.len()))
            .field("steps", &self.steps.is_some())
            .field("block_hash", &self.block_hash.is_some())
            .finish()
    }
}

/// Forwards the VM's tracer hooks to a [`StepSink`].
struct SinkTracer<'a> {
    sink: &'a (dyn StepSink + 'a),
    frame: Frame,
}

impl Tracer for SinkTracer<'_> {
    const ENABLED: bool = true;
    fn before(&mut self, cpu: &Cpu, mem: &Memory, inst: &Inst) {
        self.sink.before(&self.frame, cpu, mem, inst);
    }
    fn after(&mut self, cpu: &Cpu, mem: &Memory, inst: &Inst) {
        self.sink.after(&self.frame, cpu, mem, inst);
    }
}

/// One contract call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The contract called.
    pub address: Address,
    /// Its immediate caller.
    pub caller: Address,
    /// Value sent with the call.
    pub value: u128,
    /// Nesting depth, 1 for the transaction's own call.
    pub depth: u64,
}

/// How a frame ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameStatus {
    /// Success; its changes are kept.
    Success,
    /// The contract reverted.
    Reverted,
    /// A trap, or the runtime refused the call (`kind`: trap kind or
    /// `no_contract`, `insufficient_balance`, `load_error`, `call_depth`).
    Failed {
        /// A short stable name.
        kind: String,
        /// A readable explanation.
        message: String,
    },
}

/// The result of [`run_frame`].
#[derive(Clone, Debug)]
pub struct FrameResult {
    /// How it ended.
    pub status: FrameStatus,
    /// Gas used, nested calls included.
    pub gas_used: u64,
    /// Output (success) or revert data (reverted); empty on failure.
    pub output: Vec<u8>,
    /// The code that ran, if any.
    pub code: Option<Arc<Code>>,
    /// The RIP of the trap, when the frame trapped.
    pub trap_rip: Option<u64>,
}

impl FrameResult {
    fn refused(kind: &str, message: String) -> Self {
        FrameResult {
            status: FrameStatus::Failed {
                kind: kind.into(),
                message,
            },
            gas_used: 0,
            output: Vec::new(),
            code: None,
            trap_rip: None,
        }
    }
}

/// Loads the code deployed at `address`.
fn code_at(tx: &mut Tx<'_>, address: &Address) -> Result<Option<Arc<Code>>, String> {
    let Some(hash) = tx.state.code_hash(address).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    if let Some(c) = tx.codes.get(&hash) {
        return Ok(Some(c.clone()));
    }
    let bytes = tx
        .state
        .code(&hash)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("code {} is missing from the state", crate::hex(&hash)))?;
    tx.codes
        .load(&hash, &bytes)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// Runs `frame` with `input` and at most `gas`: moves the value, runs the
/// contract's entry point in an instance of its own (a reused one from
/// `tx.codes` when there is one: see [`crate::code`]; the result is the same),
/// and keeps its state changes and events only if it succeeds.
pub fn run_frame(tx: &mut Tx<'_>, frame: Frame, input: &[u8], gas: u64) -> FrameResult {
    let Some(calls) = tx.extras.calls.as_deref_mut() else {
        return run_frame_inner(tx, frame, input, gas);
    };
    let index = calls.len();
    calls.push(CallRecord {
        frame,
        input: input.to_vec(),
        gas_limit: gas,
        gas_used: 0,
        status: FrameStatus::Success,
        output: Vec::new(),
        trap_rip: None,
        code_hash: None,
    });
    let r = run_frame_inner(tx, frame, input, gas);
    let calls = tx.extras.calls.as_deref_mut();
    if let Some(rec) = calls.and_then(|c| c.get_mut(index)) {
        rec.gas_used = r.gas_used;
        rec.status = r.status.clone();
        rec.output = r.output.clone();
        rec.trap_rip = r.trap_rip;
        rec.code_hash = r.code.as_ref().map(|c| c.hash);
    }
    r
}

fn run_frame_inner(tx: &mut Tx<'_>, frame: Frame, input: &[u8], gas: u64) -> FrameResult {
    if frame.depth > limits::MAX_CALL_DEPTH {
        return FrameResult::refused(
            "call_depth",
            format!("call depth limit of {} reached", limits::MAX_CALL_DEPTH),
        );
    }
    let code = match code_at(tx, &frame.address) {
        Ok(Some(c)) => c,
        Ok(None) => {
            return FrameResult::refused(
                "no_contract",
                format!("no contract at {}", crate::hex(&frame.address)),
            );
        }
        Err(m) => return FrameResult::refused("load_error", m),
    };
    let cp = tx.state.checkpoint();
    let events_before = tx.events.len();
    if frame.value > 0 {
        if tx.read_only {
            return FrameResult::refused(
                "host_error",
                "a read-only query cannot send value".into(),
            );
        }
        match tx
            .state
            .transfer(&frame.caller, &frame.address, frame.value)
        {
            Ok(true) => {}
            Ok(false) => {
                tx.state.revert(cp);
                return FrameResult::refused(
                    "insufficient_balance",
                    format!(
                        "{} cannot send {} (balance {})",
                        crate::hex(&frame.caller),
                        frame.value,
                        tx.state.balance(&frame.caller).unwrap_or(0)
                    ),
                );
            }
            Err(e) => {
                tx.state.revert(cp);
                return FrameResult::refused("host_error", e.to_string());
            }
        }
    }
    let config = Config {
        gas_limit: gas,
        ..tx.config.clone()
    };
    // An idle instance of this code (reset), or a new one; given back below.
    let mut inst = match tx.codes.instance(&code, &config, input) {
        Ok(inst) => inst,
        Err(e) => {
            tx.state.revert(cp);
            return FrameResult::refused("load_error", e.to_string());
        }
    };
    let outcome = match inst.prepare_call(code.image.entry, &[]) {
        Ok(()) => {
            let steps = tx.extras.steps;
            let mut host = ContractHost {
                tx: &mut *tx,
                frame,
                return_data: Vec::new(),
            };
            match steps {
                None => inst.run(&mut host),
                Some(sink) => {
                    sink.enter(&frame, &code);
                    let mut tracer = SinkTracer { sink, frame };
                    let out = inst.run_with(&mut host, &mut tracer);
                    let status = match &out.status {
                        Status::Success => FrameStatus::Success,
                        Status::Reverted => FrameStatus::Reverted,
                        Status::Trapped(r) => FrameStatus::Failed {
                            kind: r.trap.kind().into(),
                            message: r.to_string(),
                        },
                    };
                    sink.exit(&frame, &status, out.gas_used);
                    out
                }
            }
        }
        Err(t) => {
            tx.codes.recycle(&code.hash, inst);
            tx.state.revert(cp);
            return FrameResult::refused(t.kind(), t.to_string());
        }
    };
    tx.codes.recycle(&code.hash, inst);
    tx.debug.extend_from_slice(&outcome.debug);
    // A contract's output is exactly what it set (a function without a return
    // type outputs nothing): the VM's RAX fallback does not apply to contracts.
    let Outcome {
        status,
        gas_used,
        output,
        output_set,
        ..
    } = outcome;
    let output = if output_set { output } else { Vec::new() };
    let trap_rip = match &status {
        Status::Trapped(report) => Some(report.rip),
        _ => None,
    };
    let status = match status {
        Status::Success => FrameStatus::Success,
        Status::Reverted => FrameStatus::Reverted,
        Status::Trapped(report) => FrameStatus::Failed {
            kind: report.trap.kind().into(),
            message: report.to_string(),
        },
    };
    let output = if status == FrameStatus::Success {
        tx.state.commit(cp);
        output
    } else {
        tx.state.revert(cp);
        tx.events.truncate(events_before);
        if status == FrameStatus::Reverted {
            output
        } else {
            Vec::new()
        }
    };
    FrameResult {
        status,
        gas_used,
        output,
        code: Some(code),
        trap_rip,
    }
}

/// Serves the chain services for one frame.
pub struct ContractHost<'t, 's> {
    tx: &'t mut Tx<'s>,
    frame: Frame,
    return_data: Vec<u8>,
}

fn state_err(e: StateError) -> Trap {
    Trap::HostError(e.to_string())
}

fn too_big(what: &str, len: u64, max: u64) -> Trap {
    Trap::LimitExceeded(format!("{what} of {len} bytes exceeds the limit of {max}"))
}

fn read_array<const N: usize>(env: &mut Env<'_>, ptr: u64) -> Result<[u8; N], Trap> {
    let v = env.read(ptr, N as u64)?;
    let mut a = [0u8; N];
    a.copy_from_slice(
        v.get(..N)
            .ok_or_else(|| Trap::HostError("short read".into()))?,
    );
    Ok(a)
}

impl ContractHost<'_, '_> {
    fn writable(&self, what: &str) -> Result<(), Trap> {
        if self.tx.read_only {
            return Err(Trap::HostError(format!(
                "{what} is not allowed in a read-only query"
            )));
        }
        Ok(())
    }

    fn key(&self, env: &mut Env<'_>, ptr: u64, len: u64) -> Result<Vec<u8>, Trap> {
        if len > limits::MAX_KEY {
            return Err(too_big("storage key", len, limits::MAX_KEY));
        }
        env.read(ptr, len)
    }

    fn storage_read(&mut self, env: &mut Env<'_>) -> Result<(), Trap> {
        let (kp, kl, dst, cap) = (env.arg(0), env.arg(1), env.arg(2), env.arg(3));
        env.charge(gas::linear(
            gas::STORAGE_READ,
            gas::STORAGE_READ_PER_BYTE,
            kl,
        ))?;
        let key = self.key(env, kp, kl)?;
        let value = self
            .tx
            .state
            .storage(&self.frame.address, &key)
            .map_err(state_err)?;
        match value {
            None => env.set_result(u64::MAX),
            Some(v) => {
                let len = v.len() as u64;
                env.charge(gas::STORAGE_READ_PER_BYTE.saturating_mul(len))?;
                let n = v.len().min(usize::try_from(cap).unwrap_or(usize::MAX));
                if n > 0 {
                    env.write(dst, &v[..n])?;
                }
                env.set_result(len);
            }
        }
        Ok(())
    }

    fn storage_write(&mut self, env: &mut Env<'_>) -> Result<(), Trap> {
        self.writable("storage_write")?;
        let (kp, kl, vp, vl) = (env.arg(0), env.arg(1), env.arg(2), env.arg(3));
        if vl > limits::MAX_VALUE {
            return Err(too_big("storage value", vl, limits::MAX_VALUE));
        }
        if kl > limits::MAX_KEY {
            return Err(too_big("storage key", kl, limits::MAX_KEY));
        }
        env.charge(gas::linear(
            gas::STORAGE_WRITE,
            gas::STORAGE_WRITE_PER_BYTE,
            kl + vl,
        ))?;
        let key = self.key(env, kp, kl)?;
        let value = env.read(vp, vl)?;
        self.tx
            .state
            .set_storage(&self.frame.address, &key, Some(value));
        env.set_result(0);
        Ok(())
    }

    fn storage_remove(&mut self, env: &mut Env<'_>) -> Result<(), Trap> {
        self.writable("storage_remove")?;
        let (kp, kl) = (env.arg(0), env.arg(1));
        if kl > limits::MAX_KEY {
            return Err(too_big("storage key", kl, limits::MAX_KEY));
        }
        env.charge(gas::linear(
            gas::STORAGE_REMOVE,
            gas::STORAGE_REMOVE_PER_BYTE,
            kl,
        ))?;
        let key = self.key(env, kp, kl)?;
        let existed = self
            .tx
            .state
            .storage(&self.frame.address, &key)
            .map_err(state_err)?
            .is_some();
        if existed {
            self.tx.state.set_storage(&self.frame.address, &key, None);
        }
        env.set_result(u64::from(existed));
        Ok(())
    }

    fn emit_event(&mut self, env: &mut Env<'_>) -> Result<(), Trap> {
        self.writable("emit_event")?;
        let (tp, dp, dl) = (env.arg(0), env.arg(1), env.arg(2));
        if dl > limits::MAX_EVENT_DATA {
            return Err(too_big("event data", dl, limits::MAX_EVENT_DATA));
        }
        if self.tx.events.len() as u64 >= limits::MAX_EVENTS {
            return Err(Trap::LimitExceeded(format!(
                "more than {} events in one transaction",
                limits::MAX_EVENTS
            )));
        }
        env.charge(gas::linear(gas::EMIT_EVENT, gas::EMIT_EVENT_PER_BYTE, dl))?;
        let topic = read_array::<32>(env, tp)?;
        let data = env.read(dp, dl)?;
        self.tx.events.push(RawEvent {
            address: self.frame.address,
            topic,
            data,
        });
        env.set_result(0);
        Ok(())
    }

    fn transfer(&mut self, env: &mut Env<'_>) -> Result<(), Trap> {
        self.writable("transfer")?;
        env.charge(gas::TRANSFER)?;
        let to = read_array::<32>(env, env.arg(0))?;
        let amount = u128::from_le_bytes(read_array::<16>(env, env.arg(1))?);
        let ok = self
            .tx
            .state
            .transfer(&self.frame.address, &to, amount)
            .map_err(state_err)?;
        env.set_result(if ok { 0 } else { 1 });
        Ok(())
    }

    fn call(&mut self, env: &mut Env<'_>) -> Result<(), Trap> {
        let (ap, ip, il, vp, cap) = (env.arg(0), env.arg(1), env.arg(2), env.arg(3), env.arg(4));
        if il > limits::MAX_CALL_INPUT {
            return Err(too_big("call input", il, limits::MAX_CALL_INPUT));
        }
        env.charge(gas::linear(gas::CALL, gas::CALL_PER_BYTE, il))?;
        let to = read_array::<32>(env, ap)?;
        let input = env.read(ip, il)?;
        let value = if vp == 0 {
            0
        } else {
            u128::from_le_bytes(read_array::<16>(env, vp)?)
        };
        if value > 0 {
            self.writable("a call with value")?;
            env.charge(gas::CALL_VALUE)?;
        }
        let avail = env.gas_left();
        let gas = if cap == 0 { avail } else { cap.min(avail) };
        let child = Frame {
            address: to,
            caller: self.frame.address,
            value,
            depth: self.frame.depth + 1,
        };
        let r = run_frame(self.tx, child, input.as_slice(), gas);
        env.charge(r.gas_used)?;
        let (status, data) = match r.status {
            FrameStatus::Success => (0, r.output),
            FrameStatus::Reverted => (1, r.output),
            FrameStatus::Failed { message, .. } => (2, message.into_bytes()),
        };
        self.return_data = data;
        env.set_result(status);
        Ok(())
    }
}

impl Host for ContractHost<'_, '_> {
    fn interrupt(&mut self, number: u8, env: &mut Env<'_>) -> Result<Flow, Trap> {
        match number {
            abi::STORAGE_READ => self.storage_read(env)?,
            abi::STORAGE_WRITE => self.storage_write(env)?,
            abi::STORAGE_REMOVE => self.storage_remove(env)?,
            abi::EMIT_EVENT => self.emit_event(env)?,
            abi::CALLER | abi::ORIGIN | abi::SELF_ADDRESS => {
                env.charge(gas::CONTEXT)?;
                let a = match number {
                    abi::CALLER => self.frame.caller,
                    abi::ORIGIN => self.tx.origin,
                    _ => self.frame.address,
                };
                env.write(env.arg(0), &a)?;
                env.set_result(0);
            }
            abi::VALUE => {
                env.charge(gas::CONTEXT)?;
                env.write(env.arg(0), &self.frame.value.to_le_bytes())?;
                env.set_result(0);
            }
            abi::BLOCK_NUMBER => {
                env.charge(gas::CONTEXT)?;
                env.set_result(self.tx.block.number);
            }
            abi::TIMESTAMP => {
                env.charge(gas::CONTEXT)?;
                env.set_result(self.tx.block.timestamp);
            }
            abi::BLOCK_HASH => {
                env.charge(gas::BLOCK_HASH)?;
                let n = env.arg(0);
                let current = self.tx.block.number;
                if n < current && current - n <= 256 {
                    let h = match self.tx.extras.block_hash {
                        Some(f) => f(n).unwrap_or_else(|| block_hash(n)),
                        None => block_hash(n),
                    };
                    env.write(env.arg(1), &h)?;
                    env.set_result(1);
                } else {
                    env.set_result(0);
                }
            }
            abi::BALANCE => {
                env.charge(gas::BALANCE)?;
                let a = read_array::<32>(env, env.arg(0))?;
                let b = self.tx.state.balance(&a).map_err(state_err)?;
                env.write(env.arg(1), &b.to_le_bytes())?;
                env.set_result(0);
            }
            abi::TRANSFER => self.transfer(env)?,
            abi::CALL => self.call(env)?,
            abi::RETURN_DATA_LEN => {
                env.charge(gas::RETURN_DATA)?;
                env.set_result(self.return_data.len() as u64);
            }
            abi::RETURN_DATA_READ => {
                env.charge(gas::RETURN_DATA)?;
                let (dst, off, len) = (env.arg(0), env.arg(1), env.arg(2));
                let avail = (self.return_data.len() as u64).saturating_sub(off);
                let n = len.min(avail);
                if n > 0 {
                    // off < len(return_data) here, so both fit in usize.
                    let start = off as usize;
                    let bytes = self
                        .return_data
                        .get(start..start + n as usize)
                        .unwrap_or_default()
                        .to_vec();
                    env.write(dst, &bytes)?;
                }
                env.set_result(n);
            }
            abi::SHA256 | abi::KECCAK256 => {
                let (p, l, dst) = (env.arg(0), env.arg(1), env.arg(2));
                let cost = if number == abi::SHA256 {
                    gas::SHA256.saturating_add(gas::per_block(l, 64, gas::SHA256_PER_BLOCK))
                } else {
                    gas::KECCAK256.saturating_add(gas::per_block(l, 136, gas::KECCAK256_PER_BLOCK))
                };
                env.charge(cost)?;
                let data = env.read(p, l)?;
                let h = if number == abi::SHA256 {
                    crate::crypto::sha256(&data)
                } else {
                    crate::crypto::keccak256(&data)
                };
                env.write(dst, &h)?;
                env.set_result(0);
            }
            abi::SECP256K1_RECOVER => {
                env.charge(gas::SECP256K1_RECOVER)?;
                let hash = read_array::<32>(env, env.arg(0))?;
                let sig = read_array::<65>(env, env.arg(1))?;
                match crate::crypto::secp256k1_recover(&hash, &sig) {
                    Some(key) => {
                        env.write(env.arg(2), &key)?;
                        env.set_result(0);
                    }
                    None => env.set_result(1),
                }
            }
            abi::ED25519_VERIFY => {
                let l = env.arg(3);
                env.charge(gas::ED25519_VERIFY.saturating_add(gas::per_block(
                    l,
                    128,
                    gas::ED25519_VERIFY_PER_BLOCK,
                )))?;
                let key = read_array::<32>(env, env.arg(0))?;
                let sig = read_array::<64>(env, env.arg(1))?;
                let msg = env.read(env.arg(2), l)?;
                let ok = crate::crypto::ed25519_verify(&key, &sig, &msg);
                env.set_result(u64::from(ok));
            }
            _ => {
                return Err(Trap::InvalidHostCall {
                    number,
                    reason: "no such service".into(),
                });
            }
        }
        Ok(Flow::Continue)
    }
}
