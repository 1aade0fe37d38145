//! The measuring loop and what it records.
//!
//! Each measurement warms up, then takes many samples; a sample times a batch
//! of calls sized so that one batch lasts long enough for the clock
//! ([`Plan::batch`]), and records the time per call. The median and the 10th
//! and 90th percentiles of the samples describe the spread; nothing asserts on
//! a time.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long and how often to measure.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Time spent calling before sampling, so caches, branch predictors and
    /// lazily initialised state are warm.
    pub warm_up: Duration,
    /// The most samples taken.
    pub samples: usize,
    /// The least samples taken, even when they exceed [`Plan::budget`].
    pub min_samples: usize,
    /// The shortest batch: calls are repeated until one batch lasts this long.
    pub batch: Duration,
    /// Sampling stops early once this much time is spent (slow operations).
    pub budget: Duration,
}

impl Plan {
    /// The smoke-test plan of `--quick`: seconds per measurement.
    pub const QUICK: Self = Self {
        warm_up: Duration::from_millis(100),
        samples: 30,
        min_samples: 3,
        batch: Duration::from_millis(2),
        budget: Duration::from_millis(800),
    };

    /// The full plan: more samples of longer batches.
    pub const FULL: Self = Self {
        warm_up: Duration::from_millis(500),
        samples: 100,
        min_samples: 10,
        batch: Duration::from_millis(10),
        budget: Duration::from_secs(5),
    };
}

/// The largest batch calibration tries: 2^24 calls.
const MAX_BATCH_DOUBLINGS: u32 = 24;

/// The most batches a warm-up runs, whatever [`Plan::warm_up`] says.
const MAX_WARM_UP_BATCHES: usize = 10_000;

/// One row of the results.
#[derive(Debug, Clone)]
pub struct Stat {
    /// What was measured.
    pub name: String,
    /// The unit of [`Stat::median`], [`Stat::p10`] and [`Stat::p90`].
    pub unit: &'static str,
    /// The median sample.
    pub median: f64,
    /// The 10th percentile.
    pub p10: f64,
    /// The 90th percentile.
    pub p90: f64,
    /// How many samples.
    pub samples: usize,
    /// The row this one is compared with, and the ratio of their medians.
    pub versus: Option<(String, f64)>,
}

impl Stat {
    /// A row from unsorted samples.
    pub fn from_samples(name: impl Into<String>, unit: &'static str, mut samples: Vec<f64>) -> Self {
        assert!(!samples.is_empty(), "a measurement needs at least one sample");
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Self {
            name: name.into(),
            unit,
            median: at(0.5),
            p10: at(0.1),
            p90: at(0.9),
            samples: samples.len(),
            versus: None,
        }
    }

    /// A row of one value that does not vary between runs (a size).
    pub fn single(name: impl Into<String>, unit: &'static str, value: f64) -> Self {
        Self::from_samples(name, unit, vec![value])
    }

    /// Records the ratio of this row's median to `baseline`'s.
    pub fn versus(mut self, baseline: &Stat) -> Self {
        self.versus = Some((baseline.name.clone(), self.median / baseline.median));
        self
    }

    /// The row as `results.json` holds it.
    pub fn to_json(&self) -> Value {
        let mut row = json!({
            "name": self.name,
            "unit": self.unit,
            "median": self.median,
            "p10": self.p10,
            "p90": self.p90,
            "samples": self.samples,
        });
        if let Some((baseline, ratio)) = &self.versus {
            row["baseline"] = json!(baseline);
            row["ratio"] = json!(ratio);
        }
        row
    }
}

/// Times `f` under `plan`, in microseconds per call.
pub fn measure<R>(name: impl Into<String>, plan: &Plan, mut f: impl FnMut() -> R) -> Stat {
    let mut run_batch = |calls: u64| {
        let start = Instant::now();
        for _ in 0..calls {
            black_box(f());
        }
        start.elapsed()
    };

    let mut batch = 1u64;
    let mut elapsed = run_batch(batch);
    for _ in 0..MAX_BATCH_DOUBLINGS {
        if elapsed >= plan.batch {
            break;
        }
        batch *= 2;
        elapsed = run_batch(batch);
    }

    let warm_up = Instant::now();
    let warm_up_batches = (plan.warm_up.as_secs_f64() / elapsed.as_secs_f64()).ceil() as usize;
    for _ in 0..warm_up_batches.min(MAX_WARM_UP_BATCHES) {
        if warm_up.elapsed() >= plan.warm_up {
            break;
        }
        run_batch(batch);
    }

    let start = Instant::now();
    let mut samples = Vec::with_capacity(plan.samples);
    for _ in 0..plan.samples {
        if samples.len() >= plan.min_samples && start.elapsed() >= plan.budget {
            break;
        }
        samples.push(run_batch(batch).as_secs_f64() * 1e6 / batch as f64);
    }
    Stat::from_samples(name, "µs", samples)
}
