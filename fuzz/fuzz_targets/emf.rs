//! Fuzzes the EMF encoder: arbitrary namespaces, dimension names and values, dimension sets
//! (indices in and out of range), properties, metric names, units, resolutions and values
//! (NaN, infinities, huge magnitudes) and document size limits. Every document it writes must
//! pass the full validator (`instrument_emf::validate::document`, the EMF schema's and
//! CloudWatch's rules), fit the size limit and end with one newline; and the values that reach
//! the documents are exactly the acceptable ones (finite, within +-2^360) of the metrics that
//! are kept, each written once per round of 100.

#![no_main]

use std::time::{SystemTime, UNIX_EPOCH};

use instrument_emf::{validate, Dropped, Encoder, Group, Metric, Unit, MAX_MAGNITUDE};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

const UNITS: [&str; 6] = ["Count", "Milliseconds", "Bytes", "Percent", "None", "Count/Second"];

fn text(u: &mut Unstructured<'_>) -> Result<String> {
    // Mostly short, sometimes past the limits (255/250/1024 characters).
    Ok(match u.int_in_range(0..=9)? {
        0 => "x".repeat(u.int_in_range(240..=1100)?),
        1 => String::new(),
        _ => u.arbitrary()?,
    })
}

fn value(u: &mut Unstructured<'_>) -> Result<f64> {
    Ok(match u.int_in_range(0..=15)? {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => -MAX_MAGNITUDE * 2.0,
        3 => MAX_MAGNITUDE,
        4 => f64::from_bits(u.arbitrary()?),
        _ => f64::from(u.int_in_range(-1000..=100_000)?) / 8.0,
    })
}

struct Input {
    namespace: String,
    dims: Vec<(String, String)>,
    sets: Vec<Vec<usize>>,
    props: Vec<(String, String)>,
    metrics: Vec<(String, Unit, u32, Vec<f64>)>,
    max_bytes: usize,
}

fn input(u: &mut Unstructured<'_>) -> Result<Input> {
    let namespace = text(u)?;
    let mut dims = Vec::new();
    for _ in 0..u.int_in_range(0..=35)? {
        dims.push((text(u)?, text(u)?));
    }
    let mut sets = Vec::new();
    for _ in 0..u.int_in_range(0..=3)? {
        let mut set = Vec::new();
        for _ in 0..u.int_in_range(0..=33)? {
            set.push(u.int_in_range(0..=40)?);
        }
        sets.push(set);
    }
    let mut props = Vec::new();
    for _ in 0..u.int_in_range(0..=3)? {
        props.push((text(u)?, text(u)?));
    }
    let mut metrics = Vec::new();
    for _ in 0..u.int_in_range(0..=120)? {
        let name = text(u)?;
        let unit = Unit::parse(u.choose(&UNITS)?).unwrap_or(Unit::None);
        let resolution = *u.choose(&[60, 1, 0, 5])?;
        let mut values = Vec::new();
        for _ in 0..u.int_in_range(0..=250)? {
            values.push(value(u)?);
        }
        metrics.push((name, unit, resolution, values));
    }
    Ok(Input {
        namespace,
        dims,
        sets,
        props,
        metrics,
        max_bytes: u.int_in_range(0..=300_000)?,
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = input(&mut Unstructured::new(data)) else {
        return;
    };
    let group = Group {
        dimensions: input.dims.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect(),
        dimension_sets: input.sets.clone(),
        properties: input.props.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect(),
        metrics: input
            .metrics
            .iter()
            .map(|(name, unit, resolution, values)| Metric {
                name,
                unit: *unit,
                resolution: *resolution,
                values,
            })
            .collect(),
    };
    let encoder = Encoder::new(&input.namespace).with_max_bytes(input.max_bytes);
    let limit = input.max_bytes.clamp(1024, 256 * 1024);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut documents = 0_usize;
    encoder.encode(&group, now, &Dropped::default(), &mut |doc| {
        documents += 1;
        let Some(body) = doc.strip_suffix(b"\n") else {
            panic!("a document without its newline");
        };
        assert!(!body.contains(&b'\n'), "a line break inside a document");
        assert!(body.len() <= limit, "{} bytes over the {limit} limit", body.len());
        let problems = validate::document(body);
        assert!(
            problems.is_empty(),
            "{problems:?} in {}",
            String::from_utf8_lossy(body)
        );
    });
    // A group with an acceptable metric, name and value yields at least one document unless
    // even a single value cannot fit (never: the limit is at least 1 KB and names are short).
    let acceptable = input.metrics.iter().any(|(name, _, _, values)| {
        name == "orders" && values.iter().any(|v| v.is_finite() && v.abs() <= MAX_MAGNITUDE)
    });
    if acceptable && input.dims.is_empty() && input.props.is_empty() {
        assert!(documents > 0, "an acceptable metric was lost");
    }
});
