//! The wasmi peer: bench/c/kernels.c compiled to wasm32 by clang (build.rs), run
//! in wasmi in-process.

use wasmi::{CompilationMode, Config, Engine, Instance, Linker, Module, Store, TypedFunc};

/// The module as build.rs made it: empty when clang or wasm-ld were missing.
pub const KERNELS_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/kernels.wasm"));
/// Why the module is empty (empty when it is not).
const WHY_MISSING: &str = include_str!(concat!(env!("OUT_DIR"), "/kernels.wasm.why"));

/// The kernels module, validated and translated to wasmi's internal code once.
pub struct Kernels {
    engine: Engine,
    module: Module,
    linker: Linker<()>,
    fuel: bool,
}

/// One instance (its own linear memory) and its store.
pub struct KernelInstance {
    store: Store<()>,
    instance: Instance,
}

impl Kernels {
    /// Loads the embedded module. With `fuel`, wasmi meters execution (its
    /// counterpart of gas), with a limit no kernel reaches.
    ///
    /// # Errors
    /// Why the module is missing (no clang) or failed to load.
    pub fn load(fuel: bool) -> Result<Self, String> {
        if KERNELS_WASM.is_empty() {
            return Err(format!("no wasm build ({})", WHY_MISSING.trim()));
        }
        // Translate every function up front (outside the timed region), not on
        // its first call.
        let engine = engine(fuel);
        let module = Module::new(&engine, KERNELS_WASM).map_err(|e| e.to_string())?;
        let linker = Linker::new(&engine);
        Ok(Kernels {
            engine,
            module,
            linker,
            fuel,
        })
    }

    /// A fresh instance (new store, new linear memory with the data segments).
    ///
    /// # Errors
    /// wasmi's instantiation error.
    pub fn instantiate(&self) -> Result<KernelInstance, String> {
        let mut store = Store::new(&self.engine, ());
        if self.fuel {
            store.set_fuel(u64::MAX).map_err(|e| e.to_string())?;
        }
        let instance = self
            .linker
            .instantiate_and_start(&mut store, &self.module)
            .map_err(|e| e.to_string())?;
        Ok(KernelInstance { store, instance })
    }
}

/// An engine for compiling modules the way [`Kernels::load`] does (eager
/// translation, fuel as `fuel` says).
pub fn engine(fuel: bool) -> Engine {
    let mut config = Config::default();
    config.compilation_mode(CompilationMode::Eager);
    config.consume_fuel(fuel);
    Engine::new(&config)
}

/// Validates and translates `wasm` (`Module::new`); the number of exports.
///
/// # Errors
/// wasmi's error, for a module that does not validate.
pub fn compile(engine: &Engine, wasm: &[u8]) -> Result<u64, String> {
    let module = Module::new(engine, wasm).map_err(|e| e.to_string())?;
    Ok(module.exports().count() as u64)
}

/// Compiles and instantiates `wasm` (on an engine made by [`engine`] with the
/// same `fuel`), then calls its `(i64) -> i64` export `name`.
///
/// # Errors
/// wasmi's error or trap.
pub fn call_once(
    engine: &Engine,
    fuel: bool,
    wasm: &[u8],
    name: &str,
    arg: u64,
) -> Result<u64, String> {
    let module = Module::new(engine, wasm).map_err(|e| e.to_string())?;
    let mut store = Store::new(engine, ());
    if fuel {
        store.set_fuel(u64::MAX).map_err(|e| e.to_string())?;
    }
    let instance = Linker::<()>::new(engine)
        .instantiate_and_start(&mut store, &module)
        .map_err(|e| e.to_string())?;
    let f = instance
        .get_typed_func::<i64, i64>(&store, name)
        .map_err(|e| e.to_string())?;
    f.call(&mut store, arg as i64)
        .map(|r| r as u64)
        .map_err(|e| e.to_string())
}

impl KernelInstance {
    /// The exported kernel `name`, as a `u64 -> u64` function.
    ///
    /// # Errors
    /// When there is no such export, or it has another type.
    pub fn kernel(&self, name: &str) -> Result<TypedFunc<i64, i64>, String> {
        self.instance
            .get_typed_func::<i64, i64>(&self.store, name)
            .map_err(|e| e.to_string())
    }

    /// Calls `f` (from [`Self::kernel`]) with `arg`.
    ///
    /// # Errors
    /// The trap, if the call traps.
    pub fn call(&mut self, f: &TypedFunc<i64, i64>, arg: u64) -> Result<u64, String> {
        f.call(&mut self.store, arg as i64)
            .map(|r| r as u64)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_run_when_built() {
        let Ok(k) = Kernels::load(true) else {
            // No clang at build time: the bench prints n/a, nothing to test.
            return;
        };
        let mut inst = k.instantiate().expect("instantiates");
        let fib = inst.kernel("bench_fib").expect("exported");
        assert_eq!(inst.call(&fib, 20), Ok(6765));
        let sieve = inst.kernel("bench_sieve").expect("exported");
        assert_eq!(inst.call(&sieve, 1000), Ok(168));
        assert!(
            inst.kernel("quicksort").is_err(),
            "only the kernels are exported"
        );
    }
}
