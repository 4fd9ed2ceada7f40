//! Rich display in notebooks (the evcxr Jupyter kernel).
//!
//! Every result type renders itself as compact HTML through a pure `to_html()` (tables, and
//! charts drawn as inline SVG, so they show in any notebook viewer, trusted or not, offline);
//! results with a chart also offer a plotly figure (`to_plotly()`), sent beside the HTML as
//! `application/vnd.plotly.v1+json` for frontends that draw plotly natively (VS Code,
//! JupyterLab with plotly's extension). `evcxr_display()` is the only code in the library that
//! writes to stdout, in evcxr's `EVCXR_BEGIN_CONTENT` protocol; tabular results also come as
//! polars DataFrames (`to_frame()`).

use std::fmt::Write as _;

use serde_json::{json, Value};

/// The palette of the charts (plotly's default colours).
const COLOURS: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// `s` with `& < > " '` as HTML entities.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A titled block: `<div class="embedscope">` with a heading, then `body`.
pub fn block(title: &str, body: &str) -> String {
    format!(
        "<div class=\"embedscope\" style=\"font-family:system-ui,sans-serif;font-size:13px\">\
         <b style=\"font-size:14px\">{}</b>{body}</div>",
        escape(title)
    )
}

/// `name: value` facts on one line.
pub fn facts(items: &[(&str, String)]) -> String {
    let mut s = String::from("<p style=\"margin:4px 0\">");
    for (i, (k, v)) in items.iter().enumerate() {
        if i > 0 {
            s.push_str(" &middot; ");
        }
        let _ = write!(s, "{}: <b>{}</b>", escape(k), escape(v));
    }
    s.push_str("</p>");
    s
}

/// An HTML table; every cell is escaped. At most `max_rows` rows are shown, with a line saying
/// how many were left out.
pub fn table(headers: &[&str], rows: &[Vec<String>], max_rows: usize) -> String {
    let mut s = String::from("<table style=\"border-collapse:collapse;margin:4px 0\"><thead><tr>");
    for h in headers {
        let _ = write!(
            s,
            "<th style=\"text-align:left;padding:2px 8px;border-bottom:1px solid #ccc\">{}</th>",
            escape(h)
        );
    }
    s.push_str("</tr></thead><tbody>");
    for row in rows.iter().take(max_rows) {
        s.push_str("<tr>");
        for cell in row {
            let _ = write!(
                s,
                "<td style=\"padding:2px 8px;border-bottom:1px solid #eee;vertical-align:top\">{}</td>",
                escape(cell)
            );
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    if rows.len() > max_rows {
        let _ = write!(
            s,
            "<p style=\"margin:2px 0;color:#666\">{} more rows (to_frame() has them all)</p>",
            rows.len() - max_rows
        );
    }
    s
}

/// One line of a line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// x values.
    pub x: Vec<f64>,
    /// y values.
    pub y: Vec<f64>,
}

const W: f64 = 420.0;
const H: f64 = 240.0;
const PAD: (f64, f64, f64, f64) = (48.0, 12.0, 28.0, 36.0); // left, right, top, bottom

fn range(v: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = v
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if hi - lo < 1e-12 {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    }
}

fn num(v: f64) -> String {
    if v.abs() >= 1000.0 || (v != 0.0 && v.abs() < 0.01) {
        format!("{v:.3e}")
    } else {
        format!("{v:.3}")
    }
}

/// An SVG frame with a title and the two axis ranges labelled; returns the SVG opening and
/// the mapping to pixels.
fn frame(title: &str, xr: (f64, f64), yr: (f64, f64)) -> (String, impl Fn(f64, f64) -> (f64, f64)) {
    let (l, r, t, b) = PAD;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" style=\"background:#fff\">\
         <text x=\"{}\" y=\"16\" text-anchor=\"middle\" font-size=\"13\">{}</text>\
         <rect x=\"{l}\" y=\"{t}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#ccc\"/>",
        W / 2.0,
        escape(title),
        W - l - r,
        H - t - b
    );
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>\
         <text x=\"{l}\" y=\"{}\" font-size=\"10\">{}</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{}</text>",
        l - 4.0,
        t + 8.0,
        num(yr.1),
        l - 4.0,
        H - b,
        num(yr.0),
        H - b + 14.0,
        num(xr.0),
        W - r,
        H - b + 14.0,
        num(xr.1),
    );
    let map = move |x: f64, y: f64| {
        (
            l + (x - xr.0) / (xr.1 - xr.0) * (W - l - r),
            H - b - (y - yr.0) / (yr.1 - yr.0) * (H - t - b),
        )
    };
    (s, map)
}

/// A line chart as SVG; `mark_x` circles the points at that x (the chosen K, say).
pub fn line_svg(title: &str, series: &[Series], mark_x: Option<f64>) -> String {
    let xr = range(series.iter().flat_map(|s| s.x.iter().copied()));
    let yr = range(series.iter().flat_map(|s| s.y.iter().copied()));
    let (mut s, map) = frame(title, xr, yr);
    for (i, ser) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let pts: Vec<String> = ser
            .x
            .iter()
            .zip(&ser.y)
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|(&x, &y)| {
                let (px, py) = map(x, y);
                format!("{px:.1},{py:.1}")
            })
            .collect();
        let _ = write!(
            s,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{}\"/>",
            pts.join(" ")
        );
        for (&x, &y) in ser.x.iter().zip(&ser.y) {
            if !(x.is_finite() && y.is_finite()) {
                continue;
            }
            let (px, py) = map(x, y);
            let _ = write!(
                s,
                "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"2.5\" fill=\"{colour}\"/>"
            );
            if mark_x == Some(x) {
                let _ = write!(
                    s,
                    "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"7\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>"
                );
            }
        }
    }
    if series.len() > 1 {
        for (i, ser) in series.iter().enumerate() {
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"{}\">{}</text>",
                PAD.0 + 6.0,
                PAD.2 + 12.0 + 12.0 * i as f64,
                COLOURS[i % COLOURS.len()],
                escape(&ser.name)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// A scatter plot as SVG, one colour per group (at most 20,000 points drawn, evenly thinned).
pub fn scatter_svg(title: &str, points: &[[f32; 2]], groups: &[usize]) -> String {
    let xr = range(points.iter().map(|p| f64::from(p[0])));
    let yr = range(points.iter().map(|p| f64::from(p[1])));
    let (mut s, map) = frame(title, xr, yr);
    let step = points.len().div_ceil(20_000).max(1);
    let r = if points.len() > 2000 { 1.2 } else { 3.0 };
    for (i, p) in points.iter().enumerate().step_by(step) {
        let (px, py) = map(f64::from(p[0]), f64::from(p[1]));
        let g = groups.get(i).copied().unwrap_or(0);
        let _ = write!(
            s,
            "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"{r}\" fill=\"{}\" fill-opacity=\"0.75\"/>",
            COLOURS[g % COLOURS.len()]
        );
    }
    s.push_str("</svg>");
    s
}

/// Charts side by side.
pub fn row_of(charts: &[String]) -> String {
    format!(
        "<div style=\"display:flex;flex-wrap:wrap;gap:8px;margin:4px 0\">{}</div>",
        charts.concat()
    )
}

/// A plotly figure of lines (`mark_x` as a red ring).
pub fn plotly_lines(title: &str, x_title: &str, series: &[Series], mark_x: Option<f64>) -> Value {
    let mut traces: Vec<Value> = series
        .iter()
        .map(|s| json!({"type": "scatter", "mode": "lines+markers", "name": s.name, "x": s.x, "y": s.y}))
        .collect();
    if let Some(m) = mark_x {
        for s in series {
            if let Some(i) = s.x.iter().position(|&x| x == m) {
                traces.push(json!({"type": "scatter", "mode": "markers", "showlegend": false,
                    "x": [m], "y": [s.y[i]],
                    "marker": {"size": 14, "color": "rgba(0,0,0,0)", "line": {"width": 2, "color": "#d62728"}}}));
            }
        }
    }
    json!({"data": traces, "layout": {"title": {"text": title}, "xaxis": {"title": {"text": x_title}}, "height": 320}})
}

/// A plotly scatter (scattergl), one trace per group, with hover texts.
pub fn plotly_scatter(
    title: &str,
    points: &[[f32; 2]],
    groups: &[usize],
    names: &[String],
    hover: &[String],
) -> Value {
    let k = groups.iter().max().map_or(0, |&m| m + 1);
    let traces: Vec<Value> = (0..k)
        .map(|g| {
            let idx: Vec<usize> = (0..points.len()).filter(|&i| groups[i] == g).collect();
            json!({
                "type": "scattergl", "mode": "markers",
                "name": names.get(g).map_or_else(|| format!("cluster {g}"), |n| escape(n)),
                "x": idx.iter().map(|&i| points[i][0]).collect::<Vec<_>>(),
                "y": idx.iter().map(|&i| points[i][1]).collect::<Vec<_>>(),
                "text": idx.iter().map(|&i| hover.get(i).map_or_else(String::new, |h| escape(h))).collect::<Vec<_>>(),
                "marker": {"size": 5}
            })
        })
        .collect();
    json!({"data": traces, "layout": {"title": {"text": title}, "height": 480}})
}

/// The evcxr protocol: HTML, and a plotly figure when there is one.
pub fn evcxr_payload(html: &str, plotly: Option<&Value>) -> String {
    let mut s = format!("EVCXR_BEGIN_CONTENT text/html\n{html}\nEVCXR_END_CONTENT\n");
    if let Some(fig) = plotly {
        let _ = write!(
            s,
            "EVCXR_BEGIN_CONTENT application/vnd.plotly.v1+json\n{fig}\nEVCXR_END_CONTENT\n"
        );
    }
    s
}

/// What a result shows in a notebook: HTML always (tables, inline SVG charts, drawn offline in
/// any viewer) and a plotly figure where it has a chart. Every result type implements it beside
/// its stage; [`evcxr_display!`] gives the type the inherent `evcxr_display` that evcxr calls.
pub trait Rich {
    /// The value as compact, escaped HTML.
    fn to_html(&self) -> String;
    /// The value's chart as a plotly figure, where it has one.
    fn to_plotly(&self) -> Option<Value> {
        None
    }
    /// What `evcxr_display` prints: [`evcxr_payload`] of the two.
    fn evcxr_text(&self) -> String {
        evcxr_payload(&self.to_html(), self.to_plotly().as_ref())
    }
}

/// Writes `text` (an [`evcxr_payload`]) to stdout, where evcxr reads it: the only code in the
/// library that writes to stdout.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Gives a [`Rich`] type the inherent `evcxr_display` that evcxr looks for (no trait to
/// import in a notebook).
macro_rules! evcxr_display {
    ($t:ty) => {
        impl $t {
            /// Shows the value in an evcxr notebook cell: HTML with SVG charts, and the plotly
            /// figure where there is one (see [`crate::display::Rich`]).
            pub fn evcxr_display(&self) {
                $crate::display::emit(&$crate::display::Rich::evcxr_text(self));
            }
        }
    };
}
pub(crate) use evcxr_display;

mod scatter;

pub use scatter::Scatter;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_escape_and_truncate() {
        let rows: Vec<Vec<String>> = (0..5)
            .map(|i| vec![i.to_string(), "<script>x</script>".into()])
            .collect();
        let t = table(&["row", "text"], &rows, 3);
        assert!(!t.contains("<script>"));
        assert_eq!(t.matches("&lt;script&gt;").count(), 3);
        assert!(t.contains("2 more rows"));
    }

    #[test]
    fn line_charts_mark_the_chosen_point() {
        let s = Series {
            name: "silhouette".into(),
            x: vec![2.0, 3.0, 4.0],
            y: vec![0.1, 0.3, 0.2],
        };
        let svg = line_svg("Silhouette", std::slice::from_ref(&s), Some(3.0));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 4, "3 points and the ring");
        assert!(svg.contains("stroke=\"#d62728\""));
        let fig = plotly_lines("Silhouette", "k", &[s], Some(3.0));
        assert_eq!(fig["data"].as_array().unwrap().len(), 2);
        assert_eq!(fig["data"][1]["y"][0], 0.3);
    }

    #[test]
    fn scatter_colours_groups_and_escapes_hover() {
        let pts = [[0.0f32, 0.0], [1.0, 1.0], [2.0, 0.5]];
        let svg = scatter_svg("map", &pts, &[0, 1, 1]);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains(COLOURS[0]) && svg.contains(COLOURS[1]));
        let fig = plotly_scatter(
            "map",
            &pts,
            &[0, 1, 1],
            &["a<b".into()],
            &["<i>x</i>".into()],
        );
        assert_eq!(fig["data"][0]["name"], "a&lt;b");
        assert_eq!(fig["data"][0]["text"][0], "&lt;i&gt;x&lt;/i&gt;");
        assert_eq!(fig["data"][1]["name"], "cluster 1");
    }

    #[test]
    fn the_evcxr_payload_wraps_each_mime_type() {
        let p = evcxr_payload("<b>x</b>", Some(&json!({"data": []})));
        assert!(p.starts_with("EVCXR_BEGIN_CONTENT text/html\n<b>x</b>\nEVCXR_END_CONTENT\n"));
        assert!(p.contains(
            "EVCXR_BEGIN_CONTENT application/vnd.plotly.v1+json\n{\"data\":[]}\nEVCXR_END_CONTENT"
        ));
        assert_eq!(
            evcxr_payload("a", None)
                .matches("EVCXR_BEGIN_CONTENT")
                .count(),
            1
        );
    }
}
