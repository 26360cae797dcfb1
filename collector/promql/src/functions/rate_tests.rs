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
