//! `audit.json` and `compare.json` have JSON Schemas generated from the types that write them,
//! committed as `schemas/audit.schema.json` and `schemas/compare.schema.json` for users and CI
//! gates. The committed files must equal the generated ones (`EMBEDSCOPE_UPDATE_SCHEMA=1 cargo
//! test --release --test schema` rewrites them after a deliberate change), and a real audit and
//! comparison must validate against them, every key documented.

mod common;

use embedscope::audit::{audit_schema, AuditDocument};
use embedscope::Audit;
use serde_json::Value;

/// Checks `value` against `schema` (the subset of JSON Schema that schemars writes: `$ref`,
/// `type`, `properties`, `required`, `items`, `prefixItems`, `anyOf`, `oneOf`, `allOf`,
/// `enum`, `const`), stricter in one way: an object may hold only keys its schema names.
fn validate(value: &Value, schema: &Value, root: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/$defs/");
        return validate(value, &root["$defs"][name], root, at, errors);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let fits = options.iter().any(|o| {
                let mut e = Vec::new();
                validate(value, o, root, at, &mut e);
                e.is_empty()
            });
            if !fits {
                errors.push(format!("{at}: fits none of {key}"));
            }
            return;
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            validate(value, s, root, at, errors);
        }
    }
    if let Some(c) = schema.get("const") {
        if c != value {
            errors.push(format!("{at}: {value} is not {c}"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(value) {
            errors.push(format!("{at}: {value} is not one of {e:?}"));
        }
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let is = |t: &str| match t {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        };
        if !types.iter().any(|t| is(t)) {
            errors.push(format!("{at}: {value} is not of type {types:?}"));
            return;
        }
    }
    if let Some(obj) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        let all_of_properties: Vec<&serde_json::Map<String, Value>> = schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("properties").and_then(Value::as_object))
            .collect();
        if let Some(props) = properties {
            for (k, v) in obj {
                match props.get(k) {
                    Some(s) => validate(v, s, root, &format!("{at}.{k}"), errors),
                    None if all_of_properties.iter().any(|p| p.contains_key(k)) => {}
                    None => errors.push(format!("{at}.{k}: not in the schema")),
                }
            }
        }
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap_or("");
            if !obj.contains_key(r) {
                errors.push(format!("{at}: required `{r}` missing"));
            }
        }
    }
    if let Some(items) = value.as_array() {
        let prefix = schema.get("prefixItems").and_then(Value::as_array);
        for (i, v) in items.iter().enumerate() {
            let s = prefix
                .and_then(|p| p.get(i))
                .or_else(|| schema.get("items"));
            if let Some(s) = s {
                validate(v, s, root, &format!("{at}[{i}]"), errors);
            }
        }
    }
}

#[test]
fn the_committed_schemas_are_the_generated_ones() {
    for (name, schema) in [
        ("audit", audit_schema()),
        ("compare", embedscope::compare::compare_schema()),
    ] {
        let path = common::repo(&format!("schemas/{name}.schema.json"));
        let generated = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        if std::env::var_os("EMBEDSCOPE_UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "schemas/{name}.schema.json is not what the types generate: rerun with \
             EMBEDSCOPE_UPDATE_SCHEMA=1 after a deliberate change to {name}.json"
        );
    }
}

#[test]
fn a_comparison_validates_with_every_key_documented() {
    let (a, b) = common::sample_snapshots(5);
    let audit_a = Audit::builder().k_range(2, 4).run(&a).unwrap();
    let audit_b = Audit::builder().k_range(2, 4).run(&b).unwrap();
    let c = embedscope::compare::Compare::params()
        .k_range(2, 4)
        .run_audited(&a, &b, &audit_a, &audit_b)
        .unwrap();
    let doc: Value = serde_json::to_value(&c).unwrap();
    let schema = embedscope::compare::compare_schema();
    let mut errors = Vec::new();
    validate(&doc, &schema, &schema, "$", &mut errors);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert!(doc["side_by_side"].is_object() && doc["drift"].is_object());
}

#[test]
fn an_audit_merged_from_a_clusters_results_validates() {
    let corpus = common::sample_head(400);
    let rows: Vec<usize> = (0..400).step_by(2).collect();
    let (sample, sample_corpus) = common::merged::sample_audit(&corpus, &rows);
    let results = common::merged::worker_results(&corpus, &sample, &[0, 50, 100]);
    let audit = Audit::merge(sample, &sample_corpus, &results).unwrap();
    let doc = audit_json(&audit);
    assert!(doc["duplicates"]["largest_groups"][0]["kept_id"].is_string());
    assert!(doc["duplicates"]["largest_groups"][0].get("kept").is_none());
    let schema = audit_schema();
    let mut errors = Vec::new();
    validate(&doc, &schema, &schema, "$", &mut errors);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// `audit.json`'s document for `audit`, as JSON data.
fn audit_json(audit: &Audit) -> Value {
    let text = AuditDocument {
        audit,
        report: "reports/x.html".into(),
    }
    .to_json()
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn an_audit_validates_with_every_key_documented() {
    let corpus = common::sample_head(200);
    // With queries (20 of the documents, judged by their own ids), so their keys are checked.
    let mut queries = common::sample_head(20);
    let relevant = queries.ids.iter().map(|id| vec![id.clone()]).collect();
    queries.source = "queries.jsonl".into();
    let audit = Audit::builder()
        .k_range(2, 4)
        .queries(
            &queries,
            embedscope::queries::Queries::params().relevant(Some(relevant)),
        )
        .run(&corpus)
        .unwrap();
    assert!(audit.queries.as_ref().unwrap().judged.is_some());
    let doc = audit_json(&audit);
    let schema = audit_schema();
    let mut errors = Vec::new();
    validate(&doc, &schema, &schema, "$", &mut errors);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The validator catches what it should: an undocumented key and a wrong type.
    let mut bad = doc.clone();
    bad["surprise"] = 1.into();
    bad["verdict"]["pass"] = "yes".into();
    bad["clusters"][0]["examples"][0]["row"] = "first".into();
    let mut errors = Vec::new();
    validate(&bad, &schema, &schema, "$", &mut errors);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("$.surprise: not in the schema")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.starts_with("$.verdict.pass")),
        "{errors:?}"
    );
}
