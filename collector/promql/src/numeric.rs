//! Floating-point building blocks shared by aggregations and `*_over_time`,
//! written to reproduce Prometheus's numerics bit for bit where it matters
//! (Kahan-Neumaier sums, the overflow-safe mean, linear-interpolated
//! quantiles, Go's NaN-propagating min/max).

/// One Kahan-Neumaier step: returns the new sum and compensation. Same as
/// Prometheus's `kahanSumInc`, including resetting the compensation at ±Inf.
pub(crate) fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// A compensated sum.
#[derive(Default, Clone, Copy)]
pub(crate) struct KahanSum {
    sum: f64,
    c: f64,
}

impl KahanSum {
    pub fn add(&mut self, v: f64) {
        (self.sum, self.c) = kahan_inc(v, self.sum, self.c);
    }
    pub fn value(&self) -> f64 {
        self.sum + self.c
    }
}

/// Prometheus's mean: a compensated direct sum while it stays finite, then
/// an incremental mean once the sum would overflow (used by `avg` and
/// `avg_over_time`).
#[derive(Default, Clone, Copy)]
pub(crate) struct MeanAcc {
    count: f64,
    sum: f64,
    c: f64,
    mean: f64,
    incremental: bool,
}

impl MeanAcc {
    pub fn add(&mut self, f: f64) {
        self.count += 1.0;
        if !self.incremental {
            let (ns, nc) = kahan_inc(f, self.sum, self.c);
            if self.count == 1.0 || !ns.is_infinite() {
                self.sum = ns;
                self.c = nc;
                return;
            }
            self.incremental = true;
            self.mean = self.sum / (self.count - 1.0);
            self.c /= self.count - 1.0;
        }
        if self.mean.is_infinite() {
            if f.is_infinite() && (self.mean > 0.0) == (f > 0.0) {
                return;
            }
            if !f.is_infinite() && !f.is_nan() {
                return;
            }
        }
        let current = self.mean + self.c;
        (self.mean, self.c) = kahan_inc(f / self.count - current / self.count, self.mean, self.c);
    }

    pub fn value(&self) -> f64 {
        if self.incremental {
            self.mean + self.c
        } else {
            (self.sum + self.c) / self.count
        }
    }
}

/// Welford's running variance with compensated sums, as `stdvar_over_time`.
#[derive(Default, Clone, Copy)]
pub(crate) struct VarAcc {
    count: f64,
    mean: f64,
    c_mean: f64,
    aux: f64,
    c_aux: f64,
}

impl VarAcc {
    pub fn add(&mut self, f: f64) {
        self.count += 1.0;
        let delta = f - (self.mean + self.c_mean);
        (self.mean, self.c_mean) = kahan_inc(delta / self.count, self.mean, self.c_mean);
        (self.aux, self.c_aux) = kahan_inc(
            delta * (f - (self.mean + self.c_mean)),
            self.aux,
            self.c_aux,
        );
    }

    /// Population variance.
    pub fn variance(&self) -> f64 {
        (self.aux + self.c_aux) / self.count
    }
}

/// Go's `math.Max`: NaN wins, +0 beats -0. Rust's `f64::max` ignores NaN.
pub(crate) fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() { b } else { a }
    } else if a > b {
        a
    } else {
        b
    }
}

/// Go's `math.Min`: NaN wins, -0 beats +0.
pub(crate) fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() { a } else { b }
    } else if a < b {
        a
    } else {
        b
    }
}

/// Prometheus's `quantile`: sorts (NaN first), then interpolates linearly
/// between the closest ranks; q outside [0, 1] gives ∓Inf, NaN q gives NaN.
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    values.sort_by(nan_first_cmp);
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    // Both indices are within [0, n-1] by construction.
    let lo = values.get(lower as usize).copied().unwrap_or(f64::NAN);
    let hi = values.get(upper as usize).copied().unwrap_or(f64::NAN);
    lo * (1.0 - weight) + hi * weight
}

/// Ascending order with NaN sorted before every number (Prometheus's
/// `vectorByValueHeap` ordering).
pub(crate) fn nan_first_cmp(a: &f64, b: &f64) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    }
}

/// Formats a float as Go's `strconv.FormatFloat(f, 'f', -1, 64)`, which
/// `count_values` uses for label values.
pub(crate) fn format_go(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f == f64::INFINITY {
        "+Inf".into()
    } else if f == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{f}")
    }
}

/// Go's `int64(f)` for the values we accept (truncation), refusing what
/// would overflow instead of wrapping.
pub(crate) fn to_i64(f: f64) -> Option<i64> {
    // 2^63 is the first float outside i64; NaN fails `contains` too.
    if !(-9.223_372_036_854_775e18..9.223_372_036_854_775e18).contains(&f) {
        None
    } else {
        Some(f as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kahan_recovers_lost_bits() {
        let mut s = KahanSum::default();
        for v in [1.0, 1e100, 1.0, -1e100] {
            s.add(v);
        }
        assert_eq!(s.value(), 2.0);
    }

    #[test]
    fn mean_survives_overflow() {
        let mut m = MeanAcc::default();
        for v in [f64::MAX, f64::MAX, f64::MAX] {
            m.add(v);
        }
        assert_eq!(m.value(), f64::MAX);
    }

    #[test]
    fn quantile_interpolates() {
        assert_eq!(quantile(0.5, &mut [1.0, 2.0, 3.0, 4.0]), 2.5);
        assert_eq!(quantile(0.0, &mut [3.0, 1.0]), 1.0);
        assert_eq!(quantile(2.0, &mut [3.0]), f64::INFINITY);
        assert!(quantile(f64::NAN, &mut [3.0]).is_nan());
    }

    #[test]
    fn go_min_max_propagate_nan() {
        assert!(go_max(1.0, f64::NAN).is_nan());
        assert!(go_min(f64::NAN, 1.0).is_nan());
        assert_eq!(go_max(1.0, 2.0), 2.0);
        assert_eq!(format_go(0.1), "0.1");
        assert_eq!(format_go(1e21), "1000000000000000000000");
        assert_eq!(format_go(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_go(f64::INFINITY), "+Inf");
        assert_eq!(format_go(f64::NAN), "NaN");
        assert_eq!(format_go(1e-7), "0.0000001");
        assert_eq!(format_go(-0.0), "-0");
        assert_eq!(format_go(2.5), "2.5");
        assert_eq!(format_go(100.0), "100");
    }
}
