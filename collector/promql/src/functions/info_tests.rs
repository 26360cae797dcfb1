//! `info()`: joining a vector with its info metrics' data labels on `job`
//! and `instance`, with Prometheus 3's rules for selectors, conflicts and
//! several info series per target.

use crate::harness::run;

#[test]
fn info_adds_data_labels_of_target_info() {
    run(r#"
load 1m
  http_requests{job="api", instance="a:80", code="200"} 1 2 3
  http_requests{job="api", instance="b:80", code="200"} 10 20 30
  http_requests{job="db", instance="c:80"} 5 5 5
  target_info{job="api", instance="a:80", k8s_cluster="east", host="h1", code="x"} 1 1 1
  target_info{job="api", instance="b:80", k8s_cluster="west", host="h2"} 1 1 1
  build_info{job="api", instance="a:80", version="1.2"} 1 1 1

# Every data label; the series' own labels (code) win over the info's.
eval instant at 2m info(http_requests)
  http_requests{job="api", instance="a:80", code="200", k8s_cluster="east", host="h1"} 3
  http_requests{job="api", instance="b:80", code="200", k8s_cluster="west", host="h2"} 30
  http_requests{job="db", instance="c:80"} 5

# The join survives functions that drop the metric name.
eval instant at 2m info(rate(http_requests{job="api"}[2m]))
  {job="api", instance="a:80", code="200", k8s_cluster="east", host="h1"} 0.016666666666666666
  {job="api", instance="b:80", code="200", k8s_cluster="west", host="h2"} 0.16666666666666666

# A selector names the data labels to add; a matcher that refuses the
# empty value drops series nothing joins.
eval instant at 2m info(http_requests, {k8s_cluster=~".+"})
  http_requests{job="api", instance="a:80", code="200", k8s_cluster="east"} 3
  http_requests{job="api", instance="b:80", code="200", k8s_cluster="west"} 30

eval instant at 2m info(http_requests, {k8s_cluster="east"})
  http_requests{job="api", instance="a:80", code="200", k8s_cluster="east"} 3

# One that accepts the empty value keeps them unchanged.
eval instant at 2m info(http_requests, {k8s_cluster=~"east|"})
  http_requests{job="api", instance="a:80", code="200", k8s_cluster="east"} 3
  http_requests{job="api", instance="b:80", code="200"} 30
  http_requests{job="db", instance="c:80"} 5

# __name__ chooses the info metrics.
eval instant at 2m info(http_requests, {__name__="build_info"})
  http_requests{job="api", instance="a:80", code="200", version="1.2"} 3
  http_requests{job="api", instance="b:80", code="200"} 30
  http_requests{job="db", instance="c:80"} 5

eval instant at 2m info(http_requests{instance="a:80"}, {__name__=~".+_info"})
  http_requests{job="api", instance="a:80", code="200", k8s_cluster="east", host="h1", version="1.2"} 3

eval instant at 2m info(http_requests{instance="a:80"}, {__name__=~".+_info", version!=""})
  http_requests{job="api", instance="a:80", code="200", version="1.2"} 3

# Info series in the input are passed through, not enriched.
eval instant at 2m info(target_info{instance="b:80"})
  target_info{job="api", instance="b:80", k8s_cluster="west", host="h2"} 1

eval instant at 2m info({__name__=~"http_requests|target_info", instance="b:80"})
  http_requests{job="api", instance="b:80", code="200", k8s_cluster="west", host="h2"} 30
  target_info{job="api", instance="b:80", k8s_cluster="west", host="h2"} 1

eval range from 0 to 2m step 1m info(http_requests{instance="b:80"}, {host=~".+"})
  http_requests{job="api", instance="b:80", code="200", host="h2"} 10 20 30
"#);
}

#[test]
fn info_conflicts_and_changing_info_series() {
    run(r#"
load 1m
  up{job="j", instance="i"} 1 1 1 1
  target_info{job="j", instance="i", version="1"} 1 1 _ _
  target_info{job="j", instance="i", version="2"} _ _ 1 1
  other_info{job="j", instance="i", version="3"} 1 1 1 1

# When a target's info labels change, the newer series wins while the old
# one is still within the lookback.
eval instant at 1m info(up)
  up{job="j", instance="i", version="1"} 1

eval instant at 3m info(up)
  up{job="j", instance="i", version="2"} 1

eval range from 0 to 3m step 1m info(up)
  up{job="j", instance="i", version="1"} 1 1 _ _
  up{job="j", instance="i", version="2"} _ _ 1 1

# Two info metrics offering different values for one label.
eval_fail instant at 3m info(up, {__name__=~"target_info|other_info"})
  expected_fail_message conflicting label: version

clear
load 1m
  up{job="j", instance="i"} 1
  target_info{job="j", instance="i", version="1"} 1
  target_info{job="j", instance="i", version="2"} 1

# Two info series for one target with samples at the same time.
eval_fail instant at 0 info(up)
  expected_fail_message found duplicate series for info metric
"#);
}
