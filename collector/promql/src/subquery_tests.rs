//! Subquery cases (Prometheus's subquery.test, updated for left-open
//! windows and lookback): alignment, offset, `@`, nesting.

use crate::harness::run;

#[test]
fn subquery_alignment_and_windows() {
    run(r#"
load 10s
  metric 1 2

eval instant at 10s sum_over_time(metric[50s:10s])
  {} 3

eval instant at 10s sum_over_time(metric[50s:5s])
  {} 4

eval instant at 5m sum_over_time(metric[50s:10s])
  {} 10

eval instant at 6m sum_over_time(metric[60s:10s])

eval instant at 10s rate(metric[20s:10s])
  {} 0.1

eval instant at 20s rate(metric[20s:5s])
  {} 0.06666666666666667

eval instant at 20s metric[20s:10s]
  metric 2 2

eval instant at 20s count_over_time(metric[20s:3s])
  {} 6
"#);
}

#[test]
fn subquery_offset_at_and_nesting() {
    run(r#"
load 10s
  metric1 0+1x1000
  metric2 0+2x1000

eval instant at 1000s sum_over_time(metric1[30s:10s])
  {} 297

eval instant at 1000s sum_over_time(metric1[30s:10s] offset 10s)
  {} 294

eval instant at 1000s sum_over_time(metric1[30s:10s] @ 100)
  {} 27

eval instant at 1000s sum_over_time(metric1[30s:10s] @ 100 offset 10s)
  {} 24

eval instant at 1010s sum_over_time(metric1[30s:7s])
  {} 397

eval instant at 1000s sum_over_time((metric1 + metric2)[30s:10s])
  {} 891

eval instant at 1000s max_over_time(rate(metric1[30s])[1m:10s])
  {} 0.1

eval instant at 1000s sum_over_time(sum_over_time(metric1[20s:10s])[20s:10s])
  {} 396

eval instant at 1000s count_over_time(vector(time())[1m:10s])
  {} 6

eval instant at 1000s sum_over_time(metric1[1m])
  {} 585

eval range from 980s to 1000s step 10s sum_over_time(metric1[20s:10s])
  {} 195 197 199
"#);
}
