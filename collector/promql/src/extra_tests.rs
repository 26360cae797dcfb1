//! Cross-cutting cases: vector-vector arithmetic on mixed signs, NaN in
//! aggregations, counter resets and offsets in range queries, subqueries
//! inside range queries.

use crate::harness::run;

#[test]
fn vector_arithmetic_and_aggregation_numerics() {
    run(r#"
load 1m
  v{i="a"} 2
  v{i="b"} -3
  w{i="a"} 3
  w{i="b"} 2
  n{i="a"} NaN
  n{i="b"} 1

eval instant at 0 v ^ w
  {i="a"} 8
  {i="b"} 9

eval instant at 0 v % w
  {i="a"} 2
  {i="b"} -1

eval instant at 0 v atan2 w
  {i="a"} 0.5880026035475675
  {i="b"} -0.982793723247329

eval instant at 0 w - on(i) v
  {i="a"} 1
  {i="b"} 5

eval instant at 0 v == bool on(i) w
  {i="a"} 0
  {i="b"} 0

eval instant at 0 quantile(0.5, v)
  {} -0.5

eval instant at 0 stddev(v)
  {} 2.5

eval instant at 0 avg(v)
  {} -0.5

eval instant at 0 count_values("val", v)
  {val="2"} 1
  {val="-3"} 1

eval instant at 0 max(v) - min(v)
  {} 5

eval instant at 0 sum by (i) (v) / sum by (i) (w)
  {i="a"} 0.6666666666666666
  {i="b"} -1.5

eval instant at 0 v * -1 > 0
  {i="b"} 3

eval instant at 0 abs(v) unless w < 3
  {i="a"} 2

eval instant at 0 quantile(0.5, n)
  {} NaN

eval instant at 0 max(n)
  {} 1

eval instant at 0 avg(n)
  {} NaN

eval instant at 0 stddev(n)
  {} NaN

eval instant at 0 count(n)
  {} 2

eval instant at 0 topk(1, n)
  n{i="b"} 1

eval instant at 0 n > 0
  n{i="b"} 1

eval instant at 0 n != bool 1
  {i="a"} 1
  {i="b"} 0
"#);
}

#[test]
fn range_queries_with_resets_offsets_subqueries() {
    run(r#"
load 1m
  c 0 10 20 5 15
  o 0+1x10

eval range from 2m to 4m step 1m increase(c[2m])
  {} 20 10 15

eval range from 2m to 4m step 1m resets(c[5m])
  {} 0 1 1

eval range from 2m to 4m step 1m o offset 1m
  o 1 2 3

eval range from 2m to 4m step 1m o @ 60
  o 1 1 1

eval range from 2m to 4m step 1m sum_over_time(o[2m:1m])
  {} 3 5 7

eval range from 2m to 4m step 1m topk(1, o or c)
  o 2 3 4

eval range from 2m to 4m step 1m topk(1, o * 5 or label_replace(c, "x", "y", "", ""))
  {} _ 15 20
  c{x="y"} 20 _ _

eval range from 0 to 2m step 1m absent(nonexistent{job="x"})
  {job="x"} 1 1 1

eval range from 0 to 2m step 1m count_values("value", c)
  {value="0"} 1 _ _
  {value="10"} _ 1 _
  {value="20"} _ _ 1
"#);
}
