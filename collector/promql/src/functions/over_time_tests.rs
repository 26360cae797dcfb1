//! `*_over_time` cases, including Prometheus's NaN handling for min/max.

use crate::harness::run;

#[test]
fn over_time_family() {
    run(r#"
load 10s
  metric 1 2 3 4 5
  data{type="numbers"} 2 0 3
  data{type="some_nan"} 2 0 NaN
  data{type="some_nan2"} 2 NaN 1
  data{type="some_nan3"} NaN 0 1
  data{type="only_nan"} NaN NaN NaN
  data2{type="numbers"} 1 1 1

eval instant at 1m avg_over_time(metric[2m])
  {} 3

eval instant at 1m sum_over_time(metric[2m])
  {} 15

eval instant at 1m count_over_time(metric[2m])
  {} 5

eval instant at 1m stddev_over_time(metric[2m])
  {} 1.4142135623730951

eval instant at 1m stdvar_over_time(metric[2m])
  {} 2

eval instant at 1m quantile_over_time(0.5, metric[2m])
  {} 3

eval instant at 1m quantile_over_time(0.25, metric[2m])
  {} 2

eval instant at 1m quantile_over_time(0.1, metric[2m])
  {} 1.4

eval instant at 1m quantile_over_time(2, metric[2m])
  {} Inf

eval instant at 1m mad_over_time(metric[2m])
  {} 1

eval instant at 1m present_over_time(metric[2m])
  {} 1

eval instant at 1m last_over_time(metric[2m])
  metric 5

eval instant at 1m first_over_time(metric[2m])
  metric 1

eval instant at 1m last_over_time(metric[20s])

eval instant at 40s last_over_time(metric[20s])
  metric 5

eval instant at 1m max_over_time(metric[20s])

eval instant at 40s max_over_time(metric[20s])
  {} 5

eval instant at 1m min_over_time(data[2m])
  {type="numbers"} 0
  {type="some_nan"} 0
  {type="some_nan2"} 1
  {type="some_nan3"} 0
  {type="only_nan"} NaN

eval instant at 1m max_over_time(data[2m])
  {type="numbers"} 3
  {type="some_nan"} 2
  {type="some_nan2"} 2
  {type="some_nan3"} 1
  {type="only_nan"} NaN

eval instant at 1m sum_over_time(data{type="some_nan"}[2m])
  {type="some_nan"} NaN

eval instant at 1m avg_over_time(data{type="numbers"}[2m])
  {type="numbers"} 1.6666666666666667

eval_fail instant at 1m sum_over_time({__name__=~"data|data2"}[2m])
  vector cannot contain metrics with the same labelset
"#);
}

#[test]
fn absent_functions() {
    run(r#"
load 5m
  http_requests{job="api-server", instance="0"} 0+10x10

eval instant at 50m absent(nonexistent)
  {} 1

eval instant at 50m absent(nonexistent{job="testjob", instance="testinstance", method=~".x"})
  {instance="testinstance", job="testjob"} 1

eval instant at 50m absent(nonexistent{job="testjob",job="testjob2",foo="bar"})
  {foo="bar"} 1

eval instant at 50m absent(nonexistent{job="testjob",job="testjob2",job="three",foo="bar"})
  {foo="bar"} 1

eval instant at 50m absent(nonexistent{job="testjob",job=~"testjob2",foo="bar"})
  {foo="bar"} 1

eval instant at 50m absent(http_requests)

eval instant at 50m absent(sum(http_requests))

eval instant at 50m absent(sum(nonexistent{job="testjob", instance="testinstance"}))
  {} 1

eval instant at 50m absent(rate(nonexistent[5m]))
  {} 1

eval instant at 50m absent_over_time(http_requests[5m])

eval instant at 50m absent_over_time(nonexistent{job="a"}[5m])
  {job="a"} 1

eval instant at 60m absent_over_time(http_requests[5m])
  {} 1

eval instant at 60m absent_over_time(http_requests{job="api-server"}[5m])
  {job="api-server"} 1

eval instant at 60m absent_over_time(http_requests[5m:1m])
  {} 1
"#);
}

/// `ts_of_*_over_time`: the time, in seconds, of the first, last, largest or
/// smallest sample of the window; ties go to the later sample and a NaN is
/// displaced by any number, as in Prometheus's `compareOverTime`.
#[test]
fn timestamps_of_window_extremes() {
    run(r#"
load 10s
  metric 1 2 3 4 5
  ties 3 1 3 1
  nans NaN 2 NaN 1
  all_nan NaN NaN NaN

eval instant at 1m ts_of_first_over_time(metric[2m])
  {} 0

eval instant at 1m ts_of_last_over_time(metric[2m])
  {} 40

eval instant at 1m ts_of_max_over_time(metric[2m])
  {} 40

eval instant at 1m ts_of_min_over_time(metric[2m])
  {} 0

eval instant at 1m ts_of_first_over_time(metric[25s])
  {} 40

eval instant at 1m ts_of_max_over_time(ties[2m])
  {} 20

eval instant at 1m ts_of_min_over_time(ties[2m])
  {} 30

eval instant at 1m ts_of_max_over_time(nans[2m])
  {} 10

eval instant at 1m ts_of_min_over_time(nans[2m])
  {} 30

eval instant at 1m ts_of_max_over_time(all_nan[2m])
  {} 20

eval instant at 2m ts_of_last_over_time(metric[30s])

eval range from 0 to 40s step 20s ts_of_max_over_time(ties[15s])
  {} 0 20 30

# The metric name goes, as for every window function but first/last_over_time,
# so two metrics with no other labels collide.
eval_fail instant at 1m ts_of_last_over_time({__name__=~"metric|ties"}[2m])
  expected_fail_message vector cannot contain metrics with the same labelset
"#);
}

/// `double_exponential_smoothing` (Prometheus 3's name for `holt_winters`):
/// a straight line smooths to itself; other values worked by hand from the
/// recurrence s = sf·x + (1−sf)(s + b), b = tf·(s − s_prev) + (1−tf)·b.
#[test]
fn double_exponential_smoothing() {
    run(r#"
load 10s
  line 1 2 3 4 5
  zigzag 0 10 0 10
  single 7

eval instant at 1m double_exponential_smoothing(line[2m], 0.3, 0.7)
  {} 5

eval instant at 25s double_exponential_smoothing(zigzag[1m], 0.5, 0.5)
  {} 10

eval instant at 1m double_exponential_smoothing(zigzag[2m], 0.5, 0.5)
  {} 12.5

# The window is left-open: at 1m a 1m window drops the sample at 0s,
# leaving 10 0 10.
eval instant at 1m double_exponential_smoothing(zigzag[1m], 0.5, 0.5)
  {} 0

eval instant at 1m double_exponential_smoothing(single[1m], 0.5, 0.5)

eval_fail instant at 1m double_exponential_smoothing(line[2m], 1, 0.5)
  expected_fail_message invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000

eval_fail instant at 1m double_exponential_smoothing(line[2m], 0.5, -0.25)
  expected_fail_message invalid trend factor. Expected: 0 < tf < 1, got: -0.250000

eval_fail instant at 1m double_exponential_smoothing(line[2m], NaN, 0.5)
  expected_fail_message got: NaN

eval instant at 1m double_exponential_smoothing(nothing[2m], 2, 2)
"#);
}
