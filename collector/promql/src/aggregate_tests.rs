//! Aggregation cases, mostly from Prometheus's aggregators.test.

use crate::harness::run;

const REQUESTS: &str = r#"
load 5m
  http_requests{job="api-server", instance="0", group="production"} 0+10x10
  http_requests{job="api-server", instance="1", group="production"} 0+20x10
  http_requests{job="api-server", instance="0", group="canary"} 0+30x10
  http_requests{job="api-server", instance="1", group="canary"} 0+40x10
  http_requests{job="app-server", instance="0", group="production"} 0+50x10
  http_requests{job="app-server", instance="1", group="production"} 0+60x10
  http_requests{job="app-server", instance="0", group="canary"} 0+70x10
  http_requests{job="app-server", instance="1", group="canary"} 0+80x10
  version{job="app-server", instance="0", group="production"} 6x10
  version{job="app-server", instance="1", group="production"} 6x10
  version{job="app-server", instance="0", group="canary"} 8x10
  version{job="app-server", instance="1", group="canary"} 7x10
"#;

#[test]
fn basic_aggregations() {
    run(&format!(
        "{REQUESTS}{}",
        r#"
eval instant at 50m sum by (group) (http_requests{job="api-server"})
  {group="canary"} 700
  {group="production"} 300

eval instant at 50m sum(http_requests{job="api-server"}) by (group)
  {group="canary"} 700
  {group="production"} 300

eval instant at 50m avg by (group) (http_requests{job="api-server"})
  {group="canary"} 350
  {group="production"} 150

eval instant at 50m count by (group) (http_requests{job="api-server"})
  {group="canary"} 2
  {group="production"} 2

eval instant at 50m sum without (instance) (http_requests{job="api-server"})
  {group="canary",job="api-server"} 700
  {group="production",job="api-server"} 300

eval instant at 50m sum by () (http_requests)
  {} 3600

eval instant at 50m sum(http_requests)
  {} 3600

eval instant at 50m sum without (instance, job, group) (http_requests)
  {} 3600

eval instant at 50m sum by (__name__) (http_requests)
  http_requests 3600

eval instant at 50m sum by (nonexistent) (http_requests)
  {} 3600

eval instant at 50m max(http_requests)
  {} 800

eval instant at 50m min by (job) (http_requests)
  {job="api-server"} 100
  {job="app-server"} 500

eval instant at 50m group by (job) (http_requests)
  {job="api-server"} 1
  {job="app-server"} 1

eval instant at 50m stddev(http_requests)
  {} 229.12878474779200

eval instant at 50m stdvar(http_requests)
  {} 52500

eval instant at 50m stddev by (instance)(http_requests)
  {instance="0"} 223.60679774998
  {instance="1"} 223.60679774998

eval instant at 50m sum(nonexistent)

eval instant at 50m count(nonexistent)
"#
    ));
}

#[test]
fn topk_bottomk_limitk() {
    run(&format!(
        "{REQUESTS}{}",
        r#"
eval_ordered instant at 50m topk(3, http_requests)
  http_requests{group="canary", instance="1", job="app-server"} 800
  http_requests{group="canary", instance="0", job="app-server"} 700
  http_requests{group="production", instance="1", job="app-server"} 600

eval_ordered instant at 50m bottomk(3, http_requests)
  http_requests{group="production", instance="0", job="api-server"} 100
  http_requests{group="production", instance="1", job="api-server"} 200
  http_requests{group="canary", instance="0", job="api-server"} 300

eval instant at 50m topk by (group) (1, http_requests)
  http_requests{group="canary", instance="1", job="app-server"} 800
  http_requests{group="production", instance="1", job="app-server"} 600

eval instant at 50m topk(0, http_requests)

eval instant at 50m count(topk(100, http_requests{job="api-server"}))
  {} 4

eval instant at 50m topk(scalar(count(http_requests)) - 7, http_requests)
  http_requests{group="canary", instance="1", job="app-server"} 800

eval instant at 50m limitk(2, http_requests{group="canary"})
  http_requests{group="canary", instance="0", job="api-server"} 300
  http_requests{group="canary", instance="0", job="app-server"} 700

eval instant at 50m count(limitk by (group) (1, http_requests))
  {} 2

eval instant at 50m count(limit_ratio(1, http_requests))
  {} 8

eval instant at 50m count(limit_ratio(0, http_requests))

eval instant at 50m count(limit_ratio(0.3, http_requests) or limit_ratio(-0.7, http_requests))
  {} 8

eval instant at 50m count(limit_ratio(0.3, http_requests) and limit_ratio(-0.7, http_requests))

eval_fail instant at 50m topk(NaN, http_requests)
  Parameter value is NaN
"#
    ));
    run(r#"
load 5m
  v{a="1"} NaN
  v{a="2"} 1
  v{a="3"} 2

eval_ordered instant at 0 topk(3, v)
  v{a="3"} 2
  v{a="2"} 1
  v{a="1"} NaN

eval_ordered instant at 0 bottomk(2, v)
  v{a="2"} 1
  v{a="3"} 2

eval instant at 0 max(v)
  {} 2

eval instant at 0 min(v)
  {} 1

eval instant at 0 sum(v)
  {} NaN
"#);
}

#[test]
fn count_values_and_quantile() {
    run(&format!(
        "{REQUESTS}{}",
        r#"
eval instant at 50m count_values("version", version)
  {version="6"} 2
  {version="7"} 1
  {version="8"} 1

eval instant at 50m count_values without (instance)("version", version)
  {job="app-server", group="production", version="6"} 2
  {job="app-server", group="canary", version="8"} 1
  {job="app-server", group="canary", version="7"} 1

eval instant at 50m count_values by (job) ("job", version)
  {job="6"} 2
  {job="7"} 1
  {job="8"} 1

eval instant at 50m count_values("v", vector(0.1))
  {v="0.1"} 1

eval instant at 50m count_values without (version) ("version", version)
  {job="app-server", group="production", instance="0"} 1
  {job="app-server", group="production", instance="1"} 1
  {job="app-server", group="canary", instance="0"} 1
  {job="app-server", group="canary", instance="1"} 1

eval_fail instant at 50m count_values("", version)
  invalid label name
"#
    ));
    run(r#"
load 10s
  data{test="two samples",point="a"} 0
  data{test="two samples",point="b"} 1
  data{test="three samples",point="a"} 0
  data{test="three samples",point="b"} 1
  data{test="three samples",point="c"} 2
  data{test="uneven samples",point="a"} 0
  data{test="uneven samples",point="b"} 1
  data{test="uneven samples",point="c"} 4

eval instant at 1m quantile without(point)(0.8, data)
  {test="two samples"} 0.8
  {test="three samples"} 1.6
  {test="uneven samples"} 2.8

eval instant at 1m quantile without(point)(0.2, data)
  {test="two samples"} 0.2
  {test="three samples"} 0.4
  {test="uneven samples"} 0.4

eval instant at 1m quantile without(point)(1.5, data)
  {test="two samples"} Inf
  {test="three samples"} Inf
  {test="uneven samples"} Inf

eval instant at 1m quantile without(point)(-1, data)
  {test="two samples"} -Inf
  {test="three samples"} -Inf
  {test="uneven samples"} -Inf

eval instant at 1m quantile without(point)(NaN, data)
  {test="two samples"} NaN
  {test="three samples"} NaN
  {test="uneven samples"} NaN
"#);
}

#[test]
fn avg_with_infinities_and_overflow() {
    run(r#"
load 10s
  data{test="ten",point="a"} 8
  data{test="ten",point="b"} 10
  data{test="ten",point="c"} 12
  data{test="inf",point="a"} 0
  data{test="inf",point="b"} Inf
  data{test="inf",point="d"} Inf
  data{test="inf",point="c"} 0
  data{test="-inf",point="a"} -Inf
  data{test="-inf",point="b"} -Inf
  data{test="-inf",point="c"} 0
  data{test="inf3",point="b"} Inf
  data{test="inf3",point="d"} Inf
  data{test="inf3",point="c"} Inf
  data{test="inf3",point="a"} -Inf
  data{test="nan",point="a"} -Inf
  data{test="nan",point="b"} 0
  data{test="nan",point="c"} Inf
  data{test="big",point="a"} 9.988465674311579e+307
  data{test="big",point="b"} 9.988465674311579e+307
  data{test="big",point="c"} 9.988465674311579e+307
  data{test="big",point="d"} 9.988465674311579e+307
  data{test="-big",point="a"} -9.988465674311579e+307
  data{test="-big",point="b"} -9.988465674311579e+307
  data{test="-big",point="c"} -9.988465674311579e+307
  data{test="-big",point="d"} -9.988465674311579e+307
  data{test="bigzero",point="a"} -9.988465674311579e+307
  data{test="bigzero",point="b"} -9.988465674311579e+307
  data{test="bigzero",point="c"} 9.988465674311579e+307
  data{test="bigzero",point="d"} 9.988465674311579e+307

eval instant at 1m avg(data{test="ten"})
  {} 10

eval instant at 1m avg(data{test="inf"})
  {} Inf

eval instant at 1m avg(data{test="-inf"})
  {} -Inf

eval instant at 1m avg(data{test="inf3"})
  {} NaN

eval instant at 1m avg(data{test="nan"})
  {} NaN

eval instant at 1m avg(data{test="big"})
  {} 9.988465674311579e+307

eval instant at 1m avg(data{test="-big"})
  {} -9.988465674311579e+307

eval instant at 1m avg(data{test="bigzero"})
  {} 0

eval instant at 1m sum(data{test="bigzero"})
  {} 0

eval instant at 1m avg_over_time(data{test="ten"}[2m])
  {test="ten", point="a"} 8
  {test="ten", point="b"} 10
  {test="ten", point="c"} 12
"#);
}

/// limit_ratio's position comes from Prometheus's `Labels.Hash()`: xxhash64
/// (seed 0) of `name 0xff value 0xff …`; the primitive is checked against
/// xxHash's published vectors and the framing against a one-shot hash.
#[test]
fn labels_hash_is_prometheus_labels_hash() {
    use sextant_model::Labels;
    use twox_hash::XxHash64;

    for (input, want) in [
        (&b""[..], 0xEF46_DB37_51D8_E999u64),
        (b"a", 0xD24E_C4F1_A98C_6E5B),
        (b"abc", 0x44BC_2CF5_AD77_0999),
    ] {
        assert_eq!(XxHash64::oneshot(0, input), want, "{input:?}");
    }
    let l = Labels::from_pairs(vec![
        ("job".into(), "api".into()),
        ("__name__".into(), "up".into()),
    ]);
    let framed = b"__name__\xffup\xffjob\xffapi\xff";
    assert_eq!(
        crate::aggregate::labels_hash(&l),
        XxHash64::oneshot(0, framed)
    );
    assert_eq!(
        crate::aggregate::labels_hash(&Labels::default()),
        0xEF46_DB37_51D8_E999
    );
}
