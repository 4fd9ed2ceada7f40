//! The HTML report: the [`Audit`] rendered through `templates/report.html.j2` (minijinja,
//! auto-escaped) with plotly charts and an explorable map (search, side panel, cluster filter,
//! duplicate review, CSV downloads: `templates/explore.js`). plotly.js is inlined and the data
//! is embedded once, so the file opens offline with no external request.

mod explore;

use std::io::Write;
use std::path::Path;

use minijinja::{context, Environment, Value};

use crate::audit::Audit;
use crate::compare::Comparison;
use crate::error::{Error, Result};
use crate::io::write_atomic;

/// plotly.js 3.0.1 (MIT) with the only traces the reports draw (scatter, bar, scattergl), inlined
/// into every report: 1.3 MB, the full bundle 4.65 MB. Built by `assets/plotly-bundle/build.sh`.
const PLOTLY_JS: &str = include_str!("../../assets/plotly-3.0.1-embedscope.min.js");
const REPORT_TEMPLATE: &str = include_str!("../../templates/report.html.j2");
const COMPARE_TEMPLATE: &str = include_str!("../../templates/compare.html.j2");
/// The reports' shared style sheet.
const CSS: &str = include_str!("../../templates/report.css");
/// The reports' shared chart helpers (self-check, escaping, `plot`, `finish`).
const CHARTS_JS: &str = include_str!("../../templates/charts.js");
/// The audit report's explorable map, search, side panel, filters and downloads.
const EXPLORE_JS: &str = include_str!("../../templates/explore.js");

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // Numbers with a fixed number of decimals, the same on every platform.
    env.add_filter("fixed", |x: f64, digits: usize| format!("{x:.digits$}"));
    // `*.html.j2` is auto-escaped: minijinja strips the `.j2` before looking at the extension.
    env.add_template("report.html.j2", REPORT_TEMPLATE)
        .expect("the bundled template parses (checked by the snapshot tests)");
    env.add_template("compare.html.j2", COMPARE_TEMPLATE)
        .expect("the bundled template parses (checked by the compare report tests)");
    env
}

/// JSON safe to place inside `<script type="application/json">`: no `<`, `>` or `&` can end
/// the element or open a comment, whatever the corpus contains.
pub fn script_json<T: serde::Serialize>(value: &T) -> Result<String> {
    let s = serde_json::to_string(value)?;
    Ok(s.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029"))
}

/// Options for rendering.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Page title. Default: `embedscope audit: <file name>`.
    pub title: Option<String>,
    /// Inline plotly.js (default true). Off only for tests and previews that do not draw.
    pub inline_plotly: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            title: None,
            inline_plotly: true,
        }
    }
}

/// Renders the report to a string.
pub fn render_html(audit: &Audit, options: &ReportOptions) -> Result<String> {
    let env = environment();
    let tmpl = env
        .get_template("report.html.j2")
        .map_err(Error::template)?;
    let file_name = Path::new(&audit.corpus.source).file_name().map_or_else(
        || audit.corpus.source.clone(),
        |f| f.to_string_lossy().into_owned(),
    );
    let title = options
        .title
        .clone()
        .unwrap_or_else(|| format!("embedscope audit: {file_name}"));
    let data = script_json(audit)?;
    // The map's points, texts and neighbours travel beside the audit (not in audit.json).
    let explore = explore::explore_blob(audit)?.unwrap_or_default();
    let plotly = if options.inline_plotly { PLOTLY_JS } else { "" };
    tmpl.render(context! {
        title => title,
        audit => Value::from_serialize(audit),
        data_json => Value::from_safe_string(data),
        explore_data => Value::from_safe_string(explore),
        explore_js => Value::from_safe_string(EXPLORE_JS.to_string()),
        plotly_js => Value::from_safe_string(plotly.to_string()),
        css => Value::from_safe_string(CSS.to_string()),
        charts_js => Value::from_safe_string(CHARTS_JS.to_string()),
    })
    .map_err(Error::template)
}

/// Renders the comparison of two corpora (or two embeddings of one) to a string: the same
/// style and self-checks as the audit report, both maps linked when the comparison carries
/// them ([`CompareParams::run_audited`](crate::compare::CompareParams::run_audited)).
pub fn render_compare_html(c: &Comparison, options: &ReportOptions) -> Result<String> {
    let env = environment();
    let tmpl = env
        .get_template("compare.html.j2")
        .map_err(Error::template)?;
    let name = |s: &str| {
        Path::new(s)
            .file_name()
            .map_or_else(|| s.to_string(), |f| f.to_string_lossy().into_owned())
    };
    let title = options.title.clone().unwrap_or_else(|| {
        format!(
            "embedscope compare: {} vs {}",
            name(&c.source_a),
            name(&c.source_b)
        )
    });
    let plotly = if options.inline_plotly { PLOTLY_JS } else { "" };
    tmpl.render(context! {
        title => title,
        version => env!("CARGO_PKG_VERSION"),
        c => Value::from_serialize(c),
        has_maps => c.maps.as_ref().is_some_and(|m| m.a.is_some() || m.b.is_some()),
        data_json => Value::from_safe_string(script_json(c)?),
        maps_json => Value::from_safe_string(script_json(&c.maps)?),
        plotly_js => Value::from_safe_string(plotly.to_string()),
        css => Value::from_safe_string(CSS.to_string()),
        charts_js => Value::from_safe_string(CHARTS_JS.to_string()),
    })
    .map_err(Error::template)
}

/// Renders the comparison and writes it atomically to `path`.
pub fn write_compare_html(path: &Path, c: &Comparison, options: &ReportOptions) -> Result<()> {
    let html = render_compare_html(c, options)?;
    write_atomic(path, |w: &mut dyn Write| w.write_all(html.as_bytes()))
}

/// Renders the report and writes it atomically to `path`.
pub fn write_html(path: &Path, audit: &Audit, options: &ReportOptions) -> Result<()> {
    let html = render_html(audit, options)?;
    write_atomic(path, |w: &mut dyn Write| w.write_all(html.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_the_script() {
        let s = script_json(&vec!["</script><script>alert(1)</script>", "a & b", "<!--"]).unwrap();
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        let back: Vec<String> = serde_json::from_str(&s).unwrap();
        assert_eq!(back[0], "</script><script>alert(1)</script>");
    }
}
