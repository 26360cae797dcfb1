//! Per-sample math functions: rounding, clamping, exponentials and
//! logarithms, trigonometry. All drop `__name__`.

use promql_parser::parser::Expr;

use super::{arg, per_sample};
use crate::error::QueryError;
use crate::eval::Evaluator;
use crate::numeric::{go_max, go_min};
use crate::value::Val;

/// Dispatches the math functions; unknown names are an execution error.
pub(crate) fn call(
    ev: &mut Evaluator,
    name: &str,
    args: &[&Expr],
    t: i64,
) -> Result<Val, QueryError> {
    let f: fn(f64) -> f64 = match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sgn" => sgn,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "deg" => f64::to_degrees,
        "rad" => f64::to_radians,
        "round" => return round(ev, args, t),
        "clamp" | "clamp_min" | "clamp_max" => return clamp(ev, name, args, t),
        _ => {
            return Err(QueryError::exec(format!(
                "function {name}() is not supported"
            )));
        }
    };
    let v = ev.eval_vector(arg(args, 0)?, t)?;
    per_sample(v, t, f)
}

/// Go's `math.Signbit`-free sign: -1, 0 or 1, NaN stays NaN.
fn sgn(v: f64) -> f64 {
    if v < 0.0 {
        -1.0
    } else if v > 0.0 {
        1.0
    } else {
        v
    }
}

/// `round(v, to_nearest=1)`: rounds half up to a multiple of `to_nearest`,
/// computed via its inverse as Prometheus does (for exact decimal results).
fn round(ev: &mut Evaluator, args: &[&Expr], t: i64) -> Result<Val, QueryError> {
    let v = ev.eval_vector(arg(args, 0)?, t)?;
    let to_nearest = match args.get(1) {
        Some(a) => ev.eval_scalar(a, t)?,
        None => 1.0,
    };
    let inv = 1.0 / to_nearest;
    per_sample(v, t, |f| (f * inv + 0.5).floor() / inv)
}

/// `clamp(v, min, max)`, `clamp_min(v, min)`, `clamp_max(v, max)`; `clamp`
/// with `min > max` yields an empty vector. NaN bounds propagate (Go's max/min).
fn clamp(ev: &mut Evaluator, name: &str, args: &[&Expr], t: i64) -> Result<Val, QueryError> {
    let v = ev.eval_vector(arg(args, 0)?, t)?;
    let a = ev.eval_scalar(arg(args, 1)?, t)?;
    match name {
        "clamp" => {
            let max = ev.eval_scalar(arg(args, 2)?, t)?;
            if max < a {
                return Ok(Val::Vector(Vec::new()));
            }
            per_sample(v, t, |f| go_max(a, go_min(max, f)))
        }
        "clamp_min" => per_sample(v, t, |f| go_max(a, f)),
        _ => per_sample(v, t, |f| go_min(a, f)),
    }
}
