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
