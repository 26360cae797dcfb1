//! Calendar functions (`hour`, `day_of_week`, …): each sample's value is
//! read as Unix seconds and broken down in UTC; with no argument they use
//! the evaluation time. Civil-date arithmetic is done here (Howard
//! Hinnant's algorithm) rather than pulling in a date crate.

use promql_parser::parser::Expr;
use sextant_model::Labels;
use sextant_model::civil::civil_from_days;

use super::per_sample;
use crate::error::QueryError;
use crate::eval::Evaluator;
use crate::numeric::to_i64;
use crate::value::{Elem, Val};

/// Dispatches the calendar functions.
pub(crate) fn call(
    ev: &mut Evaluator,
    name: &str,
    args: &[&Expr],
    t: i64,
) -> Result<Val, QueryError> {
    let part = match name {
        "day_of_month" => Part::DayOfMonth,
        "day_of_week" => Part::DayOfWeek,
        "day_of_year" => Part::DayOfYear,
        "days_in_month" => Part::DaysInMonth,
        "hour" => Part::Hour,
        "minute" => Part::Minute,
        "month" => Part::Month,
        _ => Part::Year,
    };
    match args.first() {
        None => Ok(Val::Vector(vec![Elem {
            labels: Labels::default(),
            // Go's `enh.Ts/1000` truncates toward zero; so does `/`.
            v: part.of(t / 1000),
            ts: t,
        }])),
        Some(a) => {
            let v = ev.eval_vector(a, t)?;
            // Go converts with int64(f); values that do not fit give NaN here.
            per_sample(v, t, |f| to_i64(f).map_or(f64::NAN, |s| part.of(s)))
        }
    }
}

/// Which calendar field to extract.
#[derive(Clone, Copy)]
pub(crate) enum Part {
    DayOfMonth,
    DayOfWeek,
    DayOfYear,
    DaysInMonth,
    Hour,
    Minute,
    Month,
    Year,
}

impl Part {
    /// The field of the UTC time `secs` seconds after the epoch.
    pub(crate) fn of(self, secs: i64) -> f64 {
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        (match self {
            Part::DayOfMonth => d,
            // 1970-01-01 was a Thursday; Sunday is 0.
            Part::DayOfWeek => (days + 4).rem_euclid(7),
            Part::DayOfYear => day_of_year(y, m, d),
            Part::DaysInMonth => days_in_month(y, m),
            Part::Hour => sod / 3600,
            Part::Minute => sod % 3600 / 60,
            Part::Month => m,
            Part::Year => y,
        }) as f64
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn day_of_year(y: i64, m: i64, d: i64) -> i64 {
    (1..m).map(|mm| days_in_month(y, mm)).sum::<i64>() + d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        // 2024-02-29 is day 19782.
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(Part::DayOfYear.of(19_782 * 86_400), 60.0);
        assert_eq!(Part::DaysInMonth.of(19_782 * 86_400), 29.0);
        assert_eq!(Part::DayOfWeek.of(19_782 * 86_400), 4.0);
        assert_eq!(Part::Hour.of(-1), 23.0);
        assert_eq!(Part::Minute.of(3_599), 59.0);
    }
}
