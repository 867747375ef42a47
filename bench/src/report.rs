//! The results: one row per case, one cell per engine; printed as a table and,
//! with `--json`, written as JSON.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::Options;
use crate::measure::{Budget, Measured};

/// The engines (and ways of calling them) measured on each case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// The C function compiled by gcc -O2, called directly.
    Native,
    /// The same compiled by clang -O2 (the wasm build's compiler), for reference.
    NativeClang,
    /// x64vm: new instance + call.
    X64vm,
    /// x64vm: the call alone, on a reused instance.
    X64vmCall,
    /// wasmi: new store and instance + call.
    Wasmi,
    /// wasmi: the call alone, on a reused instance.
    WasmiCall,
    /// revm: the seed's `this.fib` contract, one transaction.
    RevmExternal,
    /// revm: `fib` with internal calls, one transaction.
    RevmInternal,
}

impl Column {
    const ALL: [Column; 8] = [
        Column::Native,
        Column::NativeClang,
        Column::X64vm,
        Column::X64vmCall,
        Column::Wasmi,
        Column::WasmiCall,
        Column::RevmExternal,
        Column::RevmInternal,
    ];

    /// The key in the JSON output.
    fn key(self) -> &'static str {
        match self {
            Column::Native => "native",
            Column::NativeClang => "native_clang",
            Column::X64vm => "x64vm",
            Column::X64vmCall => "x64vm_call",
            Column::Wasmi => "wasmi",
            Column::WasmiCall => "wasmi_call",
            Column::RevmExternal => "revm_this_fib",
            Column::RevmInternal => "revm_internal",
        }
    }

    /// The header in the table.
    fn title(self) -> &'static str {
        match self {
            Column::Native => "native",
            Column::NativeClang => "native clang",
            Column::X64vm => "x64vm",
            Column::X64vmCall => "x64vm call",
            Column::Wasmi => "wasmi",
            Column::WasmiCall => "wasmi call",
            Column::RevmExternal => "revm this.fib",
            Column::RevmInternal => "revm internal",
        }
    }
}

/// One engine on one case.
#[derive(Clone, Debug, Default)]
pub enum Cell {
    /// Measured, with the same result as native code.
    Ok(Measured),
    /// The engine failed (a trap, an error); the message.
    Failed(String),
    /// The engine is not available in this build; why.
    Unavailable(String),
    /// Not run: not applicable to this kernel, or left out of `--quick`.
    #[default]
    Skipped,
    /// The engine computed another result than native code.
    Wrong {
        /// The engine's result.
        got: u64,
        /// Native code's result.
        want: u64,
    },
}

impl Cell {
    fn ok(&self) -> Option<&Measured> {
        match self {
            Cell::Ok(m) => Some(m),
            _ => None,
        }
    }
}

/// One case: its cells and what else was learnt running it.
#[derive(Debug)]
pub struct Row {
    name: String,
    symbol: &'static str,
    arg: u64,
    /// Indexed like [`Column::ALL`].
    pub cells: [Cell; 8],
    /// Guest instructions retired by one x64vm call.
    pub vm_instructions: Option<u64>,
    /// Gas used by one revm transaction: external, internal variant.
    pub revm_gas: [Option<u64>; 2],
}

impl Row {
    /// A row with every cell skipped.
    pub fn new(name: &str, symbol: &'static str, arg: u64) -> Self {
        Row {
            name: name.into(),
            symbol,
            arg,
            cells: Default::default(),
            vm_instructions: None,
            revm_gas: [None; 2],
        }
    }

    /// Sets the cell of `col`.
    pub fn set(&mut self, col: Column, cell: Cell) {
        self.cells[col as usize] = cell;
    }

    fn get(&self, col: Column) -> &Cell {
        &self.cells[col as usize]
    }

    /// `a / b` of minimums and of medians, when both cells were measured.
    fn ratio(&self, a: Column, b: Column) -> Option<(f64, f64)> {
        let (a, b) = (self.get(a).ok()?, self.get(b).ok()?);
        let r = |x: Duration, y: Duration| x.as_secs_f64() / y.as_secs_f64().max(1e-12);
        Some((r(a.min, b.min), r(a.median, b.median)))
    }
}

/// What the run was and where.
pub struct Meta {
    date: String,
    cpu: String,
    quick: bool,
    wasmi_fuel: bool,
    budget: Budget,
    /// Creating (and dropping) an instance of the kernels: x64vm, wasmi.
    pub instantiate: [Cell; 2],
}

impl Meta {
    /// Today's date, the CPU model and the options of the run.
    pub fn collect(opts: &Options, budget: Budget) -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        Meta {
            date: today(),
            cpu,
            quick: opts.quick,
            wasmi_fuel: opts.wasmi_fuel,
            budget,
            instantiate: Default::default(),
        }
    }

    fn versions(&self) -> [(&'static str, &'static str); 6] {
        [
            ("x64vm", env!("CARGO_PKG_VERSION")),
            ("wasmi", env!("BENCH_WASMI_VERSION")),
            ("revm", env!("BENCH_REVM_VERSION")),
            ("solc", env!("BENCH_SOLC_VERSION")),
            ("gcc", env!("BENCH_GCC_VERSION")),
            ("clang", env!("BENCH_CLANG_VERSION")),
        ]
    }
}

/// The current UTC date as YYYY-MM-DD.
fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    civil_date(secs / 86_400)
}

/// The date `days` after 1970-01-01 as YYYY-MM-DD (proleptic Gregorian calendar).
fn civil_date(days: u64) -> String {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// A duration with three significant digits and a unit.
fn dur(d: Duration) -> String {
    let ns = d.as_secs_f64() * 1e9;
    let (v, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    let digits = if v < 10.0 {
        2
    } else if v < 100.0 {
        1
    } else {
        0
    };
    format!("{v:.digits$}{unit}")
}

/// A ratio with about three significant digits.
fn times(r: f64) -> String {
    if r < 10.0 {
        format!("{r:.2}x")
    } else if r < 100.0 {
        format!("{r:.1}x")
    } else {
        format!("{r:.0}x")
    }
}

/// Numbered notes for cells that failed, one per distinct message.
#[derive(Default)]
struct Notes(Vec<String>);

impl Notes {
    fn mark(&mut self, msg: String) -> usize {
        if let Some(i) = self.0.iter().position(|m| *m == msg) {
            return i + 1;
        }
        self.0.push(msg);
        self.0.len()
    }

    /// What to print instead of a number for `cell` (None when it was measured).
    fn marker(&mut self, who: Column, bench: &str, cell: &Cell) -> Option<String> {
        self.marker_named(who.title(), bench, cell, "native")
    }

    /// As [`Notes::marker`], for an engine named `who`; `reference` names where a
    /// wrong result's expected value came from.
    fn marker_named(
        &mut self,
        who: &str,
        bench: &str,
        cell: &Cell,
        reference: &str,
    ) -> Option<String> {
        match cell {
            Cell::Ok(_) => None,
            Cell::Skipped => Some("-".into()),
            Cell::Unavailable(why) => {
                let n = self.mark(why.clone());
                Some(format!("n/a [{n}]"))
            }
            Cell::Failed(e) => {
                let n = self.mark(format!("{who} {bench}: {e}"));
                Some(format!("failed [{n}]"))
            }
            Cell::Wrong { got, want } => {
                let n = self.mark(format!(
                    "{who} {bench}: result {got:#x}, {reference} {want:#x}"
                ));
                Some(format!("WRONG [{n}]"))
            }
        }
    }
}

/// The human-readable report.
pub fn table(meta: &Meta, rows: &[Row], extras: &Extras) -> String {
    let mut s = String::new();
    let mut notes = Notes::default();
    let versions: Vec<String> = meta
        .versions()
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(
        s,
        "x64vm-bench {}{} on {}\n{}\nup to {} samples per cell (min 3, {} s budget); wasmi fuel metering {}",
        meta.date,
        if meta.quick { " --quick" } else { "" },
        meta.cpu,
        versions.join(", "),
        meta.budget.runs,
        meta.budget.max_time.as_secs_f64(),
        if meta.wasmi_fuel { "on" } else { "off" },
    );

    let w0 = rows.iter().map(|r| r.name.len()).max().unwrap_or(5).max(5) + 2;
    let main = [
        Column::Native,
        Column::X64vm,
        Column::Wasmi,
        Column::RevmExternal,
        Column::RevmInternal,
    ];
    let _ = writeln!(
        s,
        "\nTime per call, minimum / median (x64vm and wasmi: new instance + call)"
    );
    let _ = write!(s, "{:<w0$}", "bench");
    for c in main {
        let _ = write!(s, "{:>19}", c.title());
    }
    s.push('\n');
    for r in rows {
        let _ = write!(s, "{:<w0$}", r.name);
        for c in main {
            let cell = r.get(c);
            let text = notes.marker(c, &r.name, cell).unwrap_or_else(|| {
                let m = cell.ok().expect("measured");
                format!("{} / {}", dur(m.min), dur(m.median))
            });
            let _ = write!(s, "{text:>19}");
        }
        s.push('\n');
    }

    let ratios: [(&str, Column, Column); 6] = [
        ("x64vm/native", Column::X64vm, Column::Native),
        ("wasmi/native", Column::Wasmi, Column::Native),
        ("revm this/nat", Column::RevmExternal, Column::Native),
        ("revm int/nat", Column::RevmInternal, Column::Native),
        ("revm this/x64vm", Column::RevmExternal, Column::X64vm),
        ("revm int/x64vm", Column::RevmInternal, Column::X64vm),
    ];
    let _ = writeln!(
        s,
        "\nRatios of minimums (of medians); revm/x64vm is how many times faster x64vm is"
    );
    let _ = write!(s, "{:<w0$}", "bench");
    for (t, _, _) in ratios {
        let _ = write!(s, "{t:>17}");
    }
    s.push('\n');
    for r in rows {
        let _ = write!(s, "{:<w0$}", r.name);
        for (_, a, b) in ratios {
            let text = match r.ratio(a, b) {
                Some((min, med)) => format!("{} ({})", times(min), times(med)),
                None => notes
                    .marker(a, &r.name, r.get(a))
                    .or_else(|| notes.marker(b, &r.name, r.get(b)))
                    .unwrap_or_default(),
            };
            let _ = write!(s, "{text:>17}");
        }
        s.push('\n');
    }

    let _ = write!(
        s,
        "\nInstantiation alone (new instance, then drop), minimum / median:"
    );
    for (c, cell) in [Column::X64vm, Column::Wasmi]
        .into_iter()
        .zip(&meta.instantiate)
    {
        let text = notes.marker(c, "instantiate", cell).unwrap_or_else(|| {
            let m = cell.ok().expect("measured");
            format!("{} / {}", dur(m.min), dur(m.median))
        });
        let _ = write!(s, " {} {text};", c.title());
    }
    s.pop();
    s.push('\n');

    let _ = writeln!(
        s,
        "\nThe call alone on a reused instance (minimum), and native clang -O2 (the wasm compiler)"
    );
    let _ = writeln!(
        s,
        "{:<w0$}{:>13}{:>10}{:>13}{:>10}{:>15}{:>11}{:>13}",
        "bench",
        "x64vm call",
        "/native",
        "wasmi call",
        "/native",
        "native clang",
        "clang/gcc",
        "wasmi/clang"
    );
    for r in rows {
        let mut time = |c: Column| {
            notes
                .marker(c, &r.name, r.get(c))
                .unwrap_or_else(|| dur(r.get(c).ok().expect("measured").min))
        };
        let (vm, wasmi, clang) = (
            time(Column::X64vmCall),
            time(Column::WasmiCall),
            time(Column::NativeClang),
        );
        let ratio = |a, b| {
            r.ratio(a, b)
                .map(|(m, _)| times(m))
                .unwrap_or_else(|| "-".into())
        };
        let _ = writeln!(
            s,
            "{:<w0$}{vm:>13}{:>10}{wasmi:>13}{:>10}{clang:>15}{:>11}{:>13}",
            r.name,
            ratio(Column::X64vmCall, Column::Native),
            ratio(Column::WasmiCall, Column::Native),
            ratio(Column::NativeClang, Column::Native),
            ratio(Column::WasmiCall, Column::NativeClang),
        );
    }

    let _ = writeln!(
        s,
        "\nWork per call: x64vm guest instructions (and per second, call alone); revm gas"
    );
    let _ = writeln!(
        s,
        "{:<w0$}{:>15}{:>12}{:>15}{:>15}",
        "bench", "guest instrs", "Minstr/s", "gas this.fib", "gas internal"
    );
    for r in rows {
        let instrs = r.vm_instructions.map_or("-".into(), |n| n.to_string());
        let mips = match (r.vm_instructions, r.get(Column::X64vmCall).ok()) {
            (Some(n), Some(m)) => {
                let v = n as f64 / m.min.as_secs_f64() / 1e6;
                if v < 10.0 {
                    format!("{v:.2}")
                } else {
                    format!("{v:.0}")
                }
            }
            _ => "-".into(),
        };
        let gas = |g: Option<u64>| g.map_or("-".into(), |g| g.to_string());
        let _ = writeln!(
            s,
            "{:<w0$}{instrs:>15}{mips:>12}{:>15}{:>15}",
            r.name,
            gas(r.revm_gas[0]),
            gas(r.revm_gas[1]),
        );
    }
    extras_table(&mut s, &mut notes, extras);
    if !notes.0.is_empty() {
        s.push('\n');
        for (i, n) in notes.0.iter().enumerate() {
            let _ = writeln!(s, "[{}] {n}", i + 1);
        }
    }
    s
}

/// `s` as a JSON string literal.
fn jstr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn jopt<T: ToString>(v: Option<T>) -> String {
    v.map_or("null".into(), |v| v.to_string())
}

fn jcell(cell: &Cell) -> String {
    match cell {
        Cell::Ok(m) => format!(
            "{{\"status\": \"ok\", \"min_ns\": {}, \"median_ns\": {}, \"samples\": {}, \"calls_per_sample\": {}, \"result\": {}}}",
            m.min.as_nanos(),
            m.median.as_nanos(),
            m.samples,
            m.reps,
            m.result
        ),
        Cell::Failed(e) => format!("{{\"status\": \"failed\", \"error\": {}}}", jstr(e)),
        Cell::Unavailable(e) => format!("{{\"status\": \"n/a\", \"error\": {}}}", jstr(e)),
        Cell::Skipped => "{\"status\": \"skipped\"}".into(),
        Cell::Wrong { got, want } => {
            format!("{{\"status\": \"wrong\", \"result\": {got}, \"expected\": {want}}}")
        }
    }
}

fn jratio(r: Option<(f64, f64)>) -> String {
    match r {
        Some((min, med)) => format!("{{\"min\": {min:.4}, \"median\": {med:.4}}}"),
        None => "null".into(),
    }
}

/// The report as JSON (times in nanoseconds per call, ratios of minimums and of
/// medians).
pub fn json(meta: &Meta, rows: &[Row], extras: &Extras) -> String {
    let mut s = String::from("{\n  \"meta\": {");
    let _ = write!(
        s,
        "\"date\": {}, \"cpu\": {}, \"quick\": {}, \"wasmi_fuel\": {}, \"max_samples\": {}, \"budget_s\": {}, ",
        jstr(&meta.date),
        jstr(&meta.cpu),
        meta.quick,
        meta.wasmi_fuel,
        meta.budget.runs,
        meta.budget.max_time.as_secs_f64()
    );
    let _ = write!(
        s,
        "\"instantiate\": {{\"x64vm\": {}, \"wasmi\": {}}}, \"versions\": {{",
        jcell(&meta.instantiate[0]),
        jcell(&meta.instantiate[1])
    );
    let versions: Vec<String> = meta
        .versions()
        .iter()
        .map(|(k, v)| format!("{}: {}", jstr(k), jstr(v)))
        .collect();
    let _ = write!(s, "{}}}}},\n  \"rows\": [", versions.join(", "));
    for (i, r) in rows.iter().enumerate() {
        let _ = write!(
            s,
            "{}\n    {{\"bench\": {}, \"kernel\": {}, \"arg\": {}, \"x64vm_instructions\": {}, \"revm_gas\": {{\"this_fib\": {}, \"internal\": {}}},\n     \"engines\": {{",
            if i > 0 { "," } else { "" },
            jstr(&r.name),
            jstr(r.symbol),
            r.arg,
            jopt(r.vm_instructions),
            jopt(r.revm_gas[0]),
            jopt(r.revm_gas[1]),
        );
        let cells: Vec<String> = Column::ALL
            .iter()
            .map(|&c| format!("\n       {}: {}", jstr(c.key()), jcell(r.get(c))))
            .collect();
        let _ = write!(s, "{}}},\n     \"ratio_to_native\": {{", cells.join(","));
        let ratios: Vec<String> = Column::ALL[1..]
            .iter()
            .map(|&c| format!("{}: {}", jstr(c.key()), jratio(r.ratio(c, Column::Native))))
            .collect();
        let _ = write!(
            s,
            "{}}},\n     \"x64vm_speedup_vs_revm\": {{\"this_fib\": {}, \"internal\": {}}}}}",
            ratios.join(", "),
            jratio(r.ratio(Column::RevmExternal, Column::X64vm)),
            jratio(r.ratio(Column::RevmInternal, Column::X64vm)),
        );
    }
    s.push_str("\n  ],\n");
    extras_json(&mut s, extras);
    s.push_str("}\n");
    s
}

/// Entering a cached contract: a trivial function (`bench_nop`) called on a reused
/// instance whose blocks are already decoded.
#[derive(Debug, Default)]
pub struct CachedCall {
    /// The function's argument (and expected result).
    pub arg: u64,
    /// The C function called directly.
    pub native: Cell,
    /// x64vm: `reset` + `prepare_call` + `run`.
    pub x64vm: Cell,
    /// x64vm: `prepare_call` + `run` (no reset).
    pub x64vm_no_reset: Cell,
    /// wasmi: the call on a reused instance.
    pub wasmi: Cell,
}

/// Loading and validating one program.
#[derive(Debug, Default)]
pub struct LoadRow {
    /// The program's name.
    pub name: String,
    /// Size of the ELF file.
    pub elf_bytes: u64,
    /// `x64vm::load_any` (parse and validate into an `Image`, then drop it).
    pub load: Cell,
    /// `load_any` + `Instance::new` (the checks and layout instantiation does).
    pub instantiate: Cell,
    /// Size of the wasm module of the same program (0 when there is none).
    pub wasm_bytes: u64,
    /// wasmi: `Module::new` (validation and eager translation).
    pub wasmi: Cell,
}

/// Whole-process startup.
#[derive(Debug, Default)]
pub struct Startup {
    /// The `x64vm` binary used, when found.
    pub binary: Option<String>,
    /// Each command line (after `x64vm `, file names without their folder) and
    /// the time to spawn it and wait for it.
    pub runs: Vec<(String, Cell)>,
    /// Spawning `/bin/true` and waiting for it: the process-spawn floor.
    pub floor: Cell,
}

/// The token-transfer loop: one committed transaction per transfer.
#[derive(Debug, Default)]
pub struct TokenLoop {
    /// Transfers per sample.
    pub transfers: u64,
    /// x64vm (examples/token/c through x64vm-runtime's TestChain), per transfer.
    pub x64vm: Cell,
    /// revm (bench/sol/Token.sol), per transfer.
    pub revm: Cell,
    /// Gas of one transfer (the last one, both balances already non-zero).
    pub x64vm_gas: Option<u64>,
    /// revm gas of one transfer (the last one), 21000 intrinsic gas included.
    pub revm_gas: Option<u64>,
}

/// The rows beside the kernels: cached call, load, startup, token transfers.
#[derive(Debug, Default)]
pub struct Extras {
    /// Cached call.
    pub cached_call: CachedCall,
    /// Load and validate, one row per program.
    pub load: Vec<LoadRow>,
    /// Startup.
    pub startup: Startup,
    /// Token transfers.
    pub token: TokenLoop,
}

impl Extras {
    /// Every cell, named, for the check that no result was wrong.
    pub fn cells(&self) -> Vec<&Cell> {
        let c = &self.cached_call;
        let mut v = vec![&c.native, &c.x64vm, &c.x64vm_no_reset, &c.wasmi];
        for l in &self.load {
            v.extend([&l.load, &l.instantiate, &l.wasmi]);
        }
        v.extend(self.startup.runs.iter().map(|(_, c)| c));
        v.push(&self.startup.floor);
        v.extend([&self.token.x64vm, &self.token.revm]);
        v
    }
}

/// `a / b` of minimums and of medians, when both cells were measured.
fn cell_ratio(a: &Cell, b: &Cell) -> Option<(f64, f64)> {
    let (a, b) = (a.ok()?, b.ok()?);
    let r = |x: Duration, y: Duration| x.as_secs_f64() / y.as_secs_f64().max(1e-12);
    Some((r(a.min, b.min), r(a.median, b.median)))
}

/// Megabytes (10^6 bytes) per second for `bytes` in the cell's minimum time.
fn mb_per_s(bytes: u64, cell: &Cell) -> Option<f64> {
    let m = cell.ok()?;
    Some(bytes as f64 / m.min.as_secs_f64().max(1e-12) / 1e6)
}

/// A throughput with about three significant digits.
fn rate(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// A size in bytes, KiB or MiB.
fn size(bytes: u64) -> String {
    if bytes < 1 << 10 {
        format!("{bytes} B")
    } else if bytes < 1 << 20 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.2} MiB", bytes as f64 / (1024.0 * 1024.0))
    }
}

/// The sections of the extra rows.
fn extras_table(s: &mut String, notes: &mut Notes, x: &Extras) {
    let minmed = |notes: &mut Notes, who: &str, bench: &str, cell: &Cell| {
        notes
            .marker_named(who, bench, cell, "expected")
            .unwrap_or_else(|| {
                let m = cell.ok().expect("measured");
                format!("{} / {}", dur(m.min), dur(m.median))
            })
    };

    let c = &x.cached_call;
    let _ = writeln!(
        s,
        "\nCached call: bench_nop({}) on a reused instance, blocks decoded (target < 1 µs)",
        c.arg
    );
    let _ = writeln!(
        s,
        "{:<34}{:>21}{:>17}",
        "engine", "minimum / median", "/native"
    );
    let lines: [(&str, &str, &Cell); 4] = [
        ("native", "the C function", &c.native),
        ("x64vm", "reset + prepare_call + run", &c.x64vm),
        ("x64vm no reset", "prepare_call + run", &c.x64vm_no_reset),
        ("wasmi call", "reused instance", &c.wasmi),
    ];
    for (who, what, cell) in lines {
        let text = minmed(notes, who, "cached call", cell);
        let ratio = match (who, cell_ratio(cell, &c.native)) {
            ("native", _) | (_, None) => "-".to_string(),
            (_, Some((min, med))) => format!("{} ({})", times(min), times(med)),
        };
        let _ = writeln!(s, "{:<34}{text:>21}{ratio:>17}", format!("{who} ({what})"));
    }

    let _ = writeln!(
        s,
        "\nLoad and validate (minimum / median; MB/s = file size / minimum): x64vm load_any, then\n\
         load_any + Instance::new; wasmi Module::new (validation + eager translation)"
    );
    let _ = writeln!(
        s,
        "{:<12}{:>11}{:>21}{:>8}{:>21}{:>8}{:>11}{:>21}{:>8}",
        "program",
        "ELF",
        "x64vm load",
        "MB/s",
        "load+instantiate",
        "MB/s",
        "wasm",
        "wasmi compile",
        "MB/s"
    );
    for l in &x.load {
        let mbs = |bytes, cell| mb_per_s(bytes, cell).map_or("-".into(), rate);
        let load = minmed(notes, "x64vm load", &l.name, &l.load);
        let inst = minmed(notes, "x64vm load+instantiate", &l.name, &l.instantiate);
        let wasmi = minmed(notes, "wasmi compile", &l.name, &l.wasmi);
        let wasm = if l.wasm_bytes > 0 {
            size(l.wasm_bytes)
        } else {
            "-".into()
        };
        let _ = writeln!(
            s,
            "{:<12}{:>11}{load:>21}{:>8}{inst:>21}{:>8}{wasm:>11}{wasmi:>21}{:>8}",
            l.name,
            size(l.elf_bytes),
            mbs(l.elf_bytes, &l.load),
            mbs(l.elf_bytes, &l.instantiate),
            mbs(l.wasm_bytes, &l.wasmi),
        );
    }

    let st = &x.startup;
    let _ = writeln!(
        s,
        "\nStartup: whole process, spawned and waited for (target < 5 ms), minimum / median\n\
         binary: {}",
        st.binary.as_deref().unwrap_or("not found")
    );
    let w = st
        .runs
        .iter()
        .map(|(c, _)| c.len() + 6)
        .max()
        .unwrap_or(0)
        .max(32)
        + 2;
    for (command, cell) in &st.runs {
        let text = match cell {
            Cell::Unavailable(_) => "n/a (build x64vm-cli first)".to_string(),
            cell => minmed(notes, "x64vm run", "startup", cell),
        };
        let _ = writeln!(s, "{:<w$}{text:>21}", format!("x64vm {command}"));
    }
    let floor = minmed(notes, "/bin/true", "startup", &st.floor);
    let _ = writeln!(s, "{:<w$}{floor:>21}", "/bin/true (process spawn floor)");

    let t = &x.token;
    let _ = writeln!(
        s,
        "\nToken transfers: {} per sample, each a committed transaction (alice -> bob, amount 1);\n\
         time and gas per transfer",
        t.transfers
    );
    let _ = writeln!(s, "{:<36}{:>21}{:>10}", "engine", "minimum / median", "gas");
    let gas = |g: Option<u64>| g.map_or("-".into(), |g| g.to_string());
    let x64 = minmed(notes, "x64vm", "token transfers", &t.x64vm);
    let revm = minmed(notes, "revm", "token transfers", &t.revm);
    let _ = writeln!(
        s,
        "{:<36}{x64:>21}{:>10}",
        "x64vm (examples/token/c, TestChain)",
        gas(t.x64vm_gas)
    );
    let _ = writeln!(
        s,
        "{:<36}{revm:>21}{:>10}",
        "revm (bench/sol/Token.sol)",
        gas(t.revm_gas)
    );
    let ratio = cell_ratio(&t.revm, &t.x64vm).map_or("-".into(), |(min, med)| {
        format!("{} ({})", times(min), times(med))
    });
    let _ = writeln!(
        s,
        "revm/x64vm: {ratio} (how many times faster x64vm is; minimums, medians in parentheses)"
    );
}

fn jmbs(bytes: u64, cell: &Cell) -> String {
    mb_per_s(bytes, cell).map_or("null".into(), |v| format!("{v:.2}"))
}

/// The extra rows as JSON members (each followed by a comma but the last).
fn extras_json(s: &mut String, x: &Extras) {
    let c = &x.cached_call;
    let _ = writeln!(
        s,
        "  \"cached_call\": {{\"function\": \"bench_nop\", \"arg\": {}, \"engines\": {{\"native\": {}, \"x64vm\": {}, \"x64vm_no_reset\": {}, \"wasmi_call\": {}}},\n    \"ratio_to_native\": {{\"x64vm\": {}, \"x64vm_no_reset\": {}, \"wasmi_call\": {}}}}},",
        c.arg,
        jcell(&c.native),
        jcell(&c.x64vm),
        jcell(&c.x64vm_no_reset),
        jcell(&c.wasmi),
        jratio(cell_ratio(&c.x64vm, &c.native)),
        jratio(cell_ratio(&c.x64vm_no_reset, &c.native)),
        jratio(cell_ratio(&c.wasmi, &c.native)),
    );
    let rows: Vec<String> = x
        .load
        .iter()
        .map(|l| {
            format!(
                "\n    {{\"program\": {}, \"elf_bytes\": {}, \"wasm_bytes\": {}, \"x64vm_load\": {}, \"x64vm_load_instantiate\": {}, \"wasmi_compile\": {},\n     \"mb_per_s\": {{\"x64vm_load\": {}, \"x64vm_load_instantiate\": {}, \"wasmi_compile\": {}}}}}",
                jstr(&l.name),
                l.elf_bytes,
                l.wasm_bytes,
                jcell(&l.load),
                jcell(&l.instantiate),
                jcell(&l.wasmi),
                jmbs(l.elf_bytes, &l.load),
                jmbs(l.elf_bytes, &l.instantiate),
                jmbs(l.wasm_bytes, &l.wasmi),
            )
        })
        .collect();
    let _ = writeln!(s, "  \"load\": [{}\n  ],", rows.join(","));
    let st = &x.startup;
    let runs: Vec<String> = st
        .runs
        .iter()
        .map(|(c, cell)| {
            format!(
                "\n    {{\"command\": {}, \"time\": {}}}",
                jstr(&format!("x64vm {c}")),
                jcell(cell)
            )
        })
        .collect();
    let _ = writeln!(
        s,
        "  \"startup\": {{\"binary\": {}, \"spawn_floor\": {}, \"runs\": [{}\n  ]}},",
        st.binary.as_deref().map_or("null".into(), jstr),
        jcell(&st.floor),
        runs.join(","),
    );
    let t = &x.token;
    let _ = writeln!(
        s,
        "  \"token\": {{\"transfers_per_sample\": {}, \"committed\": true, \"per_transfer\": {{\"x64vm\": {}, \"revm\": {}}},\n    \"gas_per_transfer\": {{\"x64vm\": {}, \"revm\": {}}}, \"x64vm_speedup_vs_revm\": {}}}",
        t.transfers,
        jcell(&t.x64vm),
        jcell(&t.revm),
        jopt(t.x64vm_gas),
        jopt(t.revm_gas),
        jratio(cell_ratio(&t.revm, &t.x64vm)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert_eq!(civil_date(20_513), "2026-03-01");
    }

    #[test]
    fn formats() {
        assert_eq!(dur(Duration::from_nanos(31)), "31.0ns");
        assert_eq!(dur(Duration::from_micros(1500)), "1.50ms");
        assert_eq!(dur(Duration::from_secs(2)), "2.00s");
        assert_eq!(times(2.5), "2.50x");
        assert_eq!(times(2800.4), "2800x");
        assert_eq!(jstr("a\"b\\\n\u{1}"), r#""a\"b\\\n\u0001""#);
    }
}
