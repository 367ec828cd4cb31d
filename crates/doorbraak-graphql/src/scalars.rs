//! Scalars: `Decimal` crosses the API as a JSON string only.

use std::str::FromStr;

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use rust_decimal::Decimal;

/// An exact amount of euros, sent and received as a JSON string
/// (`"1234.56"`). Numbers are refused: they would pass through a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money(pub Decimal);

/// Exact decimal, sent and received as a JSON string ("1234.56"); euros with at most two decimals.
#[Scalar(name = "Decimal", specified_by_url = "https://docs.rs/rust_decimal")]
impl ScalarType for Money {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => {
                let t = s.trim();
                if t.is_empty() || t.contains(['e', 'E']) {
                    return Err(InputValueError::custom(
                        "a Decimal is a plain decimal string such as \"1234.56\"",
                    ));
                }
                Decimal::from_str(t)
                    .map(Money)
                    .map_err(|_| InputValueError::custom("not a decimal number"))
            }
            _ => Err(InputValueError::custom(
                "a Decimal is sent as a JSON string such as \"1234.56\", never as a number",
            )),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// A calendar date, ISO 8601 (`2027-01-01`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day(pub chrono::NaiveDate);

/// ISO 8601 calendar date ("2027-01-01").
#[Scalar(name = "Date")]
impl ScalarType for Day {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                .map(Day)
                .map_err(|_| InputValueError::custom("a Date is written YYYY-MM-DD")),
            _ => Err(InputValueError::custom(
                "a Date is a string such as \"2027-01-01\"",
            )),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}
