//! Selector semantics end to end: lookback (left-open), stale markers,
//! `offset`, `@` (with `start()`/`end()`), anchored regexes, range windows.

use crate::harness::run;

#[test]
fn instant_selectors() {
    run(r#"
load 5m
  http_requests{job="api-server", instance="0", group="production"} 0+10x10
  http_requests{job="api-server", instance="1", group="production"} 0+20x10
  http_requests{job="app-server", instance="0", group="canary"} 0+70x10
  x 0+10x10

eval instant at 50m http_requests{job="api-server"}
  http_requests{job="api-server", instance="0", group="production"} 100
  http_requests{job="api-server", instance="1", group="production"} 200

eval instant at 50m http_requests{job=~"api"}

eval instant at 50m http_requests{job=~"api.*", instance!="1"}
  http_requests{job="api-server", instance="0", group="production"} 100

eval instant at 50m http_requests{job!~"api.*"}
  http_requests{job="app-server", instance="0", group="canary"} 700

eval instant at 50m {__name__=~"x|http_requests", group="canary"}
  http_requests{job="app-server", instance="0", group="canary"} 700

eval instant at 52m x
  x 100

eval instant at 54m59s x
  x 100

eval instant at 55m x

eval instant at 0 x
  x 0

eval instant at 50m x offset 10m
  x 80

eval instant at 45m x offset -5m
  x 100

eval instant at 50m x @ 600
  x 20

eval instant at 50m x @ 600 offset 5m
  x 10

eval instant at 50m x @ start()
  x 100

eval range from 0 to 10m step 5m x @ end()
  x 20 20 20

eval range from 10m to 20m step 5m x @ start()
  x 20 20 20

eval instant at 50m nonexistent
"#);
}

#[test]
fn stale_markers_end_series() {
    run(r#"
load 10s
  m 1 2 stale 4
  n 1 stale

eval instant at 15s m
  m 2

eval instant at 20s m

eval instant at 25s m

eval instant at 30s m
  m 4

eval instant at 2m n

eval range from 0 to 30s step 10s m
  m 1 2 _ 4

eval instant at 30s count_over_time(m[1m])
  {} 3
"#);
}

#[test]
fn range_windows_are_left_open() {
    run(r#"
load 5m
  m 0+1x4

eval instant at 10m count_over_time(m[5m])
  {} 1

eval instant at 9m59s count_over_time(m[5m])
  {} 1

eval instant at 10m count_over_time(m[10m])
  {} 2

eval instant at 10m count_over_time(m[10m1ms])
  {} 3

eval instant at 10m m[10m]
  m 1 2

eval instant at 10m count_over_time(m[5m] offset 5m)
  {} 1

eval instant at 20m sum_over_time(m[10m] @ 600)
  {} 3

eval instant at 1m count_over_time(m[30s])
"#);
}

#[test]
fn or_matchers_union_alternatives() {
    run(r#"
load 5m
  a{l="1"} 1
  a{l="2"} 2
  a{l="3"} 3

eval instant at 0 a{l="1" or l="3"}
  a{l="1"} 1
  a{l="3"} 3
"#);
}
