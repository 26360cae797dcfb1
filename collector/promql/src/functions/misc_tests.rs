//! Cases for histogram_quantile, label and sort functions, math, calendar,
//! timestamp, vector/scalar.

use crate::harness::run;

#[test]
fn histogram_quantile_classic() {
    run(r#"
load 5m
  testhistogram_bucket{le="0.1", start="positive"} 0+5x10
  testhistogram_bucket{le=".2", start="positive"} 0+7x10
  testhistogram_bucket{le="1e0", start="positive"} 0+11x10
  testhistogram_bucket{le="+Inf", start="positive"} 0+12x10
  testhistogram_bucket{le="-.2", start="negative"} 0+1x10
  testhistogram_bucket{le="-0.1", start="negative"} 0+2x10
  testhistogram_bucket{le="0.3", start="negative"} 0+2x10
  testhistogram_bucket{le="+Inf", start="negative"} 0+3x10
  nonmono_bucket{le="1"} 10x10
  nonmono_bucket{le="2"} 5x10
  nonmono_bucket{le="+Inf"} 10x10
  noinf_bucket{le="1"} 10x10
  zero_bucket{le="1"} 0x10
  zero_bucket{le="+Inf"} 0x10
  nole_bucket 5x10

eval instant at 50m histogram_quantile(0, testhistogram_bucket)
  {start="positive"} 0
  {start="negative"} -0.2

eval instant at 50m histogram_quantile(0.2, testhistogram_bucket)
  {start="positive"} 0.048
  {start="negative"} -0.2

eval instant at 50m histogram_quantile(0.5, testhistogram_bucket)
  {start="positive"} 0.15
  {start="negative"} -0.15

eval instant at 50m histogram_quantile(0.8, testhistogram_bucket)
  {start="positive"} 0.72
  {start="negative"} 0.3

eval instant at 50m histogram_quantile(1, testhistogram_bucket)
  {start="positive"} 1
  {start="negative"} 0.3

eval instant at 50m histogram_quantile(-0.1, testhistogram_bucket)
  {start="positive"} -Inf
  {start="negative"} -Inf

eval instant at 50m histogram_quantile(1.01, testhistogram_bucket)
  {start="positive"} Inf
  {start="negative"} Inf

eval instant at 50m histogram_quantile(NaN, testhistogram_bucket)
  {start="positive"} NaN
  {start="negative"} NaN

eval instant at 50m histogram_quantile(0.5, sum by (le) (testhistogram_bucket{start="positive"}))
  {} 0.15

eval instant at 50m histogram_quantile(0.5, rate(testhistogram_bucket{start="positive"}[10m]))
  {start="positive"} 0.15

eval instant at 50m histogram_quantile(0.5, nonmono_bucket)
  {} 0.5

eval instant at 50m histogram_quantile(0.5, noinf_bucket)
  {} NaN

eval instant at 50m histogram_quantile(0.5, zero_bucket)
  {} NaN

eval instant at 50m histogram_quantile(0.5, nole_bucket)
"#);
}

#[test]
fn label_functions() {
    run(r#"
load 5m
  testmetric{src="source-value-10",dst="original-destination-value"} 0
  testmetric{src="source-value-20",dst="original-destination-value"} 1

eval instant at 0m label_replace(testmetric, "dst", "destination-value-$1", "src", "source-value-(.*)")
  testmetric{src="source-value-10",dst="destination-value-10"} 0
  testmetric{src="source-value-20",dst="destination-value-20"} 1

eval instant at 0m label_replace(testmetric, "dst", "destination-value-$1", "src", "value-(.*)")
  testmetric{src="source-value-10",dst="original-destination-value"} 0
  testmetric{src="source-value-20",dst="original-destination-value"} 1

eval instant at 0m label_replace(testmetric, "dst", "$1-value-$2", "src", "(.*)-value-(.*)")
  testmetric{src="source-value-10",dst="source-value-10"} 0
  testmetric{src="source-value-20",dst="source-value-20"} 1

eval instant at 0m label_replace(testmetric, "dst", "value-$1", "nonexistent-src", "source-value-(.*)")
  testmetric{src="source-value-10",dst="original-destination-value"} 0
  testmetric{src="source-value-20",dst="original-destination-value"} 1

eval instant at 0m label_replace(testmetric, "dst", "value-$1", "nonexistent-src", "(.*)")
  testmetric{src="source-value-10",dst="value-"} 0
  testmetric{src="source-value-20",dst="value-"} 1

eval instant at 0m label_replace(testmetric, "dst", "", "dst", ".*")
  testmetric{src="source-value-10"} 0
  testmetric{src="source-value-20"} 1

eval instant at 0m label_replace(testmetric, "dst", "${1}0", "src", "source-value-(\\d)0")
  testmetric{src="source-value-10",dst="10"} 0
  testmetric{src="source-value-20",dst="20"} 1

eval_fail instant at 0m label_replace(testmetric, "dst", "value-$1", "src", "(.*")
  invalid regular expression in label_replace()

eval_fail instant at 0m label_replace(testmetric, "src", "", "", "")
  vector cannot contain metrics with the same labelset

eval_fail instant at 0m label_replace(testmetric, "", "x", "src", ".*")
  invalid destination label name

clear
load 5m
  testmetric{src="a",src1="b",src2="c",dst="original-destination-value"} 0
  testmetric{src="d",src1="e",src2="f",dst="original-destination-value"} 1

eval instant at 0m label_join(testmetric, "dst", "-", "src", "src1", "src2")
  testmetric{src="a",src1="b",src2="c",dst="a-b-c"} 0
  testmetric{src="d",src1="e",src2="f",dst="d-e-f"} 1

eval instant at 0m label_join(testmetric, "dst", "-", "src", "src3", "src1")
  testmetric{src="a",src1="b",src2="c",dst="a--b"} 0
  testmetric{src="d",src1="e",src2="f",dst="d--e"} 1

eval instant at 0m label_join(testmetric, "dst", "", "emptysrc", "emptysrc1", "emptysrc2")
  testmetric{src="a",src1="b",src2="c"} 0
  testmetric{src="d",src1="e",src2="f"} 1

eval instant at 0m label_join(testmetric, "new", "", "src")
  testmetric{src="a",src1="b",src2="c",dst="original-destination-value",new="a"} 0
  testmetric{src="d",src1="e",src2="f",dst="original-destination-value",new="d"} 1
"#);
}

#[test]
fn sort_functions() {
    run(r#"
load 5m
  http_requests{job="api-server", instance="0"} 3
  http_requests{job="api-server", instance="2"} 1
  http_requests{job="api-server", instance="10"} 2
  http_requests{job="app-server", instance="1"} NaN

eval_ordered instant at 0 sort(http_requests)
  http_requests{job="api-server", instance="2"} 1
  http_requests{job="api-server", instance="10"} 2
  http_requests{job="api-server", instance="0"} 3
  http_requests{job="app-server", instance="1"} NaN

eval_ordered instant at 0 sort_desc(http_requests)
  http_requests{job="api-server", instance="0"} 3
  http_requests{job="api-server", instance="10"} 2
  http_requests{job="api-server", instance="2"} 1
  http_requests{job="app-server", instance="1"} NaN

eval_ordered instant at 0 sort_by_label(http_requests, "instance")
  http_requests{job="api-server", instance="0"} 3
  http_requests{job="app-server", instance="1"} NaN
  http_requests{job="api-server", instance="2"} 1
  http_requests{job="api-server", instance="10"} 2

eval_ordered instant at 0 sort_by_label_desc(http_requests, "job", "instance")
  http_requests{job="app-server", instance="1"} NaN
  http_requests{job="api-server", instance="10"} 2
  http_requests{job="api-server", instance="2"} 1
  http_requests{job="api-server", instance="0"} 3

eval_ordered instant at 0 http_requests
  http_requests{job="api-server", instance="0"} 3
  http_requests{job="app-server", instance="1"} NaN
  http_requests{job="api-server", instance="10"} 2
  http_requests{job="api-server", instance="2"} 1
"#);
}

#[test]
fn math_functions() {
    run(r#"
load 5m
  test_clamp{src="clamp-a"} -50
  test_clamp{src="clamp-b"} 0
  test_clamp{src="clamp-c"} 100

eval instant at 0m clamp_max(test_clamp, 75)
  {src="clamp-a"} -50
  {src="clamp-b"} 0
  {src="clamp-c"} 75

eval instant at 0m clamp_min(test_clamp, -25)
  {src="clamp-a"} -25
  {src="clamp-b"} 0
  {src="clamp-c"} 100

eval instant at 0m clamp(test_clamp, -25, 75)
  {src="clamp-a"} -25
  {src="clamp-b"} 0
  {src="clamp-c"} 75

eval instant at 0m clamp_max(clamp_min(test_clamp, -20), 70)
  {src="clamp-a"} -20
  {src="clamp-b"} 0
  {src="clamp-c"} 70

eval instant at 0m clamp(test_clamp, 0, NaN)
  {src="clamp-a"} NaN
  {src="clamp-b"} NaN
  {src="clamp-c"} NaN

eval instant at 0m clamp(test_clamp, 5, -5)

eval instant at 0m abs(test_clamp)
  {src="clamp-a"} 50
  {src="clamp-b"} 0
  {src="clamp-c"} 100

eval instant at 0m sgn(test_clamp)
  {src="clamp-a"} -1
  {src="clamp-b"} 0
  {src="clamp-c"} 1

eval instant at 0m sqrt(test_clamp)
  {src="clamp-a"} NaN
  {src="clamp-b"} 0
  {src="clamp-c"} 10

eval instant at 0m ln(test_clamp{src="clamp-b"})
  {src="clamp-b"} -Inf

eval instant at 0m log10(test_clamp{src="clamp-c"})
  {src="clamp-c"} 2

eval instant at 0m log2(vector(8))
  {} 3

eval instant at 0m exp(vector(0))
  {} 1

eval instant at 0m round(vector(1.5))
  {} 2

eval instant at 0m round(vector(-1.5))
  {} -1

eval instant at 0m round(vector(2.5))
  {} 3

eval instant at 0m round(vector(0.45), 0.1)
  {} 0.5

eval instant at 0m round(vector(12345), 100)
  {} 12300

eval instant at 0m ceil(vector(1.1))
  {} 2

eval instant at 0m floor(vector(-1.1))
  {} -2

eval instant at 0m deg(vector(pi()))
  {} 180

eval instant at 0m rad(vector(180))
  {} 3.141592653589793

eval instant at 0m cos(vector(0))
  {} 1

eval instant at 0m atanh(vector(1))
  {} Inf

eval instant at 0m acosh(vector(1))
  {} 0

eval instant at 0m pi()
  3.141592653589793
"#);
}

#[test]
fn time_and_conversion_functions() {
    run(r#"
load 10s
  metric 0 1
  multi{a="1"} 1
  multi{a="2"} 2
  multi2{a="1"} 1

eval instant at 0m year()
  {} 1970

eval instant at 0m month()
  {} 1

eval instant at 0m day_of_month()
  {} 1

eval instant at 0m day_of_week()
  {} 4

eval instant at 0m hour()
  {} 0

eval instant at 0m year(vector(1136239445))
  {} 2006

eval instant at 0m month(vector(1136239445))
  {} 1

eval instant at 0m day_of_month(vector(1136239445))
  {} 2

eval instant at 0m day_of_week(vector(1136239445))
  {} 1

eval instant at 0m hour(vector(1136239445))
  {} 22

eval instant at 0m minute(vector(1136239445))
  {} 4

eval instant at 0m day_of_year(vector(1136239445))
  {} 2

eval instant at 0m days_in_month(vector(1454284800))
  {} 29

eval instant at 0m day_of_year(vector(1456704000))
  {} 60

eval instant at 0m hour(metric)
  {} 0

eval instant at 0m timestamp(metric)
  {} 0

eval instant at 5s timestamp(metric)
  {} 0

eval instant at 10s timestamp(((metric)))
  {} 10

eval instant at 15s timestamp(metric offset 5s)
  {} 10

eval instant at 15s timestamp(metric + 1)
  {} 15

eval instant at 15s time()
  15

eval instant at 10s scalar(metric)
  1

eval instant at 10s scalar(multi)
  NaN

eval instant at 10s scalar(nonexistent)
  NaN

eval instant at 10s vector(scalar(metric)) + 1
  {} 2

eval instant at 10s histogram_count(metric)

eval_fail instant at 10s hour({__name__=~"multi|multi2"})
  vector cannot contain metrics with the same labelset
"#);
}

/// Prometheus 3's query-frame functions: the query's start, end, span and
/// step in seconds, constant over the query and inside subqueries (an
/// instant query has no step: 0).
#[test]
fn query_frame_functions() {
    run(r#"
load 1s
  metric 1 2 3 4 5

eval range from 0 to 10s step 5s step()
  {} 5 5 5

eval instant at 3s step()
  0

eval range from 0s to 4s step 1s metric * step()
  {} 1 2 3 4 5

eval range from 0 to 20s step 10s max_over_time(vector(step())[30s:1s])
  {} 10 10 10

eval range from 10s to 50s step 10s range()
  {} 40 40 40 40 40

eval instant at 7s range()
  0

eval range from 100s to 130s step 10s start()
  {} 100 100 100 100

eval range from 100s to 130s step 10s end()
  {} 130 130 130 130

eval instant at 42s start() + end()
  84

eval instant at 0s min_of(3, 5)
  3

eval instant at 0s max_of(-2, -5)
  -2

eval instant at 0s min_of(NaN, 3)
  NaN

eval instant at 0s max_of(3, NaN)
  NaN
"#);
}
