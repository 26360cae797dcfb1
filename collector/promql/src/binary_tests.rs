//! Binary operator cases: scalar arithmetic and precedence, vector/scalar,
//! comparisons with and without `bool`, set operators, vector matching.

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
"#;

#[test]
fn scalar_arithmetic_and_precedence() {
    run(r#"
eval instant at 0 1 + 2 * 3
  7

eval instant at 0 (1 + 2) * 3
  9

eval instant at 0 2 ^ 3 ^ 2
  512

eval instant at 0 -2 ^ 2
  -4

eval instant at 0 5 % 3
  2

eval instant at 0 -5 % 3
  -2

eval instant at 0 1 / 0
  Inf

eval instant at 0 -1 / 0
  -Inf

eval instant at 0 0 / 0
  NaN

eval instant at 0 1 atan2 1
  0.7853981633974483

eval instant at 0 1 > bool 2
  0

eval instant at 0 2 >= bool 2
  1

eval instant at 0 NaN == bool NaN
  0

eval instant at 0 "hello"
  "hello"
"#);
}

#[test]
fn vector_scalar_operations() {
    run(&format!(
        "{REQUESTS}{}",
        r#"
eval instant at 50m http_requests{job="api-server", group="canary"} + rate(http_requests{job="api-server"}[10m]) * 5 * 60
  {group="canary", instance="0", job="api-server"} 330
  {group="canary", instance="1", job="api-server"} 440

eval instant at 50m -http_requests{job="api-server",instance="0",group="production"}
  {job="api-server",instance="0",group="production"} -100

eval instant at 50m - - http_requests{job="api-server",instance="0",group="production"}
  {job="api-server",instance="0",group="production"} 100

eval instant at 50m 2 * http_requests{job="api-server",instance="0",group="production"} - 1
  {job="api-server",instance="0",group="production"} 199

eval instant at 50m http_requests{group="canary", instance="0", job="api-server"} / 0
  {group="canary", instance="0", job="api-server"} Inf

eval instant at 50m http_requests{group="canary", instance="0", job="api-server"} ^ 0.5 * 0
  {group="canary", instance="0", job="api-server"} 0

eval instant at 50m http_requests{group="canary"} > 300
  http_requests{group="canary", instance="1", job="api-server"} 400
  http_requests{group="canary", instance="0", job="app-server"} 700
  http_requests{group="canary", instance="1", job="app-server"} 800

eval instant at 50m 300 < http_requests{group="canary"}
  http_requests{group="canary", instance="1", job="api-server"} 400
  http_requests{group="canary", instance="0", job="app-server"} 700
  http_requests{group="canary", instance="1", job="app-server"} 800

eval instant at 50m http_requests{group="canary"} > bool 300
  {group="canary", instance="0", job="api-server"} 0
  {group="canary", instance="1", job="api-server"} 1
  {group="canary", instance="0", job="app-server"} 1
  {group="canary", instance="1", job="app-server"} 1

eval instant at 50m http_requests{group="canary", job="api-server"} == 300
  http_requests{group="canary", instance="0", job="api-server"} 300

eval instant at 50m http_requests{group="canary", job="api-server"} != bool 300
  {group="canary", instance="0", job="api-server"} 0
  {group="canary", instance="1", job="api-server"} 1

eval instant at 50m http_requests{group="canary", job="api-server"} <= 300
  http_requests{group="canary", instance="0", job="api-server"} 300
"#
    ));
}

#[test]
fn vector_vector_and_set_operators() {
    run(&format!(
        "{REQUESTS}{}",
        r#"
eval instant at 50m http_requests{group="canary"} and http_requests{instance="0"}
  http_requests{group="canary", instance="0", job="api-server"} 300
  http_requests{group="canary", instance="0", job="app-server"} 700

eval instant at 50m (http_requests{group="canary"} + 1) and http_requests{instance="0"}
  {group="canary", instance="0", job="api-server"} 301
  {group="canary", instance="0", job="app-server"} 701

eval instant at 50m http_requests{group="canary"} and on(instance, job) http_requests{instance="0", group="production"}
  http_requests{group="canary", instance="0", job="api-server"} 300
  http_requests{group="canary", instance="0", job="app-server"} 700

eval instant at 50m http_requests{group="canary"} and ignoring(group) http_requests{instance="0", group="production"}
  http_requests{group="canary", instance="0", job="api-server"} 300
  http_requests{group="canary", instance="0", job="app-server"} 700

eval instant at 50m http_requests{group="canary"} or http_requests{group="production", instance="0"}
  http_requests{group="canary", instance="0", job="api-server"} 300
  http_requests{group="canary", instance="1", job="api-server"} 400
  http_requests{group="canary", instance="0", job="app-server"} 700
  http_requests{group="canary", instance="1", job="app-server"} 800
  http_requests{group="production", instance="0", job="api-server"} 100
  http_requests{group="production", instance="0", job="app-server"} 500

eval instant at 50m (http_requests{group="canary"} + 1) or on(job) http_requests{group="production"}
  {group="canary", instance="0", job="api-server"} 301
  {group="canary", instance="1", job="api-server"} 401
  {group="canary", instance="0", job="app-server"} 701
  {group="canary", instance="1", job="app-server"} 801

eval instant at 50m http_requests{group="canary"} unless http_requests{instance="0"}
  http_requests{group="canary", instance="1", job="api-server"} 400
  http_requests{group="canary", instance="1", job="app-server"} 800

eval instant at 50m http_requests{group="canary"} unless on(job) http_requests{instance="0"}

eval instant at 50m http_requests{group="canary"} unless ignoring(group, instance) http_requests{job="app-server"}
  http_requests{group="canary", instance="0", job="api-server"} 300
  http_requests{group="canary", instance="1", job="api-server"} 400

eval instant at 50m http_requests{group="canary"} / ignoring(group) http_requests{group="production"}
  {instance="0", job="api-server"} 3
  {instance="1", job="api-server"} 2
  {instance="0", job="app-server"} 1.4
  {instance="1", job="app-server"} 1.3333333333333333

eval instant at 50m http_requests{group="canary"} - on(instance, job) http_requests{group="production"}
  {instance="0", job="api-server"} 200
  {instance="1", job="api-server"} 200
  {instance="0", job="app-server"} 200
  {instance="1", job="app-server"} 200

eval instant at 50m http_requests{group="canary"} > on(instance, job) http_requests{group="production"}
  {instance="0", job="api-server"} 300
  {instance="1", job="api-server"} 400
  {instance="0", job="app-server"} 700
  {instance="1", job="app-server"} 800

eval instant at 50m http_requests{group="canary"} == ignoring(group) http_requests{group="production"}

eval instant at 50m http_requests{group="canary"} < bool ignoring(group) http_requests{group="production"}
  {instance="0", job="api-server"} 0
  {instance="1", job="api-server"} 0
  {instance="0", job="app-server"} 0
  {instance="1", job="app-server"} 0

eval instant at 50m http_requests{group="canary"} + http_requests{group="production"}

eval instant at 50m vector(1) or http_requests{group="canary", instance="0", job="api-server"}
  {} 1
  http_requests{group="canary", instance="0", job="api-server"} 300
"#
    ));
}

#[test]
fn group_left_and_group_right() {
    run(r#"
load 5m
  node_var{instance="abc",job="node"} 2
  node_role{instance="abc",job="node",role="prometheus"} 1
  node_cpu{instance="abc",job="node",mode="idle"} 3
  node_cpu{instance="abc",job="node",mode="user"} 1
  node_cpu{instance="def",job="node",mode="idle"} 8
  node_cpu{instance="def",job="node",mode="user"} 2
  random{foo="bar"} 1
  threshold{instance="abc",job="node",target="a@b.com"} 0

eval instant at 0m node_role * on (instance) group_right (role) node_var
  {instance="abc",job="node",role="prometheus"} 2

eval instant at 0m node_var * on (instance) group_left (role) node_role
  {instance="abc",job="node",role="prometheus"} 2

eval instant at 0m node_var * ignoring (role) group_left (role) node_role
  {instance="abc",job="node",role="prometheus"} 2

eval instant at 0m node_role * ignoring (role) group_right (role) node_var
  {instance="abc",job="node",role="prometheus"} 2

eval instant at 0m node_cpu * ignoring (role, mode) group_left (role) node_role
  {instance="abc",job="node",mode="idle",role="prometheus"} 3
  {instance="abc",job="node",mode="user",role="prometheus"} 1

eval instant at 0m node_cpu * on (instance) group_left (role) node_role
  {instance="abc",job="node",mode="idle",role="prometheus"} 3
  {instance="abc",job="node",mode="user",role="prometheus"} 1

eval instant at 0m node_cpu / on (instance) group_left sum by (instance,job)(node_cpu)
  {instance="abc",job="node",mode="idle"} .75
  {instance="abc",job="node",mode="user"} .25
  {instance="def",job="node",mode="idle"} .8
  {instance="def",job="node",mode="user"} .2

eval instant at 0m sum by (mode, job)(node_cpu) / on (job) group_left sum by (job)(node_cpu)
  {job="node",mode="idle"} 0.7857142857142857
  {job="node",mode="user"} 0.21428571428571427

eval instant at 0m sum(sum by (mode, job)(node_cpu) / on (job) group_left sum by (job)(node_cpu))
  {} 1.0

eval instant at 0m node_cpu / ignoring (mode) group_left sum without (mode)(node_cpu)
  {instance="abc",job="node",mode="idle"} .75
  {instance="abc",job="node",mode="user"} .25
  {instance="def",job="node",mode="idle"} .8
  {instance="def",job="node",mode="user"} .2

eval instant at 0m node_cpu + on(dummy) group_left(foo) random*0
  {instance="abc",job="node",mode="idle",foo="bar"} 3
  {instance="abc",job="node",mode="user",foo="bar"} 1
  {instance="def",job="node",mode="idle",foo="bar"} 8
  {instance="def",job="node",mode="user",foo="bar"} 2

eval instant at 0m node_cpu > on(job, instance) group_left(target) threshold
  node_cpu{instance="abc",job="node",mode="idle",target="a@b.com"} 3
  node_cpu{instance="abc",job="node",mode="user",target="a@b.com"} 1

eval instant at 0m node_cpu > bool on(job, instance) group_left(target) threshold
  {instance="abc",job="node",mode="idle",target="a@b.com"} 1
  {instance="abc",job="node",mode="user",target="a@b.com"} 1

eval_fail instant at 0m node_cpu + on(instance) node_cpu
  found duplicate series for the match group {instance="abc"} on the right hand-side of the operation

eval_fail instant at 0m node_cpu + on(instance) group_right node_role
  on the left hand-side of the operation

eval_fail instant at 0m node_cpu * on(instance) node_role
  multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)

eval_fail instant at 0m node_cpu{mode="idle"} * on(job) group_left(instance) node_var
  multiple matches for labels: grouping labels must ensure unique matches
"#);
}

#[test]
fn name_handling_and_duplicates() {
    run(r#"
load 5m
  a{l="1"} 1
  b{l="1"} 2

eval instant at 0 {__name__=~"a|b"} > 0
  a{l="1"} 1
  b{l="1"} 2

eval_fail instant at 0 {__name__=~"a|b"} + 1
  vector cannot contain metrics with the same labelset

eval_fail instant at 0 -{__name__=~"a|b"}
  vector cannot contain metrics with the same labelset

eval_fail instant at 0 {__name__=~"a|b"} > bool 1
  vector cannot contain metrics with the same labelset

eval instant at 0 a + on(l) b
  {l="1"} 3

eval instant at 0 a and b
  a{l="1"} 1

eval instant at 0 a unless on(l) b
"#);
}
