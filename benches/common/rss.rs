//! A child process's peak resident memory, read from /proc while it runs: shared by
//! the benchmarks.

/// `VmHWM` of the process whose status file is `status_path`, in KiB.
pub fn peak_rss(status_path: &str) -> Option<u64> {
    std::fs::read_to_string(status_path)
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
