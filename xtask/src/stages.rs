//! The stages of `cargo xtask test`, timed: at the end of the run, also when
//! a stage failed, a table says how long each stage took, so that a slow CI
//! run says where its time went. The machine's load average is printed with
//! it: on a shared machine, other builds slow every stage.

use std::time::{Duration, Instant};

use anyhow::Result;

/// The stages run so far, in order.
pub struct Stages {
    started: Instant,
    load_at_start: Option<String>,
    done: Vec<Stage>,
}

/// One stage that ran.
struct Stage {
    name: &'static str,
    took: Duration,
    passed: bool,
}

impl Stages {
    /// Starts timing a run.
    pub fn start() -> Self {
        Self {
            started: Instant::now(),
            load_at_start: load_average(),
            done: Vec::new(),
        }
    }

    /// Runs one stage, announcing it, and records its time and outcome.
    pub fn run<T>(&mut self, name: &'static str, stage: impl FnOnce() -> Result<T>) -> Result<T> {
        println!("\n==> {name}");
        let began = Instant::now();
        let result = stage();
        self.done.push(Stage {
            name,
            took: began.elapsed(),
            passed: result.is_ok(),
        });
        result
    }

    /// Prints each stage's time, the total, and the load average at the start
    /// and now.
    pub fn print(&self) {
        let width = self.done.iter().map(|s| s.name.len()).max().unwrap_or(0).max(5);
        println!("\n{:<width$}  {:>8}  result", "stage", "time");
        for stage in &self.done {
            let result = if stage.passed { "ok" } else { "FAILED" };
            println!("{:<width$}  {:>8}  {result}", stage.name, minutes(stage.took));
        }
        println!("{:<width$}  {:>8}", "total", minutes(self.started.elapsed()));
        let unknown = || "unknown".to_owned();
        println!(
            "load average (1, 5, 15 min): {} at the start, {} at the end",
            self.load_at_start.clone().unwrap_or_else(unknown),
            load_average().unwrap_or_else(unknown)
        );
    }
}

/// A duration as minutes and seconds, `12m05s`.
fn minutes(duration: Duration) -> String {
    let secs = duration.as_secs();
    format!("{}m{:02}s", secs / 60, secs % 60)
}

/// The 1, 5 and 15 minute load averages of `/proc/loadavg`.
fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}
