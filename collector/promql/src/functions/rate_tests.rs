//! Rate-family cases with hand-derived extrapolation (left-open windows).

use crate::harness::run;

#[test]
fn rate_increase_extrapolation() {
    run(r#"
load 5m
  http_requests{path="/foo"} 0+10x10
  http_requests{path="/bar"} 0+10x5 0+10x4

eval instant at 50m increase(http_requests[50m])
  {path="/foo"} 100
  {path="/bar"} 88.88888888888889

eval instant at 50m increase(http_requests[100m])
  {path="/foo"} 100
  {path="/bar"} 90

eval instant at 50m rate(http_requests[50m])
  {path="/foo"} 0.03333333333333333
  {path="/bar"} 0.02962962962962963

eval instant at 50m rate(http_requests{path="/foo"}[10m])
  {path="/foo"} 0.03333333333333333

eval instant at 50m rate(http_requests{path="/foo"}[5m])

eval instant at 50m rate(http_requests{path="/foo"}[5m1ms])
  {path="/foo"} 0.03333333333333333

eval instant at 50m rate(http_requests{path="/foo"}[10m] offset 10m)
  {path="/foo"} 0.03333333333333333

eval instant at 50m increase(http_requests{path="/foo"}[7m])
  {path="/foo"} 14

eval instant at 50m delta(http_requests{path="/foo"}[7m])
  {path="/foo"} 14
"#);
    run(r#"
load 5m
  http_requests{path="/foo"} 0 50 100 150 200
  http_requests{path="/bar"} 200 150 100 50 0

eval instant at 20m delta(http_requests[20m])
  {path="/foo"} 200
  {path="/bar"} -200

eval instant at 20m idelta(http_requests[20m])
  {path="/foo"} 50
  {path="/bar"} -50

eval instant at 20m increase(http_requests{path="/bar"}[20m])
  {path="/bar"} 200
"#);
}

#[test]
fn counter_zero_floor() {
    run(r#"
load 1m
  c 5 6 7
  c2 1 3 5

eval instant at 2m increase(c2[3m])
  {} 5

eval instant at 2m delta(c2[3m])
  {} 6

eval instant at 2m rate(c2[3m])
  {} 0.027777777777777776

eval instant at 2m increase(c[3m])
  {} 3

eval instant at 2m increase(c[2m])
  {} 2

eval instant at 2m delta(c[3m])
  {} 3
"#);
}

#[test]
fn irate_idelta_deriv_predict() {
    run(r#"
load 5m
  http_requests{path="/foo"} 0+10x10
  http_requests{path="/bar"} 0+10x5 0+10x5
  testcounter_reset_middle_total 0+10x4 0+10x5

eval instant at 50m irate(http_requests[50m])
  {path="/foo"} .03333333333333333333
  {path="/bar"} .03333333333333333333

eval instant at 30m irate(http_requests[50m])
  {path="/foo"} .03333333333333333333
  {path="/bar"} 0

eval instant at 50m idelta(http_requests[50m])
  {path="/foo"} 10
  {path="/bar"} 10

eval instant at 50m irate(http_requests[5m])

eval instant at 50m deriv(testcounter_reset_middle_total[100m])
  {} 0.010606060606060607

eval instant at 50m deriv(http_requests{path="/foo"}[50m])
  {path="/foo"} 0.03333333333333333

eval instant at 50m predict_linear(http_requests{path="/foo"}[50m], 3600)
  {path="/foo"} 220

eval instant at 50m predict_linear(http_requests{path="/foo"}[50m] offset 10m, 600)
  {path="/foo"} 120

eval instant at 50m deriv(http_requests{path="/foo"}[5m])
"#);
}

#[test]
fn resets_and_changes() {
    run(r#"
load 5m
  http_requests{path="/foo"} 1 2 3 0 1 0 0 1 2 0
  http_requests{path="/bar"} 1 2 3 4 5 1 2 3 4 5
  http_requests{path="/biz"} 0 0 0 0 0 1 1 1 1 1
  nan_series NaN NaN 1 1

eval instant at 45m resets(http_requests[20m])
  {path="/foo"} 1
  {path="/bar"} 0
  {path="/biz"} 0

eval instant at 45m resets(http_requests[50m])
  {path="/foo"} 3
  {path="/bar"} 1
  {path="/biz"} 0

eval instant at 45m changes(http_requests[50m])
  {path="/foo"} 8
  {path="/bar"} 9
  {path="/biz"} 1

eval instant at 45m changes(http_requests[5m])
  {path="/foo"} 0
  {path="/bar"} 0
  {path="/biz"} 0

eval instant at 15m changes(nan_series[20m])
  {} 1
"#);
}

/// A counter that starts inside the window, with its zero point between
/// half a spacing and 110% of a spacing before its first sample: the one
/// place where Prometheus 3 (since 2.51, PR #13725) and 2.42 differ. Each
/// series: 6 samples a minute apart at 5m..10m, +60 a minute; the window
/// is (0, 10m]. So result = 300, sampled interval = 300 s, average
/// spacing = 60 s, threshold = 66 s, durationToStart = 300 s,
/// durationToEnd = 0, and durationToZero = 300 s × first / 300 = first s.
///
/// Prometheus 3 replaces durationToStart by half a spacing (300 ≥ 66 →
/// 30 s) and only then limits it to the zero point:
/// * first=20: min(30, 20) = 20 → 300 × (300 + 20) / 300 = 320
/// * first=50: min(30, 50) = 30 → 300 × (300 + 30) / 300 = 330
/// * first=80: min(30, 80) = 30 → 330
///
/// Prometheus 2.42 limited the raw 300 s to the zero point first, then
/// tested it against the threshold: first=20 → 20 (320) and first=80 →
/// 80 ≥ 66 → 30 (330) agree, but first=50 → 50 < 66 → extrapolated by the
/// whole 50 s: 350, rate 0.5833…, which is not Prometheus 3's answer
/// (promtool 2.42 gives 350 on this data).
#[test]
fn zero_point_limits_the_half_spacing_not_the_raw_start() {
    run(r#"
load 1m
  c{first="20"} _x5 20+60x5
  c{first="50"} _x5 50+60x5
  c{first="80"} _x5 80+60x5

eval instant at 10m increase(c[10m])
  {first="20"} 320
  {first="50"} 330
  {first="80"} 330

eval instant at 10m rate(c[10m])
  {first="20"} 0.5333333333333333
  {first="50"} 0.55
  {first="80"} 0.55
"#);
}

/// Issue 8's query shape, `histogram_quantile(0.99, sum by (job, le)
/// (increase(…_bucket[15m])))`, where one target's buckets start inside
/// the window with their zero point 12 s before the first sample (between
/// half a spacing, 7.5 s, and 110%, 16.5 s). At 20m the window is
/// (5m, 20m]; samples every 15 s.
///
/// Instance a (from 0, +97 / +99.5 / +100 per step in le 0.5 / 1 / +Inf):
/// 60 samples at 5m15s..20m, sampled 885 s, durationToStart 15 s < 16.5
/// so extrapolated all the way, durationToEnd 0: increase = 59 × inc ×
/// 900 / 885 = 60 × inc = 5820 / 5970 / 6000.
///
/// Instance b (up at 16m, first 32 / 40 / 40, then +40 / +50 / +50):
/// 17 samples, sampled 240 s, result 16 × inc = 640 / 800 / 800,
/// durationToStart 660 s ≥ 16.5 → 7.5 s, durationToZero = 240 × 32 / 640
/// = 240 × 40 / 800 = 12 s, not shorter, so 7.5 s: increase = 16 × inc ×
/// 247.5 / 240 = 16.5 × inc = 660 / 825 / 825.
///
/// Sums: 6480 / 6795 / 6825. Rank 0.99 × 6825 = 6756.75 falls in (0.5, 1]:
/// 0.5 + 0.5 × (6756.75 − 6480) / (6795 − 6480) = 0.5 + 138.375 / 315
/// = 0.9392857142857143.
///
/// Prometheus 2.42 extrapolated b by the 12 s (12 < 16.5): 16.8 × inc =
/// 672 / 840 / 840, sums 6492 / 6810 / 6840, rank 6771.6, quantile
/// 0.5 + 0.5 × 279.6 / 318 = 0.9396226415094339 (promtool 2.42 agrees) —
/// the kind of gap issue 8 saw (ours 0.9311, 2.42's 0.9302).
#[test]
fn histogram_quantile_over_a_target_that_starts_in_the_window() {
    run(r#"
load 15s
  h_bucket{job="api", instance="a", le="0.5"} 0+97x80
  h_bucket{job="api", instance="a", le="1"} 0+99.5x80
  h_bucket{job="api", instance="a", le="+Inf"} 0+100x80
  h_bucket{job="api", instance="b", le="0.5"} _x64 32+40x16
  h_bucket{job="api", instance="b", le="1"} _x64 40+50x16
  h_bucket{job="api", instance="b", le="+Inf"} _x64 40+50x16

eval instant at 20m increase(h_bucket{instance="b"}[15m])
  {job="api", instance="b", le="0.5"} 660
  {job="api", instance="b", le="1"} 825
  {job="api", instance="b", le="+Inf"} 825

eval instant at 20m sum by (job, le) (increase(h_bucket[15m]))
  {job="api", le="0.5"} 6480
  {job="api", le="1"} 6795
  {job="api", le="+Inf"} 6825

eval instant at 20m histogram_quantile(0.99, sum by (job, le) (increase(h_bucket[15m])))
  {job="api"} 0.9392857142857143
"#);
}
