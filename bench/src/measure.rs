//! Timing: minimum and median per call over several samples.

use std::time::{Duration, Instant};

/// How long to measure one cell of the table.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Samples to take (fewer when `max_time` runs out first, never fewer than 3).
    pub runs: usize,
    /// Stop taking samples once this much time has been spent (after 3 samples).
    pub max_time: Duration,
}

/// A sample shorter than this repeats the call (and divides), so that timer
/// resolution and the cost of `Instant::now` do not show in the result.
const MIN_SAMPLE: Duration = Duration::from_millis(1);
/// A first call at least this long counts as a sample (no separate warm-up).
const LONG_CALL: Duration = Duration::from_millis(100);

/// The timings of one engine on one case.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    /// Fastest time per call.
    pub min: Duration,
    /// Median time per call.
    pub median: Duration,
    /// Samples taken.
    pub samples: usize,
    /// Calls per sample.
    pub reps: u32,
    /// The call's result (the kernel's checksum).
    pub result: u64,
}

/// Times `f`: one warm-up call (which also sizes the samples), then samples of
/// `reps` calls each. Fails with the first error `f` returns.
pub fn measure(
    budget: Budget,
    mut f: impl FnMut() -> Result<u64, String>,
) -> Result<Measured, String> {
    let start = Instant::now();
    let result = std::hint::black_box(f()?);
    let first = start.elapsed();
    let reps = if first >= MIN_SAMPLE {
        1
    } else {
        let per = first.as_nanos().max(1);
        (MIN_SAMPLE.as_nanos() / per + 1).min(100_000) as u32
    };
    let mut times = Vec::with_capacity(budget.runs);
    if first >= LONG_CALL {
        times.push(first);
    }
    let runs = budget.runs.max(1);
    while times.len() < runs && (times.len() < 3 || start.elapsed() < budget.max_time) {
        let t = Instant::now();
        for _ in 0..reps {
            let r = std::hint::black_box(f()?);
            if r != result {
                return Err(format!(
                    "result changed between runs: {result:#x} then {r:#x}"
                ));
            }
        }
        times.push(t.elapsed() / reps);
    }
    times.sort();
    Ok(Measured {
        min: times[0],
        median: times[times.len() / 2],
        samples: times.len(),
        reps,
        result,
    })
}
